import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Time and randomness reach protocol code only through an injected `Clock` (src/time) and `RandomSource`
 * (src/crypto/random.ts), so that the simulation (src/simulation) replays a run from its seed: this scans the
 * sources for the calls that would bypass them.
 */

const SRC = fileURLToPath(new URL('..', import.meta.url));

const FORBIDDEN: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'Date.now()', pattern: /\bDate\.now\s*\(/ },
  { name: 'new Date() (reading the time)', pattern: /\bnew Date\s*\(\s*\)/ },
  { name: 'performance.now()', pattern: /\bperformance\.now\s*\(/ },
  { name: 'setTimeout', pattern: /\bsetTimeout\s*\(/ },
  { name: 'setInterval', pattern: /\bsetInterval\s*\(/ },
  { name: 'Math.random()', pattern: /\bMath\.random\s*\(/ },
  { name: 'randomBytes', pattern: /\brandomBytes\b/ },
  { name: 'randomUUID', pattern: /\brandomUUID\b/ },
  { name: 'getRandomValues', pattern: /\bgetRandomValues\b/ },
];

/** Where the real clock and entropy are wired. */
const OWNERS = ['time/', 'crypto/random.ts'];

/**
 * Test helpers that need real entropy: storage/testing.ts names a fresh PostgreSQL schema per test run, and those
 * names must differ between the test processes sharing one database (no seed can promise that). Nothing shipped.
 */
const TEST_ENTROPY: readonly string[] = ['storage/testing.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Code without comments and string contents, so that prose naming a call is not a use of it. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''");
}

function offenders(): string[] {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file).split('\\').join('/');
    if ([...OWNERS, ...TEST_ENTROPY].some((a) => (a.endsWith('/') ? rel.startsWith(a) : rel === a))) continue;
    code(readFileSync(file, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const f of FORBIDDEN) if (f.pattern.test(line)) found.push(`src/${rel}:${i + 1}: ${f.name}`);
      });
  }
  return found;
}

describe('clock and randomness injection', () => {
  it('no source outside src/time and src/crypto/random.ts reads the time or entropy directly', () => {
    expect(offenders()).toEqual([]);
  });

  it('recognises a direct call and ignores one in a comment or string', () => {
    expect(code("const t = Date.now(); // setTimeout(f)\nconst s = 'Math.random()';")).toMatch(
      FORBIDDEN[0]!.pattern,
    );
    const clean = code("// setTimeout(f)\n/* Math.random() */ const s = 'randomBytes';");
    expect(FORBIDDEN.some((f) => f.pattern.test(clean))).toBe(false);
  });
});
