import { describe, expect, it } from 'vitest';
import {
  boolean,
  type ConfigProblem,
  camelCase,
  integer,
  list,
  object,
  objectIgnoring,
  oneOf,
  optional,
  port,
  record,
  type Schema,
  string,
  tagged,
  withDefault,
} from './schema.js';

function problems<T>(schema: Schema<T>, value: unknown, path = 'root'): readonly ConfigProblem[] {
  const result = schema.parse(value, path);
  if (result.ok) throw new Error(`expected problems, decoded ${JSON.stringify(result.value)}`);
  return result.problems;
}

function value<T>(schema: Schema<T>, raw: unknown): T {
  const result = schema.parse(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

describe('primitive schemas', () => {
  it('take strings, and numbers or booleans as their text', () => {
    expect(value(string(), 'x')).toBe('x');
    expect(value(string(), 42)).toBe('42');
    expect(value(string(), true)).toBe('true');
    expect(problems(string(), '')).toEqual([
      { path: 'root', message: 'expected a non-empty string, got a string' },
    ]);
    expect(problems(string(), { a: 1 })).toEqual([
      { path: 'root', message: 'expected a non-empty string, got an object' },
    ]);
    const ident = string({ regex: /^[a-z]+$/, description: 'lowercase letters' });
    expect(problems(ident, 'Abc')[0]!.message).toBe("expected a string of lowercase letters, got 'Abc'");
  });

  it('convert numeric strings to integers and check the range', () => {
    expect(value(port(), 5012)).toBe(5012);
    expect(value(port(), '5012')).toBe(5012);
    expect(value(integer({ min: -5, max: 5 }), '-5')).toBe(-5);
    expect(problems(port(), 70000)[0]!.message).toBe('expected an integer in 0..65535, got the number 70000');
    expect(problems(port(), 1.5)[0]!.message).toBe('expected an integer in 0..65535, got the number 1.5');
    expect(problems(port(), '50x')[0]!.message).toBe("expected an integer in 0..65535, got '50x'");
    expect(problems(port(), [1])[0]!.message).toBe('expected an integer in 0..65535, got a list');
  });

  it('convert HOCON boolean words', () => {
    for (const t of [true, 'true', 'yes', 'on']) expect(value(boolean(), t)).toBe(true);
    for (const f of [false, 'false', 'no', 'off']) expect(value(boolean(), f)).toBe(false);
    expect(problems(boolean(), 1)[0]!.message).toBe('expected a boolean, got the number 1');
  });

  it('check enums, quoting only short plain strings so secrets never show', () => {
    const level = oneOf(['info', 'debug']);
    expect(value(level, 'debug')).toBe('debug');
    expect(problems(level, 'loud')[0]!.message).toBe("expected one of info, debug, got 'loud'");
    expect(problems(level, 's3cr3t with spaces')[0]!.message).toBe(
      'expected one of info, debug, got a string',
    );
  });
});

describe('object', () => {
  const api = object({
    address: withDefault(string(), '127.0.0.1'),
    port: port(),
    'max-inbound-message-size': optional(integer({ min: 1 })),
  });

  it('maps kebab-case keys to camelCase and fills defaults', () => {
    expect(value(api, { port: 1, 'max-inbound-message-size': 10 })).toEqual({
      address: '127.0.0.1',
      port: 1,
      maxInboundMessageSize: 10,
    });
    expect(value(api, { port: 1, address: 'example.org' })).toEqual({ address: 'example.org', port: 1 });
    expect(camelCase('trust-collection-file')).toBe('trustCollectionFile');
  });

  it('reports missing keys, unknown keys with a suggestion, and every problem at once', () => {
    expect(problems(api, { adress: 'x', prot: 'y', zzz: 1 }, 'weft.node.admin-api')).toEqual([
      { path: 'weft.node.admin-api.adress', message: "unknown key (did you mean 'address'?)" },
      { path: 'weft.node.admin-api.prot', message: "unknown key (did you mean 'port'?)" },
      { path: 'weft.node.admin-api.zzz', message: 'unknown key' },
      { path: 'weft.node.admin-api.port', message: 'missing (expected an integer in 0..65535)' },
    ]);
  });

  it('suggests the kebab-case key for a camelCase one', () => {
    expect(problems(api, { port: 1, maxInboundMessageSize: 1 })[0]!.message).toMatch(
      /did you mean 'max-inbound-message-size'/,
    );
  });

  it('treats null as absent and rejects non-objects', () => {
    expect(value(api, { port: 1, address: null })).toEqual({ address: '127.0.0.1', port: 1 });
    expect(problems(api, 'x')).toEqual([{ path: 'root', message: "expected an object, got 'x'" }]);
    expect(problems(api, [])).toEqual([{ path: 'root', message: 'expected an object, got a list' }]);
  });

  it('nests paths and quotes keys with dots', () => {
    const outer = object({ inner: object({ n: port() }) });
    expect(problems(outer, { inner: { n: 'x', 'a.b': 1 } }, '')).toEqual([
      { path: 'inner."a.b"', message: 'unknown key' },
      { path: 'inner.n', message: "expected an integer in 0..65535, got 'x'" },
    ]);
  });

  it('extends with more fields, as components declare their sections', () => {
    const extended = api.extend({ tls: optional(object({ 'cert-chain-file': string() })) });
    expect(value(extended, { port: 2, tls: { 'cert-chain-file': 'c.pem' } })).toEqual({
      address: '127.0.0.1',
      port: 2,
      tls: { certChainFile: 'c.pem' },
    });
    expect(problems(api, { port: 2, tls: {} })[0]!.path).toBe('root.tls');
  });

  it('ignores keys a predicate accepts', () => {
    const root = objectIgnoring({ a: port() }, (k) => k.startsWith('_'));
    expect(value(root, { a: 1, _shared: { anything: true } })).toEqual({ a: 1 });
    expect(problems(root, { a: 1, shared: {} })[0]!.message).toBe('unknown key');
  });

  it('refuses a default that its own schema rejects', () => {
    expect(() => withDefault(port(), 'eighty')).toThrow(/invalid schema default/);
  });
});

describe('record', () => {
  const nodes = record(object({ port: port() }), {
    regex: /^[a-z0-9]+$/,
    description: 'lowercase letters or digits',
  });

  it('keeps names as written and validates each entry', () => {
    expect(value(nodes, { alice: { port: 1 }, bob2: { port: '2' } })).toEqual({
      alice: { port: 1 },
      bob2: { port: 2 },
    });
    expect(problems(nodes, { alice: { port: 'x' }, 'Bad Name': { port: 1 } }, 'weft.participants')).toEqual([
      { path: 'weft.participants.alice.port', message: "expected an integer in 0..65535, got 'x'" },
      { path: 'weft.participants."Bad Name"', message: 'name must be lowercase letters or digits' },
    ]);
  });
});

describe('list', () => {
  it('decodes every item, reports each bad one by index, and enforces the minimum length', () => {
    const endpoints = list(string(), { min: 1, single: true });
    expect(value(endpoints, ['https://a:1', 'https://b:2'])).toEqual(['https://a:1', 'https://b:2']);
    expect(value(endpoints, 'https://a:1')).toEqual(['https://a:1']);
    expect(problems(endpoints, [], 'endpoints')).toEqual([
      {
        path: 'endpoints',
        message: 'expected a list of at least 1 item(s), each a non-empty string, got a list',
      },
    ]);
    expect(problems(list(port()), [1, 'x', {}], 'ports')).toEqual([
      { path: 'ports[1]', message: "expected an integer in 0..65535, got 'x'" },
      { path: 'ports[2]', message: 'expected an integer in 0..65535, got an object' },
    ]);
    expect(problems(list(port()), 3, 'ports')).toEqual([
      { path: 'ports', message: 'expected a list, each an integer in 0..65535, got the number 3' },
    ]);
  });
});

describe('tagged', () => {
  const storage = tagged('type', {
    sqlite: object({ file: string() }),
    postgres: object({ url: string(), 'pool-size': optional(port()) }),
  });

  it('decodes the variant the tag names, keeping the tag', () => {
    expect(value(storage, { type: 'sqlite', file: 'a.db' })).toEqual({ type: 'sqlite', file: 'a.db' });
    expect(value(storage, { type: 'postgres', url: 'postgres://h/db', 'pool-size': 4 })).toEqual({
      type: 'postgres',
      url: 'postgres://h/db',
      poolSize: 4,
    });
  });

  it('names a missing or unknown tag and the keys of the wrong variant', () => {
    expect(problems(storage, { file: 'a.db' }, 's')).toEqual([
      { path: 's.type', message: 'missing (expected one of sqlite, postgres)' },
    ]);
    expect(problems(storage, { type: 'oracle' }, 's')).toEqual([
      { path: 's.type', message: "expected one of sqlite, postgres, got 'oracle'" },
    ]);
    expect(problems(storage, { type: 'sqlite', url: 'postgres://h/db' }, 's')).toEqual([
      { path: 's.url', message: 'unknown key' },
      { path: 's.file', message: 'missing (expected a non-empty string)' },
    ]);
  });
});
