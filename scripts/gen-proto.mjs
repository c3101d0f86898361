#!/usr/bin/env node
// Regenerates the TypeScript for `proto/` into `src/generated/` (protobuf-ts through buf's bundled compiler).
// protobuf-ts emits extensionless relative imports; Node's ESM resolution needs `.js`, so they are rewritten.
// It also writes the Ledger API's FileDescriptorSet (with the files it imports) to `resources/ledger-api/`, which
// the Ledger API server loads at run time for gRPC server reflection.
// `--check` generates both into a temporary folder and fails if the committed files differ.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const committed = join(root, 'src/generated');
const DESCRIPTORS = 'resources/ledger-api/descriptors.binpb';
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
mkdirSync(join(base, 'resources/ledger-api'), { recursive: true });
execFileSync(
  join(root, 'node_modules/.bin/buf'),
  [
    'build',
    '--as-file-descriptor-set',
    '--exclude-source-info',
    '--path',
    'proto/com/daml/ledger/api/v2',
    '-o',
    join(base, DESCRIPTORS),
  ],
  { cwd: root, stdio: 'inherit' },
);
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
    !readFileSync(join(base, DESCRIPTORS)).equals(readFileSync(join(root, DESCRIPTORS))) ||
    a.length !== b.length ||
    a.some(
      (f, i) =>
        f !== b[i] || readFileSync(join(generated, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'),
    );
  rmSync(base, { recursive: true, force: true });
  if (stale) {
    console.error(`src/generated or ${DESCRIPTORS} is out of date with proto/: run \`npm run proto\``);
    process.exit(1);
  }
  console.log(`src/generated and ${DESCRIPTORS} match proto/`);
}
