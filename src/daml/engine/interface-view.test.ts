import { beforeAll, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { TOKEN_DAR } from '../dar/testing.js';
import { parseTimestamp } from '../values/time.js';
import type { Engine } from './engine.js';
import { InMemoryLedger } from './ledger.js';
import { cidOf, json, loadEngine } from './testing.js';

const T = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
const HOLDING = '#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Holding';
const NOW = parseTimestamp('2025-01-01T12:00:00Z')!;

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

async function mintedToken() {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const holding = {
    owner: 'alice',
    instrumentId: { admin: 'admin', id: 'TOK' },
    amount: '12.5',
    lock: null,
    meta: { values: { memo: 'first' } },
  };
  const minted = await ledger.submit({
    actAs: ['admin', 'alice'],
    commands: [{ CreateCommand: { templateId: `${T}:Token`, createArguments: { holding } } }],
  });
  const cid = cidOf(minted.results[0]).coid;
  return ledger.activeContracts(['alice']).find((c) => c.contractId.coid === cid)!;
}

it('computes the view of a contract through an interface its template implements', async () => {
  const token = await mintedToken();
  const view = engine.interfaceView(token, engine.packages.parseRef(HOLDING));
  expect(view.kind).toBe('Record');
  expect(json(view)).toMatchObject({
    owner: 'alice',
    instrumentId: { admin: 'admin', id: 'TOK' },
    amount: '12.5000000000',
    meta: { values: { memo: 'first' } },
  });
});

it('refuses an interface the template does not implement', async () => {
  const token = await mintedToken();
  const other = engine.packages.parseRef(
    '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction',
  );
  let error: unknown;
  try {
    engine.interfaceView(token, other);
  } catch (e) {
    error = e;
  }
  expect(isWeftError(error) && error.code).toBe('DAML_COMMAND_INVALID');
});
