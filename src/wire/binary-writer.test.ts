import { BinaryWriter } from '@protobuf-ts/runtime';
import { expect, it } from 'vitest';
import { GetUpdatesResponse } from '../generated/com/daml/ledger/api/v2/update_service.js';
import { Value } from '../generated/com/daml/ledger/api/v2/value.js';
import { Duration } from '../generated/google/protobuf/duration.js';
import { Timestamp } from '../generated/google/protobuf/timestamp.js';
import { Status } from '../generated/google/rpc/status.js';
import { FAST_WRITE_OPTIONS, FastBinaryWriter } from './binary-writer.js';

/** The runtime writer's bytes and ours for the same message. */
const both = <T extends object>(type: { toBinary(m: T, o?: object): Uint8Array }, message: T) => [
  Buffer.from(type.toBinary(message)).toString('hex'),
  Buffer.from(type.toBinary(message, FAST_WRITE_OPTIONS)).toString('hex'),
];

const record = (depth: number): Value =>
  depth === 0
    ? { sum: { oneofKind: 'text', text: 'ünïcödé ✓ '.repeat(20) } }
    : {
        sum: {
          oneofKind: 'record',
          record: {
            recordId: { packageId: 'ab'.repeat(32), moduleName: 'A.B', entityName: `R${depth}` },
            fields: [
              {
                label: 'n',
                value: { sum: { oneofKind: 'int64', int64: String(-(10n ** BigInt(depth % 19))) } },
              },
              { label: 't', value: { sum: { oneofKind: 'timestamp', timestamp: '-62135596800000000' } } },
              { label: 'd', value: { sum: { oneofKind: 'date', date: -719162 } } },
              { label: 'b', value: { sum: { oneofKind: 'bool', bool: depth % 2 === 0 } } },
              { label: 'u', value: { sum: { oneofKind: 'unit', unit: {} } } },
              { label: 'r', value: record(depth - 1) },
              {
                label: 'l',
                value: { sum: { oneofKind: 'list', list: { elements: [record(0), record(0)] } } },
              },
            ],
          },
        },
      };

it('writes the same bytes as the runtime writer, for nested values, 64-bit, negative and fixed fields', () => {
  for (const depth of [0, 1, 5, 30]) {
    const [expected, actual] = both(Value, record(depth));
    expect(actual).toBe(expected);
  }
  for (const seconds of [0n, 1n, -1n, 2n ** 40n, -(2n ** 62n), 9223372036854775807n]) {
    const [expected, actual] = both(Timestamp, { seconds, nanos: 999_999_999 });
    expect(actual).toBe(expected);
    expect(both(Duration, { seconds: -seconds, nanos: -1 })[1]).toBe(
      both(Duration, { seconds: -seconds, nanos: -1 })[0],
    );
  }
  const status = {
    code: -5,
    message: 'x'.repeat(70_000),
    details: [{ typeUrl: 't', value: new Uint8Array(300).fill(7) }],
  };
  const [expected, actual] = both(Status, status);
  expect(actual).toBe(expected);
  const update: GetUpdatesResponse = {
    update: {
      oneofKind: 'offsetCheckpoint',
      offsetCheckpoint: {
        offset: 2n ** 53n + 3n,
        synchronizerTimes: [{ synchronizerId: 's', recordTime: { seconds: 5n, nanos: 1 } }],
      },
    },
  };
  expect(both(GetUpdatesResponse, update)[1]).toBe(both(GetUpdatesResponse, update)[0]);
  // Strings about the one-byte length limit, ASCII or not; nested messages just below and above it.
  for (const n of [0, 1, 31, 32, 33, 126, 127, 128, 129, 300]) {
    for (const text of ['a'.repeat(n), `${'a'.repeat(Math.max(0, n - 1))}é`]) {
      const [e, a] = both(Value, {
        sum: { oneofKind: 'list', list: { elements: [{ sum: { oneofKind: 'text', text } }] } },
      });
      expect(a).toBe(e);
    }
  }
});

it('writes every scalar kind as the runtime writer does', () => {
  const write = (w: BinaryWriter | FastBinaryWriter) =>
    Buffer.from(
      w
        .tag(1, 0)
        .int32(-1)
        .sint32(-123456)
        .uint32(0xffffffff)
        .int64(-2n)
        .uint64('18446744073709551615')
        .sint64(-(2n ** 63n))
        .fixed64(2n ** 64n - 1n)
        .sfixed64(-3)
        .fixed32(0xfffffffe)
        .sfixed32(-7)
        .float(1.5)
        .double(-0.1)
        .bool(true)
        .bytes(new Uint8Array([1, 2, 3]))
        .string('')
        .fork()
        .fork()
        .join()
        .join()
        .finish(),
    ).toString('hex');
  expect(write(new FastBinaryWriter())).toBe(write(new BinaryWriter()));
  expect(() => new FastBinaryWriter().join()).toThrow(/fork stack empty/);
  expect(() => new FastBinaryWriter().uint32(-1)).toThrow(/invalid uint32/);
});

it('keeps writers apart when one is used again after finish while another writes', () => {
  const first = new FastBinaryWriter();
  const a = Buffer.from(first.tag(1, 2).string('first').finish()).toString('hex');
  const second = new FastBinaryWriter().tag(2, 2).string('second');
  const again = Buffer.from(first.tag(1, 2).string('again').finish()).toString('hex');
  const b = Buffer.from(second.finish()).toString('hex');
  expect([a, again, b]).toEqual([
    Buffer.from(new BinaryWriter().tag(1, 2).string('first').finish()).toString('hex'),
    Buffer.from(new BinaryWriter().tag(1, 2).string('again').finish()).toString('hex'),
    Buffer.from(new BinaryWriter().tag(2, 2).string('second').finish()).toString('hex'),
  ]);
});
