import { readDarFile } from '../dar/index.js';
import type { Identifier, Package } from '../lf/ast.js';
import { PackageRegistry } from '../lf/packages.js';
import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import type { Value } from '../values/value.js';
import type { ContractInstance, ContractMetadata, ExerciseEvent, FetchEvent, LedgerHost } from './host.js';
import { Interpreter, type InterpreterOptions } from './interpreter.js';

/**
 * Test support: loads a DAR, names stdlib definitions and type-class instances the way the compiled modules
 * do, and records the callbacks of Update runs. Not used by production code.
 */

/** Daml-LF's spelling of a Haskell-level name: `$` doubled, other non-identifier characters as `$uXXXX`. */
export function lfName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (ch === '$') out += '$$';
    else if (/[A-Za-z0-9_]/.test(ch)) out += ch;
    else out += `$u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
  }
  return out;
}

export class DarFixture {
  readonly registry = new PackageRegistry();
  readonly traces: string[] = [];
  readonly interpreter: Interpreter;
  readonly main: Package;

  constructor(path: string, options: InterpreterOptions = {}) {
    const dar = readDarFile(path);
    this.registry.addAll(dar.packages);
    this.main = dar.main;
    this.interpreter = new Interpreter(this.registry, { trace: (m) => this.traces.push(m), ...options });
  }

  /** The package named `name` (the preferred version). */
  package(name: string): Package {
    const id = this.registry.preferredPackageId(name) ?? crash(`no package ${name}`);
    return this.registry.getPackage(id);
  }

  /** `name` (Haskell spelling) in `module` of package `pkg` (a package name, or the main package by default). */
  id(module: string, name: string, pkg?: string): Identifier {
    const p = pkg === undefined ? this.main : this.package(pkg);
    return { packageId: p.id, module: module.split('.'), name: [lfName(name)] };
  }

  value(module: string, name: string, pkg?: string): Value {
    return this.interpreter.value(this.id(module, name, pkg));
  }

  /** The dictionary of `instance cls ty` (e.g. `Show`, `Int`), searched in daml-prim and daml-stdlib. */
  instance(cls: string, ty: string): Value {
    const name = lfName(`$f${cls}${ty}`);
    for (const pkg of [this.package('daml-prim'), this.package('daml-stdlib')]) {
      for (const m of pkg.modules()) {
        if (m.values.has(name))
          return this.interpreter.value({ packageId: pkg.id, module: m.name, name: [name] });
      }
    }
    return crash(`no instance ${cls} ${ty}`);
  }

  call(fn: Value, ...args: Value[]): Value {
    return this.interpreter.apply(fn, args);
  }

  /** The type constructor `module:name` (not escaped) of package `pkg` (default: the main package). */
  tycon(module: string, name: string, pkg?: string): Identifier {
    const p = pkg === undefined ? this.main : this.package(pkg);
    return { packageId: p.id, module: module.split('.'), name: name.split('.') };
  }

  /** A record value of type `tycon`, fields given by name (in any order; all must be given). */
  record(tycon: Identifier, fields: Readonly<Record<string, Value>>): Value {
    const def = this.registry.getDataType(tycon);
    if (def.cons.tag !== 'Record') return crash(`${tycon.name.join('.')} is not a record`);
    const names = def.cons.fields.map((f) => f.field);
    return {
      kind: 'Record',
      tycon,
      fields: names,
      values: names.map((n) => fields[n] ?? crash(`missing field ${n}`)),
    };
  }
}

export type HostEvent =
  | { readonly kind: 'create'; readonly cid: string; readonly contract: ContractMetadata }
  | { readonly kind: 'fetch'; readonly event: FetchEvent }
  | { readonly kind: 'exercise'; readonly event: ExerciseEvent }
  | { readonly kind: 'endExercise'; readonly result: Value }
  | { readonly kind: 'abortExercise' }
  | { readonly kind: 'beginTry' }
  | { readonly kind: 'endTry' }
  | { readonly kind: 'rollbackTry' }
  | { readonly kind: 'getTime' }
  | { readonly kind: 'ledgerTimeLt'; readonly time: bigint };

/**
 * An in-memory ledger for tests: contracts by id, archived on consuming exercises, and a log of callbacks.
 * Contract ids are V1 local ids numbered from 1. It does no authorization and no rollback bookkeeping.
 */
export class RecordingHost implements LedgerHost {
  readonly events: HostEvent[] = [];
  readonly contracts = new Map<string, { instance: ContractInstance; active: boolean }>();
  private next = 1;

  constructor(private readonly time = 0n) {}

  add(instance: ContractInstance): ContractId {
    const suffix = (this.next++).toString(16).padStart(64, '0');
    const cid: ContractId = { coid: `00${suffix}`, version: 1, local: suffix, suffix: '' };
    this.contracts.set(cid.coid, { instance, active: true });
    return cid;
  }

  lookupContract(cid: ContractId): ContractInstance {
    const c = this.contracts.get(cid.coid);
    if (c === undefined || !c.active) return crash(`contract ${cid.coid} is not active`);
    return c.instance;
  }

  create(contract: ContractMetadata): ContractId {
    const cid = this.add({ templateId: contract.templateId, arg: contract.arg });
    this.events.push({ kind: 'create', cid: cid.coid, contract });
    return cid;
  }

  fetch(event: FetchEvent): void {
    this.events.push({ kind: 'fetch', event });
  }

  beginExercise(event: ExerciseEvent): void {
    if (event.consuming) this.contracts.get(event.contractId.coid)!.active = false;
    this.events.push({ kind: 'exercise', event });
  }

  endExercise(result: Value): void {
    this.events.push({ kind: 'endExercise', result });
  }

  abortExercise(): void {
    this.events.push({ kind: 'abortExercise' });
  }

  getTime(): bigint {
    this.events.push({ kind: 'getTime' });
    return this.time;
  }

  ledgerTimeLt(time: bigint): boolean {
    this.events.push({ kind: 'ledgerTimeLt', time });
    return this.time < time;
  }

  beginTry(): void {
    this.events.push({ kind: 'beginTry' });
  }

  endTry(): void {
    this.events.push({ kind: 'endTry' });
  }

  rollbackTry(): void {
    this.events.push({ kind: 'rollbackTry' });
  }
}
