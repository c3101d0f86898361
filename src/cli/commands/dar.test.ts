import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readDarFile } from '../../daml/dar/index.js';
import { ILLFORMED_DAR, LEGACY_LF1_DAR, PING_DAR, TOKEN_DAR, TRADING_DAR } from '../../daml/dar/testing.js';
import { type Command, Engine, EXAMPLE_PARTY } from '../../daml/engine/index.js';
import { PackageRegistry } from '../../daml/lf/index.js';
import { type DarInspection, exampleCommands, inspectDar, renderDarInspection } from './dar.js';

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
          fields: [
            { name: 'id', type: 'Text' },
            { name: 'initiator', type: 'Party' },
            { name: 'responder', type: 'Party' },
          ],
          choices: [
            {
              name: 'Respond',
              consuming: true,
              argument: 'Canton.Internal.Ping:Respond',
              argumentFields: [],
              result: 'Unit',
            },
            {
              name: 'Archive',
              consuming: true,
              argument: 'DA.Internal.Template:Archive',
              argumentFields: [],
              result: 'Unit',
            },
            {
              name: 'AbortPing',
              consuming: true,
              argument: 'Canton.Internal.Ping:AbortPing',
              argumentFields: [{ name: 'anyone', type: 'Party' }],
              result: 'Unit',
            },
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
      '      field holding : Splice.Api.Token.HoldingV1:HoldingView',
      '      choice Archive (consuming) : DA.Internal.Template:Archive -> Unit',
      '      implements Splice.Api.Token.HoldingV1:Holding (splice-api-token-holding-v1 1.0.0)',
    ]);
    expect(text).toContain(
      [
        '    interface TransferFactory (view Splice.Api.Token.TransferInstructionV1:TransferFactoryView)',
        '      method transferFactory_publicFetchImpl : ContractId Splice.Api.Token.TransferInstructionV1:TransferFactory -> Splice.Api.Token.TransferInstructionV1:TransferFactory_PublicFetch -> Update Splice.Api.Token.TransferInstructionV1:TransferFactoryView',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        '      choice TransferFactory_Transfer (non-consuming) : Splice.Api.Token.TransferInstructionV1:TransferFactory_Transfer -> Splice.Api.Token.TransferInstructionV1:TransferInstructionResult',
        '        expectedAdmin : Party',
        '        transfer : Splice.Api.Token.TransferInstructionV1:Transfer',
        '        extraArgs : Splice.Api.Token.MetadataV1:ExtraArgs',
      ].join('\n'),
    );
  });
});

describe('weft dar inspect --example', () => {
  it('prints commands in the Ledger API JSON shape that the engine accepts as they are', () => {
    const dar = readDarFile(TRADING_DAR);
    const commands = exampleCommands(dar, 'Splice.Testing.Apps.TradingApp:OTCTradeProposal');
    expect(commands[0]).toEqual({
      CreateCommand: {
        templateId: '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp:OTCTradeProposal',
        createArguments: { venue: EXAMPLE_PARTY, tradeCid: null, transferLegs: {}, approvers: [] },
      },
    });
    expect(
      commands.map((c) => (c as { ExerciseCommand?: { choice: string } }).ExerciseCommand?.choice),
    ).toEqual([
      undefined,
      'OTCTradeProposal_Accept',
      'OTCTradeProposal_Reject',
      'OTCTradeProposal_InitiateSettlement',
      'Archive',
    ]);
    // Every example type-checks against its template or choice: the engine's preprocessor takes them unchanged.
    const registry = new PackageRegistry();
    registry.addAll(dar.packages);
    const engine = new Engine(registry);
    for (const tpl of ['OTCTradeProposal', 'OTCTrade']) {
      const prepared = engine.commands.prepare(exampleCommands(dar, tpl) as Command[]);
      expect(prepared.length).toBeGreaterThan(1);
    }
  });

  it('exercises inherited interface choices through the interface id', () => {
    const dar = readDarFile(TOKEN_DAR);
    const commands = exampleCommands(dar, 'TokenRules') as {
      ExerciseCommand?: { templateId: string; choice: string };
    }[];
    expect(
      commands.flatMap((c) =>
        c.ExerciseCommand === undefined
          ? []
          : [`${c.ExerciseCommand.templateId} ${c.ExerciseCommand.choice}`],
      ),
    ).toContain(
      '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferFactory TransferFactory_Transfer',
    );
  });

  it('names the templates of the main package when the template is unknown, from the real binary', async () => {
    const failure = await weft('dar', 'inspect', TOKEN_DAR, '--example', 'Nope').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      'DAML_LF_DEFINITION_NOT_FOUND: no template Nope in splice-test-token-v1',
    );
    expect(failure?.stderr).toContain('Splice.Testing.Tokens.TestTokenV1:TokenRules');
    const { stdout } = await weft('dar', 'inspect', TOKEN_DAR, '--example', 'Token');
    expect(JSON.parse(stdout).commands[0].CreateCommand.templateId).toBe(
      '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1:Token',
    );
  });
});
