import type { Type } from '../lf/ast.js';
import { substitute } from '../lf/packages.js';
import { compareIdentifiers } from '../values/compare.js';
import { interpretationError } from '../values/errors.js';
import { mapEntries, mapFromSorted } from '../values/sorted-map.js';
import { identifierToString, NONE, qualifiedName, type Value } from '../values/value.js';
import type { Compiler } from './compiler.js';

/*
 * Smart-contract upgrades at run time (Daml-LF 2.1, as the reference engine's value import does when a contract
 * of one version is fetched or exercised through another version of its package name): the contract argument is
 * read as the target version's type.
 * - Upcast (target newer): fields the target appends are `None`.
 * - Downcast (target older): fields the target lacks are dropped, only if they are `None`; a variant or enum
 *   constructor the target lacks fails.
 * Values whose record type is exactly the target's (same package id, no type arguments) are returned unchanged:
 * the code that built them typed every nested value the same way.
 */

/** Reads `value` as a value of `target`; fails with an `Upgrade` interpretation error naming `contractId`. */
export function castValue(compiler: Compiler, value: Value, target: Type, contractId: string): Value {
  return cast({ compiler, contractId, target }, value, target);
}

interface Cast {
  readonly compiler: Compiler;
  readonly contractId: string;
  /** The whole target type, for messages. */
  readonly target: Type;
}

function fail(c: Cast, message: string): never {
  const what = c.target.tag === 'Con' ? identifierToString(c.target.tycon) : c.target.tag;
  return interpretationError(
    { kind: 'Upgrade', contractId: c.contractId, message },
    `contract ${c.contractId} cannot be read as ${what}: ${message}`,
  );
}

function cast(c: Cast, v: Value, t: Type): Value {
  if (t.tag === 'Builtin') return castBuiltin(c, v, t);
  if (t.tag !== 'Con') return v;
  // The exact type the value was built with: everything under it was typed alike.
  if (
    (v.kind === 'Record' || v.kind === 'Variant' || v.kind === 'Enum') &&
    t.args.length === 0 &&
    compareIdentifiers(v.tycon, t.tycon) === 0
  )
    return v;
  const info = c.compiler.dataInfo(t.tycon);
  const cons = info.def.cons;
  const params = info.def.params;
  const typeOf = (x: Type) =>
    params.length === 0 ? x : substitute(x, new Map(params.map((p, i) => [p.name, t.args[i]!])));
  switch (cons.tag) {
    case 'Record': {
      if (v.kind !== 'Record')
        return fail(c, `expected a record ${qualifiedName(t.tycon)}, found a ${v.kind}`);
      const values = cons.fields.map((f, i) => {
        if (i >= v.values.length) {
          if (f.type.tag !== 'Builtin' || f.type.builtin !== 'OPTIONAL')
            fail(
              c,
              `${qualifiedName(t.tycon)} has the field ${f.field} that the contract's version lacks, and it is not Optional`,
            );
          return NONE;
        }
        if (v.fields[i] !== f.field)
          fail(
            c,
            `field ${i} of ${qualifiedName(t.tycon)} is ${f.field}, but the contract's version has ${v.fields[i]}`,
          );
        return cast(c, v.values[i]!, typeOf(f.type));
      });
      for (let i = cons.fields.length; i < v.values.length; i++) {
        const extra = v.values[i]!;
        if (extra.kind !== 'Optional' || extra.value !== undefined)
          fail(
            c,
            `the field ${v.fields[i]} of ${qualifiedName(v.tycon)} is set, and ${identifierToString(t.tycon)} (an older version) lacks it`,
          );
      }
      return { kind: 'Record', tycon: t.tycon, fields: info.fields, values };
    }
    case 'Variant': {
      if (v.kind !== 'Variant')
        return fail(c, `expected a variant ${qualifiedName(t.tycon)}, found a ${v.kind}`);
      const rank = info.rank.get(v.constructor);
      if (rank === undefined)
        return fail(
          c,
          `${identifierToString(t.tycon)} (an older version) has no constructor ${v.constructor}`,
        );
      const value = cast(c, v.value, typeOf(cons.variants[rank]!.type));
      return { kind: 'Variant', tycon: t.tycon, constructor: v.constructor, rank, value };
    }
    case 'Enum': {
      if (v.kind !== 'Enum') return fail(c, `expected an enum ${qualifiedName(t.tycon)}, found a ${v.kind}`);
      const rank = info.rank.get(v.constructor);
      if (rank === undefined)
        return fail(
          c,
          `${identifierToString(t.tycon)} (an older version) has no constructor ${v.constructor}`,
        );
      return { kind: 'Enum', tycon: t.tycon, constructor: v.constructor, rank };
    }
    default:
      return v;
  }
}

/** Optional, List, TextMap and GenMap: their elements cast, the container rebuilt only if one changed. */
function castBuiltin(c: Cast, v: Value, t: Type & { tag: 'Builtin' }): Value {
  const [a, b] = t.args;
  switch (t.builtin) {
    case 'OPTIONAL': {
      if (v.kind !== 'Optional' || v.value === undefined) return v;
      const inner = cast(c, v.value, a!);
      return inner === v.value ? v : { kind: 'Optional', value: inner };
    }
    case 'LIST': {
      if (v.kind !== 'List' || v.length === 0) return v;
      const items: Value[] = [];
      let changed = false;
      for (let l: typeof v | undefined = v; l?.head !== undefined; l = l.tail) {
        const x = cast(c, l.head, a!);
        changed ||= x !== l.head;
        items.push(x);
      }
      if (!changed) return v;
      let out: typeof v = { kind: 'List', head: undefined, tail: undefined, length: 0 };
      for (let i = items.length - 1; i >= 0; i--)
        out = { kind: 'List', head: items[i], tail: out, length: items.length - i };
      return out;
    }
    case 'TEXTMAP':
    case 'GENMAP': {
      if (v.kind !== 'TextMap' && v.kind !== 'GenMap') return v;
      const gen = t.builtin === 'GENMAP';
      const entries = mapEntries(v.map);
      let changed = false;
      const cast2 = entries.map((e) => {
        const k = gen ? cast(c, e.key, a!) : e.key;
        const x = cast(c, e.value, gen ? b! : a!);
        changed ||= k !== e.key || x !== e.value;
        return [k, x] as const;
      });
      return changed ? { ...v, map: mapFromSorted(cast2) } : v;
    }
    default:
      return v;
  }
}
