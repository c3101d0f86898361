/**
 * A small typed schema language for config sections. Components declare their section with these combinators;
 * decoding reports every problem with the key path as written in the file (`weft.participants.alice.storage.url:
 * expected a non-empty string, got an object`), rejects unknown keys, and maps kebab-case keys to camelCase fields.
 *
 * Strings from HOCON or from environment variables convert to numbers and booleans where the schema wants one
 * (HOCON's automatic type conversion), so `port = ${PORT}` works in every format.
 */

/** One thing wrong with a config, at a key path. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

const INVALID: unique symbol = Symbol('invalid');
type Decoded<T> = T | typeof INVALID;

/** Collects problems while a whole config is decoded, so one run reports all of them. */
export class Problems {
  readonly list: ConfigProblem[] = [];

  add(path: string, message: string): typeof INVALID {
    this.list.push({ path, message });
    return INVALID;
  }
}

export abstract class Schema<T> {
  /** What a value must be, for messages: "a string", "an integer in 0..65535". */
  abstract readonly expected: string;

  /** Decodes a present value or records problems and returns the INVALID marker. */
  abstract decode(value: unknown, path: string, problems: Problems): Decoded<T>;

  /** Decodes `value`; returns the problems instead of a value when there are any. */
  parse(
    value: unknown,
    path = '',
  ): { ok: true; value: T } | { ok: false; problems: readonly ConfigProblem[] } {
    const problems = new Problems();
    const decoded = this.decode(value, path, problems);
    return decoded === INVALID || problems.list.length > 0
      ? { ok: false, problems: problems.list }
      : { ok: true, value: decoded };
  }

  protected mismatch(value: unknown, path: string, problems: Problems): typeof INVALID {
    return problems.add(path, `expected ${this.expected}, got ${describe(value)}`);
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** `pool-size` → `poolSize`. */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

export function camelCase(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Wraps a field schema whose key may be absent. */
export class OptionalSchema<T> extends Schema<T> {
  // Makes the type nominal: a DefaultSchema has the same members but its field is never absent.
  declare private readonly optionalBrand: never;

  constructor(readonly inner: Schema<T>) {
    super();
  }

  get expected(): string {
    return this.inner.expected;
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<T> {
    return this.inner.decode(value, path, problems);
  }
}

/** A field that takes a default when absent; the default is given as raw config and decoded once, up front. */
export class DefaultSchema<T> extends Schema<T> {
  readonly defaultValue: T;

  constructor(
    readonly inner: Schema<T>,
    rawDefault: unknown,
  ) {
    super();
    const parsed = inner.parse(rawDefault);
    if (!parsed.ok) throw new TypeError(`invalid schema default: ${formatProblems(parsed.problems)}`);
    this.defaultValue = parsed.value;
  }

  get expected(): string {
    return this.inner.expected;
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<T> {
    return this.inner.decode(value, path, problems);
  }
}

export function optional<T>(schema: Schema<T>): OptionalSchema<T> {
  return new OptionalSchema(schema);
}

/** `raw` is written as in a config file: `withDefault(monitoringSchema, {})` fills in the nested defaults. */
export function withDefault<T>(schema: Schema<T>, raw: unknown): DefaultSchema<T> {
  return new DefaultSchema(schema, raw);
}

class StringSchema extends Schema<string> {
  readonly expected: string;

  constructor(private readonly pattern?: { readonly regex: RegExp; readonly description: string }) {
    super();
    this.expected = pattern ? `a string of ${pattern.description}` : 'a non-empty string';
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<string> {
    const s = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    if (typeof s !== 'string' || s === '') return this.mismatch(value, path, problems);
    if (this.pattern && !this.pattern.regex.test(s)) return this.mismatch(value, path, problems);
    return s;
  }
}

/** A non-empty string; numbers and booleans are taken as their text (HOCON `name = 1` is the string "1"). */
export function string(pattern?: { readonly regex: RegExp; readonly description: string }): Schema<string> {
  return new StringSchema(pattern);
}

class IntegerSchema extends Schema<number> {
  readonly expected: string;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    super();
    this.expected = `an integer in ${min}..${max}`;
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<number> {
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < this.min || n > this.max) {
      return this.mismatch(value, path, problems);
    }
    return n;
  }
}

export function integer(range: { readonly min?: number; readonly max?: number } = {}): Schema<number> {
  return new IntegerSchema(range.min ?? Number.MIN_SAFE_INTEGER, range.max ?? Number.MAX_SAFE_INTEGER);
}

/** A TCP port; 0 asks the operating system for a free one. */
export function port(): Schema<number> {
  return integer({ min: 0, max: 65535 });
}

const TRUE = new Set(['true', 'yes', 'on']);
const FALSE = new Set(['false', 'no', 'off']);

class BooleanSchema extends Schema<boolean> {
  readonly expected = 'a boolean';

  decode(value: unknown, path: string, problems: Problems): Decoded<boolean> {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && TRUE.has(value)) return true;
    if (typeof value === 'string' && FALSE.has(value)) return false;
    return this.mismatch(value, path, problems);
  }
}

/** `true`/`false`, and as strings also `yes`/`no`/`on`/`off` (HOCON's boolean conversion). */
export function boolean(): Schema<boolean> {
  return new BooleanSchema();
}

class EnumSchema<V extends string> extends Schema<V> {
  readonly expected: string;

  constructor(private readonly values: readonly V[]) {
    super();
    this.expected = `one of ${values.join(', ')}`;
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<V> {
    if (typeof value === 'string' && (this.values as readonly string[]).includes(value)) return value as V;
    return this.mismatch(value, path, problems);
  }
}

export function oneOf<const V extends string>(values: readonly V[]): Schema<V> {
  return new EnumSchema(values);
}

export type Shape = Readonly<Record<string, Schema<unknown>>>;

type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never;
}[keyof S];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The decoded object of a shape: camelCase keys, optional fields `?`, defaulted fields always present. */
export type ShapeOutput<S extends Shape> = Simplify<
  {
    readonly [K in Exclude<keyof S, OptionalKeys<S>> as CamelCase<K & string>]: Infer<S[K]>;
  } & {
    readonly [K in OptionalKeys<S> as CamelCase<K & string>]?: Infer<S[K]>;
  }
>;

/** An object with exactly the keys of `shape`; unknown keys are problems, with a suggestion for near misses. */
export class ObjectSchema<S extends Shape> extends Schema<ShapeOutput<S>> {
  readonly expected = 'an object';

  constructor(
    readonly shape: S,
    /** Keys this object accepts and ignores, e.g. `_shared` blocks that HOCON substitutions copy from. */
    private readonly ignoreKey: (key: string) => boolean = () => false,
  ) {
    super();
  }

  /** The same object with more fields: how a component adds its section to a node's schema. */
  extend<E extends Shape>(more: E): ObjectSchema<Simplify<Omit<S, keyof E> & E>> {
    return new ObjectSchema({ ...this.shape, ...more } as Simplify<Omit<S, keyof E> & E>, this.ignoreKey);
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<ShapeOutput<S>> {
    if (!isPlainObject(value)) return this.mismatch(value, path, problems);
    return this.decodeFields(value, path, problems, []);
  }

  /** Decodes the fields; `extraKeys` are handled by a caller (the tag of a tagged union). */
  decodeFields(
    value: Readonly<Record<string, unknown>>,
    path: string,
    problems: Problems,
    extraKeys: readonly string[],
  ): Decoded<ShapeOutput<S>> {
    const out: Record<string, unknown> = {};
    let valid = true;
    const known = [...Object.keys(this.shape), ...extraKeys];
    for (const key of Object.keys(value)) {
      if (known.includes(key) || this.ignoreKey(key)) continue;
      problems.add(join(path, key), `unknown key${suggestion(key, known)}`);
      valid = false;
    }
    for (const [key, schema] of Object.entries(this.shape)) {
      const fieldPath = join(path, key);
      const raw = value[key];
      let decoded: unknown;
      if (raw === undefined || raw === null) {
        if (schema instanceof OptionalSchema) continue;
        if (schema instanceof DefaultSchema) decoded = schema.defaultValue;
        else decoded = problems.add(fieldPath, `missing (expected ${schema.expected})`);
      } else {
        decoded = schema.decode(raw, fieldPath, problems);
      }
      if (decoded === INVALID) valid = false;
      else out[camelCase(key)] = decoded;
    }
    return valid ? (out as ShapeOutput<S>) : INVALID;
  }
}

export function object<S extends Shape>(shape: S): ObjectSchema<S> {
  return new ObjectSchema(shape);
}

/** Like {@link object}, but keys for which `ignoreKey` holds are accepted and dropped. */
export function objectIgnoring<S extends Shape>(
  shape: S,
  ignoreKey: (key: string) => boolean,
): ObjectSchema<S> {
  return new ObjectSchema(shape, ignoreKey);
}

class RecordSchema<T> extends Schema<Readonly<Record<string, T>>> {
  readonly expected = 'an object';

  constructor(
    private readonly value: Schema<T>,
    private readonly key: { readonly regex: RegExp; readonly description: string },
  ) {
    super();
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<Readonly<Record<string, T>>> {
    if (!isPlainObject(value)) return this.mismatch(value, path, problems);
    const out: Record<string, T> = {};
    let valid = true;
    for (const [key, raw] of Object.entries(value)) {
      const entryPath = join(path, key);
      const decoded = this.key.regex.test(key)
        ? this.value.decode(raw, entryPath, problems)
        : problems.add(entryPath, `name must be ${this.key.description}`);
      if (decoded === INVALID) valid = false;
      else out[key] = decoded;
    }
    return valid ? out : INVALID;
  }
}

/** A map from names the operator chooses (kept as written, not camelCased) to values of one schema. */
export function record<T>(
  value: Schema<T>,
  key: { readonly regex: RegExp; readonly description: string },
): Schema<Readonly<Record<string, T>>> {
  return new RecordSchema(value, key);
}

class ListSchema<T> extends Schema<readonly T[]> {
  readonly expected: string;

  constructor(
    private readonly item: Schema<T>,
    private readonly min: number,
    private readonly single: boolean,
  ) {
    super();
    const each = `each ${item.expected}`;
    this.expected = min > 0 ? `a list of at least ${min} item(s), ${each}` : `a list, ${each}`;
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<readonly T[]> {
    const items = this.single && !Array.isArray(value) && value !== undefined ? [value] : value;
    if (!Array.isArray(items) || items.length < this.min) return this.mismatch(value, path, problems);
    const out: T[] = [];
    let valid = true;
    items.forEach((raw, i) => {
      const decoded = this.item.decode(raw, `${path}[${i}]`, problems);
      if (decoded === INVALID) valid = false;
      else out.push(decoded);
    });
    return valid ? out : INVALID;
  }
}

/**
 * A list of values of one schema, at least `min` long. With `single`, one value stands for a list of one
 * (`endpoints = "https://…"` as well as `endpoints = [ … ]`).
 */
export function list<T>(
  item: Schema<T>,
  options: { readonly min?: number; readonly single?: boolean } = {},
): Schema<readonly T[]> {
  return new ListSchema(item, options.min ?? 0, options.single ?? false);
}

type Variants = Readonly<Record<string, ObjectSchema<Shape>>>;

export type TaggedOutput<K extends string, V extends Variants> = {
  [T in keyof V & string]: Simplify<{ readonly [P in CamelCase<K>]: T } & Infer<V[T]>>;
}[keyof V & string];

class TaggedSchema<K extends string, V extends Variants> extends Schema<TaggedOutput<K, V>> {
  readonly expected = 'an object';

  constructor(
    private readonly tag: K,
    readonly variants: V,
  ) {
    super();
  }

  decode(value: unknown, path: string, problems: Problems): Decoded<TaggedOutput<K, V>> {
    if (!isPlainObject(value)) return this.mismatch(value, path, problems);
    const names = Object.keys(this.variants);
    const tagPath = join(path, this.tag);
    const tag = value[this.tag];
    if (tag === undefined || tag === null)
      return problems.add(tagPath, `missing (expected one of ${names.join(', ')})`);
    const variant =
      typeof tag === 'string' && Object.hasOwn(this.variants, tag) ? this.variants[tag] : undefined;
    if (variant === undefined) {
      return problems.add(tagPath, `expected one of ${names.join(', ')}, got ${describe(tag)}`);
    }
    const fields = variant.decodeFields(value, path, problems, [this.tag]);
    return fields === INVALID ? INVALID : ({ [camelCase(this.tag)]: tag, ...fields } as TaggedOutput<K, V>);
  }
}

/** One of several object shapes, chosen by the string in key `tag` (`storage.type = postgres`). */
export function tagged<const K extends string, const V extends Variants>(
  tag: K,
  variants: V,
): Schema<TaggedOutput<K, V>> {
  return new TaggedSchema(tag, variants);
}

/** `a.b`, quoting keys that would be ambiguous in a path. */
export function join(path: string, key: string): string {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? k : `${path}.${k}`;
}

/** One line listing the problems, the first ten in full. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  const shown = problems.slice(0, 10).map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`));
  const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
  return shown.join('; ') + more;
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The kind of a wrong value; only short enum-like strings are quoted, since a value may be a secret. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return /^[\w.-]{1,32}$/.test(value) ? `'${value}'` : 'a string';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/**
 * ` (did you mean 'storage'?)` when a known key is within edit distance 2, ignoring case, `-` and `_` (so
 * `poolSize` and `pool_size` point to `pool-size`).
 */
function suggestion(key: string, known: readonly string[]): string {
  const best = nearestName(key, known);
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

/** The known name within edit distance 2 of `key`, ignoring case, `-` and `_`; the console's suggestions use it too. */
export function nearestName(key: string, known: readonly string[]): string | undefined {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(normal(key), normal(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
