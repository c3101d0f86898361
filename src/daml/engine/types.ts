import type { Identifier, Type } from '../lf/ast.js';
import { type PackageRegistry, substitute } from '../lf/packages.js';
import { showType } from '../typecheck/index.js';
import { identifierToString } from '../values/value.js';

/**
 * The serializable types of Daml-LF, resolved for the walkers that build or read values by type (the JSON value
 * translator and the binary value decoder): synonyms expanded, data types looked up, type parameters substituted.
 */
export type Shape =
  | { readonly kind: 'Unit' | 'Bool' | 'Int64' | 'Text' | 'Date' | 'Timestamp' | 'Party' | 'ContractId' }
  | { readonly kind: 'Numeric'; readonly scale: number }
  | { readonly kind: 'List' | 'Optional' | 'TextMap'; readonly elem: Type }
  | { readonly kind: 'GenMap'; readonly key: Type; readonly value: Type }
  | {
      readonly kind: 'Record';
      readonly tycon: Identifier;
      /** The field list shared by all record values of the type (the interpreter's). */
      readonly fields: readonly string[];
      readonly fieldTypes: readonly Type[];
    }
  | {
      readonly kind: 'Variant';
      readonly tycon: Identifier;
      readonly constructors: readonly string[];
      readonly argTypes: readonly Type[];
      readonly rank: ReadonlyMap<string, number>;
    }
  | {
      readonly kind: 'Enum';
      readonly tycon: Identifier;
      readonly constructors: readonly string[];
      readonly rank: ReadonlyMap<string, number>;
    };

/** Record field lists as the interpreter shares them, so values built here look like values built by Daml code. */
export interface DataInfoSource {
  dataInfo(tycon: Identifier): { readonly fields: readonly string[] };
}

const SIMPLE: Partial<Record<string, Shape['kind']>> = {
  UNIT: 'Unit',
  BOOL: 'Bool',
  INT64: 'Int64',
  TEXT: 'Text',
  DATE: 'Date',
  TIMESTAMP: 'Timestamp',
  PARTY: 'Party',
  CONTRACT_ID: 'ContractId',
};

export class TypeResolver {
  private readonly cache = new WeakMap<Type, Shape | string>();

  constructor(
    readonly registry: PackageRegistry,
    private readonly data: DataInfoSource,
  ) {}

  /** The shape of a serializable type, or a message saying why it is not one. */
  resolve(type: Type): Shape | string {
    let shape = this.cache.get(type);
    if (shape === undefined) {
      try {
        shape = this.compute(type);
      } catch (e) {
        shape = `type ${showType(type)} cannot be resolved: ${(e as Error).message}`;
      }
      this.cache.set(type, shape);
    }
    return shape;
  }

  private compute(type: Type): Shape | string {
    switch (type.tag) {
      case 'Syn':
        return this.resolve(this.registry.expandSynonyms(type));
      case 'Builtin': {
        const simple = SIMPLE[type.builtin];
        const [a, b] = type.args;
        if (simple !== undefined) return { kind: simple } as Shape;
        switch (type.builtin) {
          case 'NUMERIC':
            return a?.tag === 'Nat' ? { kind: 'Numeric', scale: a.value } : notSerializable(type);
          case 'LIST':
            return a === undefined ? notSerializable(type) : { kind: 'List', elem: a };
          case 'OPTIONAL':
            return a === undefined ? notSerializable(type) : { kind: 'Optional', elem: a };
          case 'TEXTMAP':
            return a === undefined ? notSerializable(type) : { kind: 'TextMap', elem: a };
          case 'GENMAP':
            return a === undefined || b === undefined
              ? notSerializable(type)
              : { kind: 'GenMap', key: a, value: b };
          default:
            return notSerializable(type);
        }
      }
      case 'Con': {
        const def = this.registry.getDataType(type.tycon);
        if (def.params.length !== type.args.length)
          return `${showType(type)} applies ${identifierToString(type.tycon)} to ${type.args.length} of its ${def.params.length} type arguments`;
        const subst = new Map(def.params.map((p, i) => [p.name, type.args[i]!]));
        const cons = def.cons;
        switch (cons.tag) {
          case 'Record':
            return {
              kind: 'Record',
              tycon: type.tycon,
              fields: this.data.dataInfo(type.tycon).fields,
              fieldTypes: cons.fields.map((f) => substitute(f.type, subst)),
            };
          case 'Variant':
            return {
              kind: 'Variant',
              tycon: type.tycon,
              constructors: cons.variants.map((v) => v.field),
              argTypes: cons.variants.map((v) => substitute(v.type, subst)),
              rank: new Map(cons.variants.map((v, i) => [v.field, i])),
            };
          case 'Enum':
            return {
              kind: 'Enum',
              tycon: type.tycon,
              constructors: cons.constructors,
              rank: new Map(cons.constructors.map((c, i) => [c, i])),
            };
          case 'Interface':
            return notSerializable(type);
        }
        break;
      }
      default:
        return notSerializable(type);
    }
  }
}

function notSerializable(type: Type): string {
  return `type ${showType(type)} is not serializable`;
}
