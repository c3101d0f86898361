import type { Identifier, Type } from '../lf/ast.js';
import { substitute } from '../lf/packages.js';
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
  const fail = (message: string): never =>
    interpretationError(
      { kind: 'Upgrade', contractId, message },
      `contract ${contractId} cannot be read as ${describe(target)}: ${message}`,
    );
  const cast = (v: Value, t: Type): Value => {
    if (t.tag === 'Builtin') {
      const [a, b] = t.args;
      switch (t.builtin) {
        case 'OPTIONAL':
          if (v.kind !== 'Optional' || v.value === undefined) return v;
          return { kind: 'Optional', value: cast(v.value, a!) };
        case 'LIST': {
          if (v.kind !== 'List' || v.length === 0) return v;
          const items: Value[] = [];
          let changed = false;
          for (let l: typeof v | undefined = v; l?.head !== undefined; l = l.tail) {
            const x = cast(l.head, a!);
            changed ||= x !== l.head;
            items.push(x);
          }
          if (!changed) return v;
          let out: Value = { kind: 'List', head: undefined, tail: undefined, length: 0 };
          for (let i = items.length - 1; i >= 0; i--)
            out = { kind: 'List', head: items[i], tail: out as typeof v, length: items.length - i };
          return out;
        }
        case 'TEXTMAP':
        case 'GENMAP': {
          if (v.kind !== 'TextMap' && v.kind !== 'GenMap') return v;
          const entries = mapEntries(v.map);
          const cast2 = entries.map(
            (e) =>
              [
                t.builtin === 'GENMAP' ? cast(e.key, a!) : e.key,
                cast(e.value, t.builtin === 'GENMAP' ? b! : a!),
              ] as const,
          );
          if (cast2.every(([k, x], i) => k === entries[i]!.key && x === entries[i]!.value)) return v;
          return { ...v, map: mapFromSorted(cast2) };
        }
        default:
          return v;
      }
    }
    if (t.tag !== 'Con') return v;
    const info = compiler.dataInfo(t.tycon);
    const cons = info.def.cons;
    const subst = new Map(info.def.params.map((p, i) => [p.name, t.args[i]!]));
    const typeOf = (x: Type) => (subst.size === 0 ? x : substitute(x, subst));
    switch (cons.tag) {
      case 'Record': {
        if (v.kind !== 'Record')
          return fail(`expected a record ${qualifiedName(t.tycon)}, found a ${v.kind}`);
        if (t.args.length === 0 && sameId(v.tycon, t.tycon)) return v;
        const values = cons.fields.map((f, i) => {
          if (i >= v.values.length) {
            const ft = f.type;
            if (ft.tag !== 'Builtin' || ft.builtin !== 'OPTIONAL')
              fail(
                `${qualifiedName(t.tycon)} has the field ${f.field} that the contract's version lacks, and it is not Optional`,
              );
            return NONE;
          }
          if (v.fields[i] !== f.field)
            fail(
              `field ${i} of ${qualifiedName(t.tycon)} is ${f.field}, but the contract's version has ${v.fields[i]}`,
            );
          return cast(v.values[i]!, typeOf(f.type));
        });
        for (let i = cons.fields.length; i < v.values.length; i++) {
          const extra = v.values[i]!;
          if (extra.kind !== 'Optional' || extra.value !== undefined)
            fail(
              `the field ${v.fields[i]} of ${qualifiedName(v.tycon)} is set, and ${identifierToString(t.tycon)} (an older version) lacks it`,
            );
        }
        return { kind: 'Record', tycon: t.tycon, fields: info.fields, values };
      }
      case 'Variant': {
        if (v.kind !== 'Variant')
          return fail(`expected a variant ${qualifiedName(t.tycon)}, found a ${v.kind}`);
        if (t.args.length === 0 && sameId(v.tycon, t.tycon)) return v;
        const rank = info.rank.get(v.constructor);
        if (rank === undefined)
          return fail(
            `${identifierToString(t.tycon)} (an older version) has no constructor ${v.constructor}`,
          );
        const value = cast(v.value, typeOf(cons.variants[rank]!.type));
        return { kind: 'Variant', tycon: t.tycon, constructor: v.constructor, rank, value };
      }
      case 'Enum': {
        if (v.kind !== 'Enum') return fail(`expected an enum ${qualifiedName(t.tycon)}, found a ${v.kind}`);
        if (sameId(v.tycon, t.tycon)) return v;
        const rank = info.rank.get(v.constructor);
        if (rank === undefined)
          return fail(
            `${identifierToString(t.tycon)} (an older version) has no constructor ${v.constructor}`,
          );
        return { kind: 'Enum', tycon: t.tycon, constructor: v.constructor, rank };
      }
      default:
        return v;
    }
  };
  return cast(value, target);
}

function sameId(a: Identifier, b: Identifier): boolean {
  return a === b || (a.packageId === b.packageId && qualifiedName(a) === qualifiedName(b));
}

function describe(t: Type): string {
  return t.tag === 'Con' ? identifierToString(t.tycon) : t.tag;
}
