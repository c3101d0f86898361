import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The repository must work from a clone anywhere: no tracked file may point into a development machine's
 * folders (the shared DAR folder of the machines Weft was written on, a home directory), since such a path
 * resolves nowhere else. Vendored files and paths relative to the repository are the way instead.
 */

const REPOSITORY = new URL('../../', import.meta.url);

// A path that starts at one of these roots, at the start of a line or after a separator; spelt so that this
// file does not match itself.
const MACHINE_PATH = /(?:^|[\s'"`(=:,[])(?:\/(?:work|home|Users|root)\/[\w.-]|[A-Z]:\\(?:Users|work)\\)/m;

function trackedTextFiles(): string[] {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPOSITORY, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '');
  return files.filter((f) => {
    const path = new URL(f, REPOSITORY);
    return existsSync(path) && !readFileSync(path).includes(0);
  });
}

/** The files `npm pack` would publish (from `dist/`, which `npm run build` makes before the tests run). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
    cwd: REPOSITORY,
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('a self-contained repository', () => {
  it('has no tracked file naming an absolute path of a development machine', () => {
    const offenders = trackedTextFiles().flatMap((file) =>
      readFileSync(new URL(file, REPOSITORY), 'utf8')
        .split('\n')
        .flatMap((line, i) => (MACHINE_PATH.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('recognises such paths (the check can fail)', () => {
    const path = (...parts: string[]) => ['', ...parts].join('/');
    for (const line of [
      `const DARS = '${path('work', 'shared', 'dars')}';`,
      `dars: [${path('home', 'dev', 'x.dar')}]`,
      `  - ${path('Users', 'me', 'a')}`,
      'C:\\Users\\me\\weft',
    ]) {
      expect(MACHINE_PATH.test(line)).toBe(true);
    }
    for (const line of [
      'see docs/architecture.md',
      `https://example.com${path('work', 'x')}`,
      `a${path('work', 'b')}`,
    ]) {
      expect(MACHINE_PATH.test(line)).toBe(false);
    }
  });

  it('ships the CLI and its resources but no test helpers or tests', () => {
    const files = packedFiles();
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('resources/admin-workflow/ping-3.4.0.dar');
    expect(files.filter((f) => /(^|\/)testing\.|\.test\.|^test\/|^bench\//.test(f))).toEqual([]);
  });
});
