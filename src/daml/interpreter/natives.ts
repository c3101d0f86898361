import { ArithmeticFailure, type BuiltinDef, builtin } from '../builtins/builtins.js';
import type { BuiltinFunction, Identifier } from '../lf/ast.js';
import { compareIdentifiers } from '../values/compare.js';
import type { ContractId } from '../values/contract-id.js';
import { crash, interpretationError } from '../values/errors.js';
import {
  type AnyValue,
  bool,
  contractId,
  identifierToString,
  type ListValue,
  listToArray,
  NONE,
  qualifiedName,
  some,
  timestamp,
  type Value,
} from '../values/value.js';
import { type ChoiceCode, idKey, type TemplateCode } from './compiler.js';
import type { ContractInstance, ContractMetadata } from './host.js';
import type { NativeCode, PrimOp } from './ir.js';
import { type Machine, Suspension } from './machine.js';
import { arithmeticError, isArithmeticError } from './stable.js';
import { castValue } from './upgrade.js';

type Then = (m: Machine, v: Value) => Value | undefined;

function native(name: string, arity: number, run: PrimOp): NativeCode {
  return Object.freeze({ kind: 'native', name, arity, run });
}

function expectKind<K extends Value['kind']>(v: Value | undefined, kind: K): Extract<Value, { kind: K }> {
  if (v?.kind !== kind) return crash(`expected a ${kind} value, got ${v?.kind}`);
  return v as Extract<Value, { kind: K }>;
}

/** The template payload of an interface value (`Any` typed by the template). */
function interfacePayload(v: Value | undefined): { templateId: Identifier; arg: Value; any: AnyValue } {
  const any = expectKind(v, 'Any');
  if (any.type.tag !== 'Con') return crash('an interface value must wrap a template');
  return { templateId: any.type.tycon, arg: any.value, any };
}

/** A party list (or a single party) as a sorted set, as the reference engine's `extractParties`. */
function parties(v: Value): string[] {
  const out = new Set<string>();
  if (v.kind === 'Party') out.add(v.value);
  else
    for (let l = expectKind(v, 'List'); l.tail !== undefined; l = l.tail)
      out.add(expectKind(l.head, 'Party').value);
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameId(a: Identifier, b: Identifier): boolean {
  return compareIdentifiers(a, b) === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Ledger primitives

function template(m: Machine, id: Identifier): TemplateCode {
  return m.compiler.template(id) ?? crash(`${identifierToString(id)} is not a template`);
}

/**
 * Evaluates precondition, signatories and observers, in that order. For a create, exceptions they throw may be
 * caught; for a fetched contract they may not (its metadata is a fact about the ledger).
 */
function computeMetadata(
  m: Machine,
  tmpl: TemplateCode,
  arg: Value,
  preventCatch: boolean,
  then: (m: Machine, metadata: ContractMetadata) => Value | undefined,
): undefined {
  const call = (fn: Value, next: Then) =>
    preventCatch ? m.callPreventingCatch(fn, [arg], next) : m.call(fn, [arg], next);
  return call(tmpl.precondition, (_m, ok) => {
    if (!expectKind(ok, 'Bool').value) {
      const id = identifierToString(tmpl.id);
      return interpretationError(
        { kind: 'TemplatePreconditionViolated', templateId: id },
        `template precondition violated for a contract of ${id}`,
      );
    }
    return call(tmpl.signatories, (m, signatories) =>
      call(tmpl.observers, (_m, observers) =>
        then(m, {
          templateId: tmpl.id,
          arg,
          signatories: parties(signatories),
          observers: parties(observers),
        }),
      ),
    );
  });
}

/** The metadata of contract `cid`, computed (and cached for the run) on first use. */
function withMetadata(
  m: Machine,
  cid: ContractId,
  tmpl: TemplateCode,
  arg: Value,
  then: (m: Machine, metadata: ContractMetadata) => Value | undefined,
): Value | undefined {
  const cached = m.contractMetadata.get(cid.coid);
  // A contract read through two versions of its template in one run has the metadata of each.
  if (cached !== undefined && sameId(cached.templateId, tmpl.id)) return then(m, cached);
  return computeMetadata(m, tmpl, arg, true, (m, metadata) => {
    m.contractMetadata.set(cid.coid, metadata);
    return then(m, metadata);
  });
}

/** Asks the host for a contract, suspending the machine if the host answers with a promise. */
function lookup(m: Machine, cid: ContractId, then: (m: Machine, c: ContractInstance) => Value | undefined) {
  const found = m.host.lookupContract(cid);
  if (found instanceof Promise)
    throw new Suspension(found, (m, answer) => then(m, answer as ContractInstance));
  return then(m, found);
}

/** The template argument of an interface payload when it is an instance of `templateId` (of any version). */
function templateArg(
  m: Machine,
  p: ReturnType<typeof interfacePayload>,
  templateId: Identifier,
): Value | undefined {
  if (sameId(p.templateId, templateId)) return p.arg;
  if (!otherVersion(m, p.templateId, templateId)) return undefined;
  return castValue(m.compiler, p.arg, template(m, templateId).type, 'of an interface value');
}

/** Whether two templates are the same template of two versions of one package name. */
function otherVersion(m: Machine, a: Identifier, b: Identifier): boolean {
  if (qualifiedName(a) !== qualifiedName(b)) return false;
  const name = (id: Identifier) => m.compiler.packages.lookupPackage(id.packageId)?.metadata.name;
  return name(a) === name(b);
}

/**
 * The version of a contract's template that Daml code reaching it through an interface uses: the one the run's
 * package resolution names for the package name, if that package has the template, else the contract's own.
 */
function dispatchTemplate(m: Machine, contractTemplate: Identifier): Identifier {
  const pkg = m.compiler.packages.lookupPackage(contractTemplate.packageId);
  const resolved = pkg === undefined ? undefined : m.packageResolution.get(pkg.metadata.name);
  if (resolved === undefined || resolved === contractTemplate.packageId) return contractTemplate;
  const target = { ...contractTemplate, packageId: resolved };
  return m.compiler.template(target) === undefined ? contractTemplate : target;
}

/** A contract's argument as the template version `tmpl` reads it (upgraded or downgraded if needed). */
function argumentAs(m: Machine, c: ContractInstance, tmpl: TemplateCode, cid: ContractId): Value {
  return sameId(c.templateId, tmpl.id) ? c.arg : castValue(m.compiler, c.arg, tmpl.type, cid.coid);
}

/** `fetch`'s view of a contract: its argument, if it is an instance of `tmpl`. */
function fetchTemplate(
  m: Machine,
  tmpl: TemplateCode,
  cid: ContractId,
  then: (m: Machine, arg: Value, metadata: ContractMetadata) => Value | undefined,
): Value | undefined {
  return lookup(m, cid, (m, c) => {
    if (!sameId(c.templateId, tmpl.id) && !otherVersion(m, c.templateId, tmpl.id)) {
      return interpretationError(
        {
          kind: 'WronglyTypedContract',
          contractId: cid.coid,
          expected: identifierToString(tmpl.id),
          actual: identifierToString(c.templateId),
        },
        `contract ${cid.coid} is a ${identifierToString(c.templateId)}, not a ${identifierToString(tmpl.id)}`,
      );
    }
    // Another version of the template: its ensure, signatories and observers are evaluated as that version
    // defines them, and the host compares the parties with the contract's.
    const arg = argumentAs(m, c, tmpl, cid);
    return withMetadata(m, cid, tmpl, arg, (m, metadata) => then(m, arg, metadata));
  });
}

/** `fetch_interface`'s view of a contract: an interface value, if its template implements `iface`. */
function fetchInterface(
  m: Machine,
  iface: Identifier,
  cid: ContractId,
  then: (m: Machine, payload: AnyValue, metadata: ContractMetadata) => Value | undefined,
): Value | undefined {
  return lookup(m, cid, (m, c) => {
    const tmpl = template(m, dispatchTemplate(m, c.templateId));
    if (tmpl.implementation(iface) === undefined) {
      return interpretationError(
        {
          kind: 'ContractDoesNotImplementInterface',
          contractId: cid.coid,
          interfaceId: identifierToString(iface),
          templateId: identifierToString(c.templateId),
        },
        `contract ${cid.coid} of ${identifierToString(c.templateId)} does not implement ${identifierToString(iface)}`,
      );
    }
    const arg = argumentAs(m, c, tmpl, cid);
    return withMetadata(m, cid, tmpl, arg, (m, metadata) =>
      then(m, { kind: 'Any', type: tmpl.type, value: arg }, metadata),
    );
  });
}

function create(m: Machine, tmpl: TemplateCode, arg: Value): undefined {
  return computeMetadata(m, tmpl, arg, false, (m, metadata) => {
    const cid = m.host.create(metadata);
    m.contractMetadata.set(cid.coid, metadata);
    return contractId(cid);
  });
}

/**
 * A choice: controllers, then choice observers (exceptions in either cannot be caught), then the exercise opens
 * (a consuming choice archives the contract there) and the body runs with the contract, its id and the argument.
 */
function exercise(
  m: Machine,
  cid: ContractId,
  interfaceId: Identifier | undefined,
  choice: ChoiceCode,
  contract: Value,
  arg: Value,
  metadata: ContractMetadata,
): undefined {
  return m.callPreventingCatch(choice.controllers, [contract, arg], (m, controllers) =>
    m.callPreventingCatch(choice.observers, [contract, arg], (m, observers) => {
      m.host.beginExercise({
        contractId: cid,
        interfaceId,
        choice: choice.def.name,
        consuming: choice.def.consuming,
        controllers: parties(controllers),
        choiceObservers: parties(observers),
        choiceArgument: arg,
        contract: metadata,
      });
      return m.enterExercise(choice.body, [contract, contractId(cid), arg]);
    }),
  );
}

/**
 * The functions the compiler links into machine code: builtins, the primitives behind each Update form and
 * interface dispatch. Natives are created once per distinct template/choice and shared.
 */
export class Natives {
  private readonly builtins = new Map<BuiltinFunction, NativeCode>();
  private readonly cache = new Map<string, NativeCode | PrimOp>();

  readonly pure = native('pure', 2, (_m, [v]) => v!);
  readonly getTime = native('getTime', 1, (m) => timestamp(m.host.getTime()));
  readonly ledgerTimeLt = native('ledgerTimeLT', 2, (m, [t]) =>
    bool(m.host.ledgerTimeLt(expectKind(t, 'Timestamp').micros)),
  );
  readonly createInterface = native('create_interface', 2, (m, [v]) => {
    const { templateId, arg } = interfacePayload(v);
    return create(m, template(m, templateId), arg);
  });

  readonly interfaceTemplateTypeRep: PrimOp = (_m, [v]) => ({
    kind: 'TypeRep',
    type: interfacePayload(v).any.type,
  });

  private memo<T extends NativeCode | PrimOp>(key: string, make: () => T): T {
    let f = this.cache.get(key);
    if (f === undefined) {
      f = make();
      this.cache.set(key, f);
    }
    return f as T;
  }

  builtin(name: BuiltinFunction): NativeCode {
    let code = this.builtins.get(name);
    if (code === undefined) {
      code = native(name, builtin(name).arity, machineBuiltins[name] ?? pureBuiltin(builtin(name)));
      this.builtins.set(name, code);
    }
    return code;
  }

  /** The value of a builtin of arity 0 (the empty maps). */
  constant(name: BuiltinFunction): Value {
    const def = builtin(name);
    return def.run?.([], { onLedger: false, trace: () => {} }) ?? crash(`builtin ${name} is not a constant`);
  }

  create(templateId: Identifier): NativeCode {
    return this.memo(`create ${idKey(templateId)}`, () =>
      native(`create ${identifierToString(templateId)}`, 2, (m, [arg]) =>
        create(m, template(m, templateId), arg!),
      ),
    );
  }

  exercise(templateId: Identifier, choiceName: string): NativeCode {
    return this.memo(`exercise ${idKey(templateId)} ${choiceName}`, () =>
      native(`exercise ${identifierToString(templateId)} ${choiceName}`, 3, (m, [cid, arg]) => {
        const tmpl = template(m, templateId);
        const choice =
          tmpl.choice(choiceName) ?? crash(`${identifierToString(templateId)} has no choice ${choiceName}`);
        const id = expectKind(cid, 'ContractId').cid;
        return fetchTemplate(m, tmpl, id, (m, contract, metadata) =>
          exercise(m, id, undefined, choice, contract, arg!, metadata),
        );
      }),
    );
  }

  exerciseInterface(ifaceId: Identifier, choiceName: string): NativeCode {
    return this.memo(`exercise_interface ${idKey(ifaceId)} ${choiceName}`, () =>
      native(`exercise_interface ${identifierToString(ifaceId)} ${choiceName}`, 3, (m, [cid, arg]) => {
        const iface =
          m.compiler.interface(ifaceId) ?? crash(`${identifierToString(ifaceId)} is not an interface`);
        const choice =
          iface.choice(choiceName) ?? crash(`${identifierToString(ifaceId)} has no choice ${choiceName}`);
        const id = expectKind(cid, 'ContractId').cid;
        return fetchInterface(m, ifaceId, id, (m, payload, metadata) =>
          exercise(m, id, ifaceId, choice, payload, arg!, metadata),
        );
      }),
    );
  }

  fetch(templateId: Identifier): NativeCode {
    return this.memo(`fetch ${idKey(templateId)}`, () =>
      native(`fetch ${identifierToString(templateId)}`, 2, (m, [cid]) => {
        const id = expectKind(cid, 'ContractId').cid;
        return fetchTemplate(m, template(m, templateId), id, (m, arg, contract) => {
          m.host.fetch({ contractId: id, interfaceId: undefined, contract });
          return arg;
        });
      }),
    );
  }

  fetchInterface(ifaceId: Identifier): NativeCode {
    return this.memo(`fetch_interface ${idKey(ifaceId)}`, () =>
      native(`fetch_interface ${identifierToString(ifaceId)}`, 2, (m, [cid]) => {
        const id = expectKind(cid, 'ContractId').cid;
        return fetchInterface(m, ifaceId, id, (m, payload, contract) => {
          m.host.fetch({ contractId: id, interfaceId: ifaceId, contract });
          return payload;
        });
      }),
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Interface values

  /** `from_interface @I @T`: the template payload if the interface value wraps a `T`. */
  fromInterface(templateId: Identifier): PrimOp {
    return this.memo(`from_interface ${idKey(templateId)}`, () => (m: Machine, [v]: Value[]) => {
      const arg = templateArg(m, interfacePayload(v), templateId);
      return arg === undefined ? NONE : some(arg);
    });
  }

  /** LF 2.1's `unsafe_from_interface`: like `fromInterface`, but a payload of another template is an error. */
  unsafeFromInterface(templateId: Identifier): PrimOp {
    return this.memo(`unsafe_from_interface ${idKey(templateId)}`, () => (m: Machine, [cid, v]: Value[]) => {
      const p = interfacePayload(v);
      const arg = templateArg(m, p, templateId);
      if (arg !== undefined) return arg;
      const coid = expectKind(cid, 'ContractId').cid.coid;
      return interpretationError(
        {
          kind: 'WronglyTypedContract',
          contractId: coid,
          expected: identifierToString(templateId),
          actual: identifierToString(p.templateId),
        },
        `contract ${coid} is a ${identifierToString(p.templateId)}, not a ${identifierToString(templateId)}`,
      );
    });
  }

  callInterface(ifaceId: Identifier, method: string): PrimOp {
    return this.memo(`call_interface ${idKey(ifaceId)} ${method}`, () => (m: Machine, [v]: Value[]) => {
      const p = interfacePayload(v);
      const fn = implementation(m, ifaceId, p.templateId).methods.get(method);
      return m.apply(fn ?? crash(`${identifierToString(ifaceId)} has no method ${method}`), [p.arg]);
    });
  }

  viewInterface(ifaceId: Identifier): PrimOp {
    return this.memo(`view_interface ${idKey(ifaceId)}`, () => (m: Machine, [v]: Value[]) => {
      const p = interfacePayload(v);
      return m.apply(implementation(m, ifaceId, p.templateId).view, [p.arg]);
    });
  }

  /** `signatory_interface` / `observer_interface`: the template's parties for the wrapped contract. */
  interfaceParties(which: 'signatories' | 'observers'): PrimOp {
    return this.memo(`${which}_interface`, () => (m: Machine, [v]: Value[]) => {
      const p = interfacePayload(v);
      return m.apply(template(m, p.templateId)[which], [p.arg]);
    });
  }

  /** `from_required_interface @Req @I`: the value as an `I`, if its template implements `I`. */
  fromRequiredInterface(requiring: Identifier): PrimOp {
    return this.memo(`from_required_interface ${idKey(requiring)}`, () => (m: Machine, [v]: Value[]) => {
      const p = interfacePayload(v);
      return template(m, p.templateId).implementation(requiring) === undefined ? NONE : some(p.any);
    });
  }

  unsafeFromRequiredInterface(required: Identifier, requiring: Identifier): PrimOp {
    return this.memo(
      `unsafe_from_required_interface ${idKey(required)} ${idKey(requiring)}`,
      () =>
        (m: Machine, [cid, v]: Value[]) => {
          const p = interfacePayload(v);
          if (template(m, p.templateId).implementation(requiring) !== undefined) return p.any;
          const coid = expectKind(cid, 'ContractId').cid.coid;
          return interpretationError(
            {
              kind: 'ContractDoesNotImplementRequiringInterface',
              contractId: coid,
              requiredInterfaceId: identifierToString(required),
              requiringInterfaceId: identifierToString(requiring),
              templateId: identifierToString(p.templateId),
            },
            `contract ${coid} of ${identifierToString(p.templateId)} does not implement ${identifierToString(requiring)}`,
          );
        },
    );
  }
}

function implementation(m: Machine, ifaceId: Identifier, templateId: Identifier) {
  return (
    template(m, templateId).implementation(ifaceId) ??
    crash(`${identifierToString(templateId)} does not implement ${identifierToString(ifaceId)}`)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Builtins

/** A builtin computed by `builtins/`: an arithmetic failure becomes a catchable `ArithmeticError`. */
function pureBuiltin(def: BuiltinDef): PrimOp {
  const run = def.run ?? crash(`builtin ${def.name} has no implementation`);
  return (m, args) => {
    try {
      return run(args, m);
    } catch (e) {
      if (e instanceof ArithmeticFailure) return m.throwException(arithmeticError(e.message));
      throw e;
    }
  };
}

/** The builtins that call back into Daml code. */
const machineBuiltins: Partial<Record<BuiltinFunction, PrimOp>> = {
  FOLDL: (m, [f, init, list]) => m.foldl(f!, init!, expectKind(list, 'List')),
  FOLDR: (m, [f, init, list]) => m.foldr(f!, init!, listToArray(expectKind(list, 'List') as ListValue)),
  EQUAL_LIST: (m, [f, xs, ys]) => m.equalList(f!, expectKind(xs, 'List'), expectKind(ys, 'List')),
  ANY_EXCEPTION_MESSAGE: (m, [e]) => {
    const any = expectKind(e, 'Any');
    const payload = expectKind(any.value, 'Record');
    if (isArithmeticError(payload.tycon)) return payload.values[0]!;
    return m.apply(m.compiler.exceptionMessage(payload.tycon), [payload]);
  },
};
