#!/usr/bin/env node
// Regenerates the TypeScript for `proto/` into `src/generated/` (protobuf-ts through buf's bundled compiler).
// protobuf-ts emits extensionless relative imports; Node's ESM resolution needs `.js`, so they are rewritten.
// `--check` generates into a temporary folder and fails if the committed code differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const committed = join(root, 'src/generated');
const check = process.argv.includes('--check');
const base = check ? mkdtempSync(join(tmpdir(), 'weft-proto-')) : root;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

if (!check) rmSync(committed, { recursive: true, force: true });
execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--output', base], {
  cwd: root,
  stdio: 'inherit',
});
// The plugin's `out: src/generated` (buf.gen.yaml) is relative to --output.
const generated = join(base, 'src/generated');
for (const file of files(generated)) {
  const text = readFileSync(file, 'utf8').replace(/(from "\.{1,2}\/[^"]+?)(?<!\.js)";/g, '$1.js";');
  writeFileSync(file, text);
}

if (check) {
  const a = files(generated)
    .map((f) => relative(generated, f))
    .sort();
  const b = files(committed)
    .map((f) => relative(committed, f))
    .sort();
  const stale =
    a.length !== b.length ||
    a.some(
      (f, i) =>
        f !== b[i] || readFileSync(join(generated, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'),
    );
  rmSync(base, { recursive: true, force: true });
  if (stale) {
    console.error('src/generated is out of date with proto/: run `npm run proto`');
    process.exit(1);
  }
  console.log('src/generated matches proto/');
}
