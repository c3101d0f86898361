import { expect, it } from 'vitest';
import { Value } from '../generated/com/daml/ledger/api/v2/value.js';
import { OWN_BYTES_READ_OPTIONS } from './binary-reader.js';
import { FAST_WRITE_OPTIONS } from './binary-writer.js';

const value: Value = {
  sum: {
    oneofKind: 'record',
    record: {
      recordId: { packageId: 'ab'.repeat(32), moduleName: 'A.B', entityName: 'R' },
      fields: [
        { label: 'ascii', value: { sum: { oneofKind: 'party', party: `alice::1220${'ab'.repeat(32)}` } } },
        { label: 'ünïcödé', value: { sum: { oneofKind: 'text', text: 'ünïcödé ✓ 𝄞 '.repeat(20) } } },
        { label: '', value: { sum: { oneofKind: 'text', text: '' } } },
      ],
    },
  },
};

it('reads what the runtime reader reads, from a Buffer or a plain Uint8Array', () => {
  const buffer = Buffer.from(Value.toBinary(value, FAST_WRITE_OPTIONS));
  const plain = new Uint8Array(buffer);
  // A message inside a larger buffer (as the encoder's pooled output is).
  const offset = Buffer.concat([Buffer.from('xyz'), buffer]).subarray(3);
  for (const bytes of [buffer, plain, offset]) {
    expect(Value.fromBinary(bytes, OWN_BYTES_READ_OPTIONS)).toEqual(Value.fromBinary(plain));
  }
});
