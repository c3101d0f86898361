// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} is config substitution syntax under test.
import { describe, expect, it } from 'vitest';
import { expandHoconDefaults, substituteValues } from './substitution.js';

const env = { HOST: 'db.example.org', EMPTY: '', PORT: '5432' };

describe('substituteValues (YAML and JSON)', () => {
  it('expands required, optional and defaulted references in string values', () => {
    const { value, issues } = substituteValues(
      {
        url: 'postgres://${HOST}:${PORT}/weft',
        port: '${PORT}',
        host: '${?HOST}',
        fallback: '${MISSING:-localhost}',
        emptyFallback: '${EMPTY:-was-empty}',
        quotedFallback: '${MISSING:-"a b"}',
        embeddedOptional: 'x${?MISSING}y',
        nested: { list: ['${HOST}', '${?MISSING}', 'plain'] },
        untouched: 7,
      },
      env,
    );
    expect(issues).toEqual({ unset: [], malformed: [] });
    expect(value).toEqual({
      url: 'postgres://db.example.org:5432/weft',
      port: '5432',
      host: 'db.example.org',
      fallback: 'localhost',
      emptyFallback: 'was-empty',
      quotedFallback: 'a b',
      embeddedOptional: 'xy',
      nested: { list: ['db.example.org', 'plain'] },
      untouched: 7,
    });
  });

  it('drops a key whose whole value is an unset optional', () => {
    expect(substituteValues({ a: '${?MISSING}', b: 1 }, env).value).toEqual({ b: 1 });
  });

  it('keeps a set but empty variable for ${VAR} and ${?VAR}', () => {
    expect(substituteValues({ a: '${EMPTY}', b: '${?EMPTY}' }, env).value).toEqual({ a: '', b: '' });
  });

  it('reports unset required variables with their key paths', () => {
    const { issues } = substituteValues(
      { storage: { url: '${DB_URL}' }, list: ['${DB_URL}', '${OTHER}'] },
      env,
    );
    expect(issues.unset).toEqual([
      { path: 'storage.url', name: 'DB_URL' },
      { path: 'list[0]', name: 'DB_URL' },
      { path: 'list[1]', name: 'OTHER' },
    ]);
  });

  it('reports malformed references', () => {
    const { issues } = substituteValues({ a: '${DB URL}', b: { c: 'x${' }, d: '${a.b}' }, env);
    expect(issues.malformed).toEqual(['a', 'b.c', 'd']);
  });
});

describe('expandHoconDefaults', () => {
  it('replaces ${VAR:-default} with a quoted string, from the variable or the default', () => {
    expect(expandHoconDefaults('a = ${HOST:-localhost}\nb = ${NOPE:-localhost}', env)).toBe(
      'a = "db.example.org"\nb = "localhost"',
    );
    expect(expandHoconDefaults('url = ${NOPE:-postgres://h:5432/db}', env)).toBe(
      'url = "postgres://h:5432/db"',
    );
    expect(expandHoconDefaults('a = ${?EMPTY:-"x \\"y\\""}', env)).toBe('a = "x \\"y\\""');
  });

  it('leaves quoted strings, comments, and other substitutions alone', () => {
    const text = [
      'a = "${NOPE:-q}"',
      'b = """ ${NOPE:-t} """',
      'c = ${HOST} ${?HOST} ${weft.shared}',
      '# ${NOPE:-hash}',
      'd = 1 // ${NOPE:-slashes}',
      'e = "esc\\" ${NOPE:-still-quoted}"',
      'f = """x""""  ${NOPE:-after}',
    ].join('\n');
    expect(expandHoconDefaults(text, env)).toBe(text.replace('${NOPE:-after}', '"after"'));
  });
});
