import { beforeAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { PING_DAR } from '../dar/testing.js';
import type { Type } from '../lf/ast.js';
import { encodeNode, encodeTransaction, encodeValue, TransactionDecoder } from './codec.js';
import type { Engine } from './engine.js';
import { InMemoryLedger } from './ledger.js';
import { loadEngine } from './testing.js';
import { getNode } from './transaction.js';

/** The canonical encoding: one byte string per value, rejected when malformed or ill-typed. */

let engine: Engine;
let decoder: TransactionDecoder;
beforeAll(() => {
  engine = loadEngine(PING_DAR);
  decoder = new TransactionDecoder(engine.types);
});

const INT: Type = { tag: 'Builtin', builtin: 'INT64', args: [] };
const TEXTMAP_INT: Type = { tag: 'Builtin', builtin: 'TEXTMAP', args: [INT] };

function malformed(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (isWeftError(e) && e.code === 'DAML_TRANSACTION_MALFORMED') return e.message;
    throw e;
  }
  throw new Error('accepted');
}

async function pingTransaction() {
  const ledger = new InMemoryLedger(engine);
  const PING = '#canton-builtin-admin-workflow-ping:Canton.Internal.Ping:Ping';
  const c = await ledger.submit({
    actAs: ['alice'],
    commands: [
      {
        CreateCommand: {
          templateId: PING,
          createArguments: { id: 'é€😀', initiator: 'alice', responder: 'bob' },
        },
      },
    ],
  });
  return c.transaction;
}

describe('the canonical encoding', () => {
  it('encodes equal values to equal bytes, whatever order maps were built in', () => {
    const a = engine.translator.fromJson({ x: '1', y: '-2' }, TEXTMAP_INT, 'm');
    const b = engine.translator.fromJson({ y: '-2', x: '1' }, TEXTMAP_INT, 'm');
    expect(encodeValue(a)).toEqual(encodeValue(b));
    expect(decoder.decodeValue(encodeValue(a), TEXTMAP_INT)).toEqual(a);
    // Int64 extremes and long text survive.
    for (const n of ['-9223372036854775808', '9223372036854775807', '0']) {
      const v = engine.translator.fromJson(n, INT, 'n');
      expect(decoder.decodeValue(encodeValue(v), INT)).toEqual(v);
    }
  });

  it('round-trips transactions, with non-ASCII text', async () => {
    const tx = await pingTransaction();
    const bytes = encodeTransaction(tx);
    expect(bytes[0]).toBe(0x57);
    expect(decoder.decodeTransaction(bytes)).toEqual(tx);
    expect(encodeNode(getNode(tx, 0))).toEqual(encodeNode(getNode(decoder.decodeTransaction(bytes), 0)));
  });

  it('rejects truncated, foreign, versioned-later and ill-typed encodings', async () => {
    const bytes = encodeTransaction(await pingTransaction());
    expect(malformed(() => decoder.decodeTransaction(bytes.slice(0, bytes.length - 3)))).toMatch(/truncated/);
    expect(malformed(() => decoder.decodeTransaction(Uint8Array.of(0x41, 1)))).toMatch(
      /not an encoded transaction/,
    );
    expect(malformed(() => decoder.decodeTransaction(Uint8Array.of(0x57, 9)))).toMatch(
      /unsupported transaction format version 9/,
    );
    expect(malformed(() => decoder.decodeTransaction(Uint8Array.of(...bytes, 0)))).toMatch(/trailing bytes/);
    const text = encodeValue({ kind: 'Text', value: 'x' });
    expect(malformed(() => decoder.decodeValue(text, INT))).toMatch(/expected an Int64, found value tag 5/);
    // Map keys out of order have no canonical form.
    const swapped = Uint8Array.of(16, 2, 5, 1, 0x79, 3, 2, 5, 1, 0x78, 3, 4);
    expect(malformed(() => decoder.decodeValue(swapped, TEXTMAP_INT))).toMatch(/not in ascending order/);
  });
});
