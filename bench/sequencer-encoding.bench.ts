/**
 * What the sequencer spends on protobuf per submission and per delivered event, with the envelopes decoded and
 * re-encoded (API messages: what it did before) or kept as the sender's bytes (the Encoded* views it uses now).
 * A submission of a two-party transfer's confirmation request: 4 envelopes (1.5 KiB informee message, two 3 KiB
 * views, a 300 B root hash message) between two participants. The two ways alternate round by round (the machine
 * is shared); medians over rounds. Run: npx tsx bench/sequencer-encoding.bench.ts
 */
import { loadavg } from 'node:os';
import { systemRandom } from '../src/crypto/index.js';
import {
  Envelope,
  EnvelopeKind,
  SequencedEvent,
  SubmissionRequest,
} from '../src/generated/weft/sequencer/v1/sequencing.js';
import {
  EncodedSequencedEvent,
  EncodedSubmissionRequest,
  StoredBatch,
} from '../src/generated/weft/sequencer/v1/stored_batch.js';

const ROUNDS = 11;
const ITEMS = 5000;
const P1 = `PAR::participant1::1220${'ab'.repeat(32)}`;
const P2 = `PAR::participant2::1220${'cd'.repeat(32)}`;
const envelope = (size: number, to: readonly string[]): Envelope => ({
  content: systemRandom.bytes(size),
  kind: EnvelopeKind.PROTOCOL,
  recipients: to.map((member) => ({ recipient: { oneofKind: 'member' as const, member } })),
});
const envelopes = [
  envelope(1536, [P1, P2]),
  envelope(3072, [P1]),
  envelope(3072, [P2]),
  envelope(300, [P1, P2]),
];
const encodedEnvelopes = envelopes.map((e) => Envelope.toBinary(e));
const submission = SubmissionRequest.toBinary({
  sender: P1,
  messageId: 'ab'.repeat(16),
  batch: { envelopes },
  maxSequencingTime: 1n,
  synchronizerId: `sync::1220${'ef'.repeat(32)}`,
  traceContext: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: '' },
});
const stored = (bytes: Uint8Array) => ({ envelope: bytes, memberIds: [1n, 2n], allMembers: false });
const event = { counter: 5n, timestamp: 10n, previousTimestamp: 7n, synchronizerId: 'sync::x' };

/** CPU microseconds (user + system) per call of `f`. */
function cpuPer(f: () => unknown): number {
  const start = process.cpuUsage();
  for (let i = 0; i < ITEMS; i++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ITEMS;
}

const ways = {
  reencoded: {
    accept: () =>
      StoredBatch.toBinary({
        envelopes: SubmissionRequest.fromBinary(submission).batch!.envelopes.map((e) =>
          stored(Envelope.toBinary(e)),
        ),
      }),
    event: () =>
      SequencedEvent.toBinary({
        ...event,
        event: { oneofKind: 'deliver', deliver: { messageId: '', batch: { envelopes } } },
      }),
  },
  bytes: {
    accept: () =>
      StoredBatch.toBinary({
        envelopes: EncodedSubmissionRequest.fromBinary(submission).batch!.envelopes.map((b) => {
          Envelope.fromBinary(b); // the recipients are still read
          return stored(b);
        }),
      }),
    event: () =>
      EncodedSequencedEvent.toBinary({
        ...event,
        event: { oneofKind: 'deliver', deliver: { messageId: '', batch: { envelopes: encodedEnvelopes } } },
      }),
  },
};

const samples = new Map<string, number[]>();
const record = (name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value]);
for (let round = -1; round < ROUNDS; round++) {
  for (const [name, way] of Object.entries(ways)) {
    const accept = cpuPer(way.accept);
    const deliver = cpuPer(way.event);
    // Round -1 warms the JIT up.
    if (round < 0) continue;
    record(`${name} accept`, accept);
    record(`${name} event`, deliver);
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`load average ${loadavg()[0]!.toFixed(1)}; CPU µs per call, median of ${ROUNDS} rounds`);
for (const [name, xs] of samples) console.log(`${name.padEnd(18)} ${median(xs).toFixed(1)}`);
