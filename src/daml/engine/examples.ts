import type { Type } from '../lf/ast.js';
import type { Json } from './translator.js';
import type { TypeResolver } from './types.js';

/**
 * Example values in Canton's LF JSON, for showing a user what a command's arguments look like (`weft dar inspect
 * --example`). Every example is accepted by the ValueTranslator for its type: optional fields are `null`, lists and
 * maps empty, variants and enums their first constructor, parties and contract ids well-formed placeholders.
 */

/** A placeholder party id (hint `party`, a fingerprint of zeros): well-formed, so the example translates. */
export const EXAMPLE_PARTY = `party::1220${'0'.repeat(64)}`;
/** A placeholder contract id: the V1 form (`00`, a 32-byte discriminator, a suffix). */
export const EXAMPLE_CONTRACT_ID = `00${'0'.repeat(64)}ca11`;

/**
 * Records may nest (a record field of a record type…); past this depth an example stops at a record's first
 * unresolvable level, so a recursive type (which always has an Optional or List on its cycle) stays finite.
 */
const MAX_EXAMPLE_DEPTH = 32;

/** The example LF JSON of a value of `type`; undefined for a type that is not serializable. */
export function exampleJson(types: TypeResolver, type: Type, depth = 0): Json | undefined {
  const shape = types.resolve(type);
  if (typeof shape === 'string' || depth > MAX_EXAMPLE_DEPTH) return undefined;
  switch (shape.kind) {
    case 'Unit':
      return {};
    case 'Bool':
      return false;
    case 'Int64':
      return '0';
    case 'Numeric':
      return shape.scale === 0 ? '0' : `0.${'0'.repeat(shape.scale)}`;
    case 'Text':
      return 'text';
    case 'Date':
      return '2026-01-01';
    case 'Timestamp':
      return '2026-01-01T00:00:00Z';
    case 'Party':
      return EXAMPLE_PARTY;
    case 'ContractId':
      return EXAMPLE_CONTRACT_ID;
    case 'Optional':
      return null;
    case 'List':
    case 'GenMap':
      return [];
    case 'TextMap':
      return {};
    case 'Enum':
      return shape.constructors[0] ?? null;
    case 'Variant': {
      // The first constructor whose argument has an example (a recursive variant's base case comes first in practice).
      for (let i = 0; i < shape.constructors.length; i++) {
        const value = exampleJson(types, shape.argTypes[i]!, depth + 1);
        if (value !== undefined) return { tag: shape.constructors[i]!, value };
      }
      return undefined;
    }
    case 'Record': {
      const out: Record<string, Json> = {};
      for (let i = 0; i < shape.fieldTypes.length; i++) {
        const value = exampleJson(types, shape.fieldTypes[i]!, depth + 1);
        if (value === undefined) return undefined;
        out[shape.fields[i]!] = value;
      }
      return out;
    }
  }
}
