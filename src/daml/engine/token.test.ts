import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../dar/testing.js';
import { DamlInterpretationError } from '../values/errors.js';
import { parseTimestamp } from '../values/time.js';
import type { Engine } from './engine.js';
import { InMemoryLedger } from './ledger.js';
import { cidOf, failure, json, loadEngine, reinterpretEveryNode } from './testing.js';
import { type ExerciseNode, getNode } from './transaction.js';

/**
 * The Splice test token (LF 2.1): `Token` holdings signed by owner and instrument admin, transfers offered
 * through the token standard's `TransferFactory` and settled through the `TransferInstruction` interface.
 */

const T = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
const TRANSFER_INSTRUCTION =
  '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction';
const NOW = parseTimestamp('2025-01-01T12:00:00Z')!;
const meta = { values: {} };
const extraArgs = { context: { values: {} }, meta };

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

const holding = (owner: string, amount: string) => ({
  owner,
  instrumentId: { admin: 'admin', id: 'TOK' },
  amount,
  lock: null,
  meta,
});

/** A ledger with the admin's TokenRules and a 100 TOK holding of alice. */
async function setup() {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const rules = cidOf(
    (
      await ledger.submit({
        actAs: ['admin'],
        commands: [{ CreateCommand: { templateId: `${T}:TokenRules`, createArguments: { admin: 'admin' } } }],
      })
    ).results[0],
  ).coid;
  const minted = await ledger.submit({
    actAs: ['admin', 'alice'],
    commands: [
      {
        CreateCommand: { templateId: `${T}:Token`, createArguments: { holding: holding('alice', '100.0') } },
      },
    ],
  });
  return { ledger, rules, token: cidOf(minted.results[0]).coid };
}

function transfer(rules: string, inputs: string[], amount: string, receiver = 'bob', sender = 'alice') {
  return {
    ExerciseCommand: {
      templateId: `${T}:TokenRules`,
      contractId: rules,
      choice: 'TransferFactory_Transfer',
      choiceArgument: {
        expectedAdmin: 'admin',
        transfer: {
          sender,
          receiver,
          amount,
          instrumentId: { admin: 'admin', id: 'TOK' },
          requestedAt: '2025-01-01T11:00:00Z',
          executeBefore: '2025-01-02T00:00:00Z',
          inputHoldingCids: inputs,
          meta,
        },
        extraArgs,
      },
    },
  };
}

const instruction = (offer: string, choice: string) => ({
  ExerciseCommand: {
    templateId: TRANSFER_INSTRUCTION,
    contractId: offer,
    choice,
    choiceArgument: { extraArgs },
  },
});

/** Holdings by owner: template name and amount of each active contract the owner is a stakeholder of. */
function holdings(ledger: InMemoryLedger, party: string): string[] {
  return ledger
    .activeContracts([party])
    .filter((c) => c.templateId.name[0] !== 'TokenRules')
    .map((c) => {
      const arg = json(c.arg);
      const h = arg.holding ?? { owner: arg.transfer.sender, amount: arg.transfer.amount };
      return `${c.templateId.name.join('.')} ${h.owner} ${h.amount}`;
    });
}

async function offer(ledger: InMemoryLedger, rules: string, token: string) {
  const r = await ledger.submit({
    actAs: ['alice'],
    readAs: ['admin'],
    commands: [transfer(rules, [token], '30.0')],
  });
  const result = json(r.results[0]);
  return {
    tx: r,
    offer: result.output.value.transferInstructionCid as string,
    change: result.senderChangeCids,
  };
}

describe('token transfers through the TransferInstruction interface', () => {
  it('mints a token signed by owner and admin', async () => {
    const { ledger, token } = await setup();
    expect(ledger.contract(token)?.contract).toMatchObject({ signatories: ['admin', 'alice'] });
    expect(holdings(ledger, 'alice')).toEqual(['Token alice 100.0000000000']);
  });

  it('offers a transfer: the input holding is archived, change and offer created', async () => {
    const { ledger, rules, token } = await setup();
    const { tx, offer: offerId, change } = await offer(ledger, rules, token);
    const root = getNode(tx.transaction, 0) as ExerciseNode;
    expect(root).toMatchObject({
      choice: 'TransferFactory_Transfer',
      consuming: false,
      actingParties: ['alice'],
      interfaceId: { name: ['TransferFactory'] },
      templateId: { name: ['TokenRules'] },
    });
    expect([...tx.transaction.nodes.values()].map((n) => n.tag)).toEqual([
      'Exercise',
      'Fetch',
      'Exercise',
      'Create',
      'Create',
    ]);
    expect(ledger.contract(token)?.active).toBe(false);
    expect(change).toHaveLength(1);
    expect(holdings(ledger, 'alice')).toEqual([
      'Token alice 70.0000000000',
      'TokenTransferOffer alice 30.0000000000',
    ]);
    expect(holdings(ledger, 'bob')).toEqual(['TokenTransferOffer alice 30.0000000000']);
    // The transfer checks its deadlines against the ledger time: the transaction depends on it.
    expect(tx.metadata.timeBounds).toEqual({
      min: parseTimestamp('2025-01-01T11:00:00Z'),
      max: parseTimestamp('2025-01-02T00:00:00Z')! - 1n,
    });
    expect(ledger.contract(offerId)?.active).toBe(true);
  });

  it('accepts an offer: the receiver gets a token', async () => {
    const { ledger, rules, token } = await setup();
    const { offer: offerId } = await offer(ledger, rules, token);
    const accepted = await ledger.submit({
      actAs: ['bob'],
      commands: [instruction(offerId, 'TransferInstruction_Accept')],
    });
    expect(json(accepted.results[0]).output.tag).toBe('TransferInstructionResult_Completed');
    expect(ledger.contract(offerId)?.active).toBe(false);
    expect(holdings(ledger, 'bob')).toEqual(['Token bob 30.0000000000']);
    expect(holdings(ledger, 'alice')).toEqual(['Token alice 70.0000000000']);
    const [bobToken] = ledger.activeContracts(['bob']);
    expect(bobToken!.signatories).toEqual(['admin', 'bob']);
    for (const committed of ledger.transactions)
      expect(await reinterpretEveryNode(engine, committed)).toEqual([]);
  });

  it('rejects an offer: the sender gets the amount back', async () => {
    const { ledger, rules, token } = await setup();
    const { offer: offerId } = await offer(ledger, rules, token);
    const rejected = await ledger.submit({
      actAs: ['bob'],
      commands: [instruction(offerId, 'TransferInstruction_Reject')],
    });
    expect(holdings(ledger, 'bob')).toEqual([]);
    expect(holdings(ledger, 'alice')).toEqual(['Token alice 70.0000000000', 'Token alice 30.0000000000']);
    expect(await reinterpretEveryNode(engine, rejected)).toEqual([]);
  });

  it('withdraws an offer, which only the sender may do', async () => {
    const { ledger, rules, token } = await setup();
    const { offer: offerId } = await offer(ledger, rules, token);
    const byBob = await failure(
      ledger.submit({ actAs: ['bob'], commands: [instruction(offerId, 'TransferInstruction_Withdraw')] }),
    );
    expect(byBob.code).toBe('DAML_AUTHORIZATION_ERROR');
    expect(byBob.message).toMatch(/controllers alice, but alice did not authorize it \(authorizers: bob\)/);
    await ledger.submit({
      actAs: ['alice'],
      commands: [instruction(offerId, 'TransferInstruction_Withdraw')],
    });
    expect(holdings(ledger, 'alice')).toEqual(['Token alice 70.0000000000', 'Token alice 30.0000000000']);
    const again = await failure(
      ledger.submit({ actAs: ['bob'], commands: [instruction(offerId, 'TransferInstruction_Accept')] }),
    );
    expect(again.code).toBe('DAML_CONTRACT_NOT_ACTIVE');
  });
});

describe('token failures', () => {
  it('rejects minting without the owner, naming the missing signatory', async () => {
    const ledger = new InMemoryLedger(engine, { time: NOW });
    const e = await failure(
      ledger.submit({
        actAs: ['admin'],
        commands: [
          {
            CreateCommand: {
              templateId: `${T}:Token`,
              createArguments: { holding: holding('alice', '1.0') },
            },
          },
        ],
      }),
    );
    expect(e.code).toBe('DAML_AUTHORIZATION_ERROR');
    expect(e.message).toMatch(/signatories admin, alice, but alice did not authorize it/);
  });

  it('enforces the ensure clause (positive amounts)', async () => {
    const ledger = new InMemoryLedger(engine, { time: NOW });
    const e = await failure(
      ledger.submit({
        actAs: ['admin', 'alice'],
        commands: [
          {
            CreateCommand: {
              templateId: `${T}:Token`,
              createArguments: { holding: holding('alice', '0.0') },
            },
          },
        ],
      }),
    );
    expect(e).toBeInstanceOf(DamlInterpretationError);
    expect((e as DamlInterpretationError).detail).toMatchObject({
      kind: 'FailureStatus',
      errorId: 'UNHANDLED_EXCEPTION/DA.Exception.PreconditionFailed:PreconditionFailed',
    });
  });

  it('refuses to fetch a holding none of whose stakeholders authorizes the transfer', async () => {
    const { ledger, rules } = await setup();
    // carol's token of another instrument admin: the transfer (authorized by alice and admin) fetches it.
    const carolToken = cidOf(
      (
        await ledger.submit({
          actAs: ['other-admin', 'carol'],
          commands: [
            {
              CreateCommand: {
                templateId: `${T}:Token`,
                createArguments: {
                  holding: { ...holding('carol', '5.0'), instrumentId: { admin: 'other-admin', id: 'X' } },
                },
              },
            },
          ],
        })
      ).results[0],
    ).coid;
    const e = await failure(
      ledger.submit({
        actAs: ['alice'],
        readAs: ['admin', 'carol'],
        commands: [transfer(rules, [carolToken], '1.0')],
      }),
    );
    expect(e.code).toBe('DAML_AUTHORIZATION_ERROR');
    expect(e.message).toMatch(
      /fetch of Splice.Testing.Tokens.TestTokenV1:Token contract .* requires one of its stakeholders carol, other-admin among the authorizers admin, alice/,
    );
  });

  it('reports the path of an ill-typed choice argument', async () => {
    const { ledger, rules, token } = await setup();
    const bad = transfer(rules, [token], 'ten');
    const e = await failure(ledger.submit({ actAs: ['alice'], readAs: ['admin'], commands: [bad] }));
    expect(e.code).toBe('DAML_COMMAND_INVALID');
    expect(e.message).toMatch(/^commands\[0\]\.choiceArgument\.transfer\.amount: expected a Numeric 10/);
    const badTime = transfer(rules, [token], '1.0');
    (badTime.ExerciseCommand.choiceArgument.transfer as { requestedAt: string }).requestedAt = 'yesterday';
    expect((await failure(ledger.submit({ actAs: ['alice'], commands: [badTime] }))).message).toMatch(
      /choiceArgument\.transfer\.requestedAt: expected a Time/,
    );
  });

  it('refuses values nested deeper than 100 levels', async () => {
    const { ledger, rules, token } = await setup();
    let deep: unknown = { tag: 'AV_Text', value: 'bottom' };
    for (let i = 0; i < 100; i++) deep = { tag: 'AV_List', value: [deep] };
    const command = transfer(rules, [token], '1.0');
    (command.ExerciseCommand.choiceArgument as { extraArgs: unknown }).extraArgs = {
      context: { values: { deep } },
      meta,
    };
    const e = await failure(ledger.submit({ actAs: ['alice'], readAs: ['admin'], commands: [command] }));
    expect(e.code).toBe('DAML_VALUE_NESTING_LIMIT');
    expect(e.message).toBe(
      'the argument of choice TransferFactory_Transfer is nested deeper than 100 levels',
    );
  });

  it('lets Daml code reject a transfer above the holdings (an assertion, not an authorization failure)', async () => {
    const { ledger, rules, token } = await setup();
    const e = await failure(
      ledger.submit({ actAs: ['alice'], readAs: ['admin'], commands: [transfer(rules, [token], '500.0')] }),
    );
    expect(e.code).toBe('DAML_INTERPRETATION_ERROR');
    expect(ledger.contract(token)?.active).toBe(true);
  });
});
