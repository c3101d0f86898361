import type { Value } from './value.js';

/**
 * A persistent AVL tree: the entries of TextMap and GenMap values, ordered by a comparison supplied by the caller
 * (code points for TextMap, the generic value order for GenMap). Updates copy only the search path.
 */
export interface MapNode {
  readonly key: Value;
  readonly value: Value;
  readonly left: MapNode | null;
  readonly right: MapNode | null;
  readonly height: number;
  readonly size: number;
}

export type Compare = (a: Value, b: Value) => number;

const height = (n: MapNode | null) => (n === null ? 0 : n.height);
export const mapSize = (n: MapNode | null): number => (n === null ? 0 : n.size);

function node(key: Value, value: Value, left: MapNode | null, right: MapNode | null): MapNode {
  return {
    key,
    value,
    left,
    right,
    height: Math.max(height(left), height(right)) + 1,
    size: mapSize(left) + mapSize(right) + 1,
  };
}

function balance(key: Value, value: Value, left: MapNode | null, right: MapNode | null): MapNode {
  const hl = height(left);
  const hr = height(right);
  if (hl > hr + 1) {
    const l = left!;
    if (height(l.left) >= height(l.right))
      return node(l.key, l.value, l.left, node(key, value, l.right, right));
    const lr = l.right!;
    return node(lr.key, lr.value, node(l.key, l.value, l.left, lr.left), node(key, value, lr.right, right));
  }
  if (hr > hl + 1) {
    const r = right!;
    if (height(r.right) >= height(r.left))
      return node(r.key, r.value, node(key, value, left, r.left), r.right);
    const rl = r.left!;
    return node(rl.key, rl.value, node(key, value, left, rl.left), node(r.key, r.value, rl.right, r.right));
  }
  return node(key, value, left, right);
}

/** Inserts or replaces (keeping the stored key object) the entry for `key`. */
export function mapInsert(root: MapNode | null, key: Value, value: Value, cmp: Compare): MapNode {
  if (root === null) return node(key, value, null, null);
  const c = cmp(key, root.key);
  if (c === 0) return node(root.key, value, root.left, root.right);
  return c < 0
    ? balance(root.key, root.value, mapInsert(root.left, key, value, cmp), root.right)
    : balance(root.key, root.value, root.left, mapInsert(root.right, key, value, cmp));
}

export function mapLookup(root: MapNode | null, key: Value, cmp: Compare): Value | undefined {
  let n = root;
  while (n !== null) {
    const c = cmp(key, n.key);
    if (c === 0) return n.value;
    n = c < 0 ? n.left : n.right;
  }
  return undefined;
}

function removeMin(n: MapNode): { min: MapNode; rest: MapNode | null } {
  if (n.left === null) return { min: n, rest: n.right };
  const { min, rest } = removeMin(n.left);
  return { min, rest: balance(n.key, n.value, rest, n.right) };
}

/** Removes the entry for `key`; returns `root` itself when there is none. */
export function mapDelete(root: MapNode | null, key: Value, cmp: Compare): MapNode | null {
  if (root === null) return null;
  const c = cmp(key, root.key);
  if (c < 0) {
    const left = mapDelete(root.left, key, cmp);
    return left === root.left ? root : balance(root.key, root.value, left, root.right);
  }
  if (c > 0) {
    const right = mapDelete(root.right, key, cmp);
    return right === root.right ? root : balance(root.key, root.value, root.left, right);
  }
  if (root.left === null) return root.right;
  if (root.right === null) return root.left;
  const { min, rest } = removeMin(root.right);
  return balance(min.key, min.value, root.left, rest);
}

/** The entries in key order (an explicit stack: trees are shallow, but keep the host stack flat anyway). */
export function mapEntries(root: MapNode | null): MapNode[] {
  const out: MapNode[] = [];
  const stack: MapNode[] = [];
  let n = root;
  while (n !== null || stack.length > 0) {
    while (n !== null) {
      stack.push(n);
      n = n.left;
    }
    const top = stack.pop()!;
    out.push(top);
    n = top.right;
  }
  return out;
}

/** Builds a tree from entries already sorted by key with no duplicates, in O(n). */
export function mapFromSorted(entries: readonly (readonly [Value, Value])[]): MapNode | null {
  const build = (lo: number, hi: number): MapNode | null => {
    if (lo >= hi) return null;
    const mid = (lo + hi) >>> 1;
    const [k, v] = entries[mid]!;
    return node(k, v, build(lo, mid), build(mid + 1, hi));
  };
  return build(0, entries.length);
}
