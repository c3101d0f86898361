import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import { type MapNode, mapEntries, mapFromSorted } from '../values/sorted-map.js';
import { listFromArray, listToArray, type Value } from '../values/value.js';

/** The maximum depth of a serialized value, the outermost level included (`value.rst`). */
export const MAX_VALUE_NESTING = 100;

/** Whether `v` is nested deeper than `MAX_VALUE_NESTING`; stops descending at the limit (bounded recursion). */
export function exceedsNesting(v: Value, limit = MAX_VALUE_NESTING): boolean {
  if (limit <= 0) return true;
  switch (v.kind) {
    case 'Record':
    case 'Struct':
      return v.values.some((x) => exceedsNesting(x, limit - 1));
    case 'Variant':
      return exceedsNesting(v.value, limit - 1);
    case 'Optional':
      return v.value !== undefined && exceedsNesting(v.value, limit - 1);
    case 'List':
      for (let l = v; l.tail !== undefined; l = l.tail) if (exceedsNesting(l.head!, limit - 1)) return true;
      return false;
    case 'TextMap':
    case 'GenMap':
      return mapEntries(v.map).some(
        (e) => exceedsNesting(e.key, limit - 1) || exceedsNesting(e.value, limit - 1),
      );
    default:
      return false;
  }
}

/**
 * `v` with every contract id replaced by `f(cid)` (sharing unchanged parts). Map order is kept: the engine only
 * uses this to suffix local ids, which does not change how ids with distinct discriminators compare.
 */
export function mapContractIds(v: Value, f: (cid: ContractId) => ContractId): Value {
  switch (v.kind) {
    case 'ContractId': {
      const cid = f(v.cid);
      return cid === v.cid ? v : { kind: 'ContractId', cid };
    }
    case 'Record': {
      const values = mapAll(v.values, f);
      return values === v.values ? v : { ...v, values };
    }
    case 'Struct': {
      const values = mapAll(v.values, f);
      return values === v.values ? v : { ...v, values };
    }
    case 'Variant': {
      const value = mapContractIds(v.value, f);
      return value === v.value ? v : { ...v, value };
    }
    case 'Optional': {
      if (v.value === undefined) return v;
      const value = mapContractIds(v.value, f);
      return value === v.value ? v : { kind: 'Optional', value };
    }
    case 'List': {
      const items = listToArray(v);
      const mapped = mapAll(items, f);
      return mapped === items ? v : listFromArray(mapped);
    }
    case 'TextMap':
    case 'GenMap': {
      const map = mapMapNode(v.map, f);
      return map === v.map ? v : { kind: v.kind, map };
    }
    case 'Any':
    case 'Function':
      return crash(`a ${v.kind} value cannot be part of a transaction`);
    default:
      return v;
  }
}

function mapAll(values: readonly Value[], f: (cid: ContractId) => ContractId): readonly Value[] {
  let out: Value[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const x = mapContractIds(values[i]!, f);
    if (x !== values[i] && out === undefined) out = values.slice(0, i);
    out?.push(x);
  }
  return out ?? values;
}

function mapMapNode(map: MapNode | null, f: (cid: ContractId) => ContractId): MapNode | null {
  const entries = mapEntries(map);
  let changed = false;
  const mapped = entries.map((e) => {
    const key = mapContractIds(e.key, f);
    const value = mapContractIds(e.value, f);
    if (key !== e.key || value !== e.value) changed = true;
    return [key, value] as const;
  });
  return changed ? mapFromSorted(mapped) : map;
}
