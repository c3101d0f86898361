import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readDarFile } from '../../daml/dar/index.js';
import { ILLFORMED_DAR, LEGACY_LF1_DAR, PING_DAR, TOKEN_DAR } from '../../daml/dar/testing.js';
import { type DarInspection, inspectDar, renderDarInspection } from './dar.js';

const run = promisify(execFile);
// The real CLI entry point, run from source so the test does not depend on a fresh `npm run build`.
const weft = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: process.cwd() });

describe('weft dar inspect', () => {
  it('prints the packages of a DAR as JSON from the real binary', async () => {
    const { stdout, stderr } = await weft('dar', 'inspect', PING_DAR, '--json');
    expect(stderr).toBe('');
    const out = JSON.parse(stdout) as DarInspection;
    expect(out.mainPackageId).toBe('de2cc2f90eb523414ff54e899951dadd8789a4c07e0f71f6d6c9eaf57d412a54');
    expect(out.packages).toHaveLength(30);
    const main = out.packages.find((p) => p.main)!;
    expect(main).toMatchObject({
      name: 'canton-builtin-admin-workflow-ping',
      version: '3.4.0',
      languageVersion: '2.2',
    });
    expect(main.modules[0]).toEqual({
      name: 'Canton.Internal.Ping',
      templates: [
        {
          name: 'Ping',
          choices: [
            { name: 'Respond', consuming: true },
            { name: 'Archive', consuming: true },
            { name: 'AbortPing', consuming: true },
          ],
          implements: [],
        },
      ],
      interfaces: [],
    });
  });

  it('fails with exit code 1 and one line on stderr', async () => {
    const failure = await weft('dar', 'inspect', LEGACY_LF1_DAR).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toBe(
      `weft dar inspect: ${LEGACY_LF1_DAR}: DAML_LF_UNSUPPORTED_VERSION: archive.dalf: Daml-LF 1.15 is not supported (supported: 2.1, 2.2)\n`,
    );
  });

  it('rejects illformed.dar at package validation with exit code 1 and the type error on stderr', async () => {
    const failure = await weft('dar', 'inspect', ILLFORMED_DAR).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toBe(
      `weft dar inspect: ${ILLFORMED_DAR}: DAML_LF_TYPE_ERROR: package ` +
        'dc0563f935abf08b498003bcf8ec6b070a619ff05ae4a091572863947cc8901c (encoder_binary 1.0.0) fails type ' +
        'checking: Mod:x: type mismatch: expected Bool, found Unit\n',
    );
  });

  it('renders templates, choices, interfaces and interface instances as text', () => {
    const dar = readDarFile(TOKEN_DAR);
    const text = renderDarInspection(dar, inspectDar(dar));
    expect(text.split('\n').slice(0, 7)).toEqual([
      'DAR splice-test-token-v1-1.0.0, SDK 3.5.2: 45 packages, main aaa0b576b5a3db49b3a4f7a4710fe6f8ae462aabbde4da89f639eb87fd62e90c',
      'package aaa0b576b5a3db49b3a4f7a4710fe6f8ae462aabbde4da89f639eb87fd62e90c splice-test-token-v1 1.0.0 (LF 2.1) [main]',
      '  module Splice.Testing.Tokens.TestTokenV1',
      '    template Token',
      '      choice Archive (consuming)',
      '      implements Splice.Api.Token.HoldingV1:Holding (splice-api-token-holding-v1 1.0.0)',
      '    template TokenAllocation',
    ]);
    expect(text).toContain(
      [
        '    interface TransferFactory',
        '      method transferFactory_publicFetchImpl',
        '      method transferFactory_transferImpl',
        '      choice Archive (consuming)',
        '      choice TransferFactory_Transfer (non-consuming)',
        '      choice TransferFactory_PublicFetch (non-consuming)',
      ].join('\n'),
    );
  });
});
