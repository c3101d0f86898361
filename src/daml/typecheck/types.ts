import type { BuiltinType, Identifier, Kind, Type, TypeVarWithKind } from '../lf/ast.js';

/*
 * Type and kind helpers of the type checker: constructors for the builtin types, kinds of builtin types,
 * alpha-equivalence (optionally modulo type synonyms) and printing.
 */

export const STAR: Kind = Object.freeze({ tag: 'Star' });
export const NAT: Kind = Object.freeze({ tag: 'Nat' });

const arrowKind = (param: Kind, result: Kind): Kind => ({ tag: 'Arrow', param, result });
const STAR_TO_STAR = arrowKind(STAR, STAR);

/** Kinds of the builtin type constructors (Daml-LF spec, "Well-formed types"). */
export function kindOfBuiltin(b: BuiltinType): Kind {
  switch (b) {
    case 'NUMERIC':
      return arrowKind(NAT, STAR);
    case 'LIST':
    case 'UPDATE':
    case 'CONTRACT_ID':
    case 'OPTIONAL':
    case 'TEXTMAP':
      return STAR_TO_STAR;
    case 'ARROW':
    case 'GENMAP':
      return arrowKind(STAR, STAR_TO_STAR);
    default:
      return STAR;
  }
}

export function kindEquals(a: Kind, b: Kind): boolean {
  if (a === b || (a.tag === 'Star' && b.tag === 'Star') || (a.tag === 'Nat' && b.tag === 'Nat')) return true;
  return (
    a.tag === 'Arrow' && b.tag === 'Arrow' && kindEquals(a.param, b.param) && kindEquals(a.result, b.result)
  );
}

/** The kind of a type constructor with these parameters: `k₁ → … → kₙ → ⋆`. */
export function kindOfParams(params: readonly TypeVarWithKind[]): Kind {
  let k: Kind = STAR;
  for (let i = params.length - 1; i >= 0; i--) k = arrowKind(params[i]!.kind, k);
  return k;
}

const builtin = (b: BuiltinType, args: readonly Type[] = []): Type =>
  Object.freeze({ tag: 'Builtin', builtin: b, args });

export const T_UNIT = builtin('UNIT');
export const T_BOOL = builtin('BOOL');
export const T_INT64 = builtin('INT64');
export const T_TEXT = builtin('TEXT');
export const T_PARTY = builtin('PARTY');
export const T_DATE = builtin('DATE');
export const T_TIMESTAMP = builtin('TIMESTAMP');
export const T_ANY = builtin('ANY');
export const T_ANY_EXCEPTION = builtin('ANY_EXCEPTION');
export const T_TYPE_REP = builtin('TYPE_REP');
export const T_FAILURE_CATEGORY = builtin('FAILURE_CATEGORY');

export const tList = (t: Type): Type => builtin('LIST', [t]);
export const tOptional = (t: Type): Type => builtin('OPTIONAL', [t]);
export const tUpdate = (t: Type): Type => builtin('UPDATE', [t]);
export const tContractId = (t: Type): Type => builtin('CONTRACT_ID', [t]);
export const tTextMap = (t: Type): Type => builtin('TEXTMAP', [t]);
export const tGenMap = (k: Type, v: Type): Type => builtin('GENMAP', [k, v]);
export const tNumeric = (scale: Type): Type => builtin('NUMERIC', [scale]);
export const tNat = (value: number): Type => ({ tag: 'Nat', value });
export const tVar = (name: string): Type => ({ tag: 'Var', name, args: [] });
export const tCon = (tycon: Identifier, args: readonly Type[] = []): Type => ({ tag: 'Con', tycon, args });

export const T_PARTIES = tList(T_PARTY);

/** `a₁ → … → aₙ → r` */
export function tFun(...types: Type[]): Type {
  let t = types[types.length - 1]!;
  for (let i = types.length - 2; i >= 0; i--) t = builtin('ARROW', [types[i]!, t]);
  return t;
}

/** `∀ vars. body`, merging directly nested quantifiers as the decoder does. */
export function tForall(vars: readonly TypeVarWithKind[], body: Type): Type {
  if (vars.length === 0) return body;
  return body.tag === 'Forall'
    ? { tag: 'Forall', vars: [...vars, ...body.vars], body: body.body }
    : { tag: 'Forall', vars, body };
}

export function sameIdentifier(a: Identifier, b: Identifier): boolean {
  return (
    a === b ||
    (a.packageId === b.packageId && sameSegments(a.name, b.name) && sameSegments(a.module, b.module))
  );
}

function sameSegments(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `Module:Name`, how definitions are named in messages. */
export function qualifiedName(id: Identifier): string {
  return `${id.module.join('.')}:${id.name.join('.')}`;
}

/** The variables bound by the quantifiers entered on each side, outermost first: a binder's index is its depth. */
interface Binders {
  readonly left: readonly string[];
  readonly right: readonly string[];
}

/** Unfolds one type synonym application: the synonym's definition with the arguments substituted. */
export type SynonymUnfolder = (t: Type & { readonly tag: 'Syn' }) => Type;

/**
 * Alpha-equivalence: equal up to renaming of bound type variables. Struct fields are compared by name whatever
 * their order (the spec normalises structs by sorting fields) and nested quantifiers binder by binder
 * (`∀a. ∀b. t` ≡ `∀a b. t`). Without `unfold`, type synonyms are compared by name, as Canton's `AlphaEquiv`
 * does; with it, equality is modulo synonyms (the spec's `↠` normalisation), unfolding a synonym only where the
 * two types differ, so shared synonym applications are never expanded.
 */
export function alphaEquivalent(a: Type, b: Type, unfold?: SynonymUnfolder): boolean {
  return equiv(a, b, undefined, unfold);
}

function equiv(a: Type, b: Type, env: Binders | undefined, unfold: SynonymUnfolder | undefined): boolean {
  if (a === b && env === undefined) return true;
  if (unfold !== undefined && (a.tag === 'Syn' || b.tag === 'Syn')) {
    // Same synonym, equal arguments: equal. Otherwise compare the definitions (a synonym may ignore arguments).
    if (
      a.tag === 'Syn' &&
      b.tag === 'Syn' &&
      sameIdentifier(a.tysyn, b.tysyn) &&
      argsEquiv(a.args, b.args, env, unfold)
    )
      return true;
    return equiv(a.tag === 'Syn' ? unfold(a) : a, b.tag === 'Syn' ? unfold(b) : b, env, unfold);
  }
  switch (a.tag) {
    case 'Var': {
      if (b.tag !== 'Var') return false;
      const da = env === undefined ? -1 : env.left.lastIndexOf(a.name);
      const db = env === undefined ? -1 : env.right.lastIndexOf(b.name);
      if (da !== db || (da === -1 && a.name !== b.name)) return false;
      return argsEquiv(a.args, b.args, env, unfold);
    }
    case 'Con':
      return b.tag === 'Con' && sameIdentifier(a.tycon, b.tycon) && argsEquiv(a.args, b.args, env, unfold);
    case 'Builtin':
      return b.tag === 'Builtin' && a.builtin === b.builtin && argsEquiv(a.args, b.args, env, unfold);
    case 'Syn':
      return b.tag === 'Syn' && sameIdentifier(a.tysyn, b.tysyn) && argsEquiv(a.args, b.args, env, unfold);
    case 'Nat':
      return b.tag === 'Nat' && a.value === b.value;
    case 'Struct': {
      if (b.tag !== 'Struct' || a.fields.length !== b.fields.length) return false;
      for (let i = 0; i < a.fields.length; i++) {
        const fa = a.fields[i]!;
        const fb = b.fields[i]!.field === fa.field ? b.fields[i] : b.fields.find((f) => f.field === fa.field);
        if (fb === undefined || !equiv(fa.type, fb.type, env, unfold)) return false;
      }
      return true;
    }
    case 'Forall': {
      if (b.tag !== 'Forall') return false;
      const [varsA, bodyA] = flattenForall(a);
      const [varsB, bodyB] = flattenForall(b);
      if (varsA.length !== varsB.length) return false;
      for (let i = 0; i < varsA.length; i++) if (!kindEquals(varsA[i]!.kind, varsB[i]!.kind)) return false;
      const left = [...(env?.left ?? []), ...varsA.map((v) => v.name)];
      const right = [...(env?.right ?? []), ...varsB.map((v) => v.name)];
      return equiv(bodyA, bodyB, { left, right }, unfold);
    }
  }
}

function argsEquiv(
  a: readonly Type[],
  b: readonly Type[],
  env: Binders | undefined,
  unfold: SynonymUnfolder | undefined,
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equiv(a[i]!, b[i]!, env, unfold)) return false;
  return true;
}

function flattenForall(t: Type & { tag: 'Forall' }): [TypeVarWithKind[], Type] {
  const vars = [...t.vars];
  let body = t.body;
  while (body.tag === 'Forall') {
    vars.push(...body.vars);
    body = body.body;
  }
  return [vars, body];
}

const BUILTIN_NAMES: Readonly<Record<BuiltinType, string>> = {
  UNIT: 'Unit',
  BOOL: 'Bool',
  INT64: 'Int64',
  DATE: 'Date',
  TIMESTAMP: 'Timestamp',
  NUMERIC: 'Numeric',
  PARTY: 'Party',
  TEXT: 'Text',
  CONTRACT_ID: 'ContractId',
  OPTIONAL: 'Optional',
  LIST: 'List',
  GENMAP: 'GenMap',
  ANY: 'Any',
  ANY_EXCEPTION: 'AnyException',
  TYPE_REP: 'TypeRep',
  ARROW: '(->)',
  UPDATE: 'Update',
  FAILURE_CATEGORY: 'FailureCategory',
  TEXTMAP: 'TextMap',
};

export function showKind(k: Kind): string {
  switch (k.tag) {
    case 'Star':
      return '*';
    case 'Nat':
      return 'nat';
    case 'Arrow':
      return `${k.param.tag === 'Arrow' ? `(${showKind(k.param)})` : showKind(k.param)} -> ${showKind(k.result)}`;
  }
}

/** Daml-LF-like text of a type: `Numeric 10`, `ContractId Mod:T`, `a -> List b`, `forall a. a`. */
export function showType(t: Type): string {
  switch (t.tag) {
    case 'Builtin':
      if (t.builtin === 'ARROW' && t.args.length === 2) {
        const [param, result] = t.args as [Type, Type];
        return `${isArrowOrForall(param) ? `(${showType(param)})` : showType(param)} -> ${showType(result)}`;
      }
      return spine(BUILTIN_NAMES[t.builtin], t.args);
    case 'Var':
      return spine(t.name, t.args);
    case 'Con':
      return spine(qualifiedName(t.tycon), t.args);
    case 'Syn':
      return spine(qualifiedName(t.tysyn), t.args);
    case 'Nat':
      return String(t.value);
    case 'Struct':
      return `<${t.fields.map((f) => `${f.field}: ${showType(f.type)}`).join(', ')}>`;
    case 'Forall':
      return `forall ${t.vars.map((v) => (v.kind.tag === 'Star' ? v.name : `(${v.name} : ${showKind(v.kind)})`)).join(' ')}. ${showType(t.body)}`;
  }
}

function isArrowOrForall(t: Type): boolean {
  return t.tag === 'Forall' || (t.tag === 'Builtin' && t.builtin === 'ARROW' && t.args.length === 2);
}

function spine(head: string, args: readonly Type[]): string {
  if (args.length === 0) return head;
  const shown = args.map((a) => {
    const s = showType(a);
    const atomic = a.tag === 'Nat' || a.tag === 'Struct' || (a.tag !== 'Forall' && a.args.length === 0);
    return atomic ? s : `(${s})`;
  });
  return `${head} ${shown.join(' ')}`;
}
