/**
 * How fast this machine runs today, as three fixed probes of the kinds of work a node does: Ed25519 signing
 * (libsodium arithmetic), SHA-256 of 32 bytes (a native call per small input) and a Daml record encoded and
 * decoded with protobuf-ts (JavaScript objects, allocation and GC). The shared VM's speed drifts by 2–3× from one
 * day to the next, so a figure of one day is comparable with another's only beside these (docs/performance.md,
 * 'The machine's speed beside every figure').
 */
import { performance } from 'node:perf_hooks';
import { generateSigningKeyPair, Hash, HashPurpose, systemRandom } from '../src/crypto/index.js';
import { Value } from '../src/generated/com/daml/ledger/api/v2/value.js';

/** Operations per second of each probe. */
export interface MachineSpeed {
  readonly ed25519SignPerSec: number;
  readonly sha256Of32BytesPerSec: number;
  readonly damlRecordProtobufRoundTripPerSec: number;
}

/** Each probe runs this long per round, after a warm-up: long enough to span a few GCs, short beside any benchmark. */
const PROBE_MS = 200;
const WARM_UP_MS = 100;
/** Rounds, the probes taking turns: a probe's median over them rides out a neighbour's burst on the VM. */
const ROUNDS = 3;
/** Calls between two looks at the clock: the clock costs more than a hash. */
const CHUNK = 64;

/** Calls `op` for `ms`; how many calls that was. */
function callsWithin(ms: number, op: () => unknown): number {
  const end = performance.now() + ms;
  let calls = 0;
  for (; performance.now() < end; calls += CHUNK) for (let i = 0; i < CHUNK; i++) op();
  return calls;
}

/** Each probe's operations per second: the median of its rounds, the probes taking turns. */
function opsPerSec<K extends string>(probes: Record<K, () => unknown>): Record<K, number> {
  const entries = Object.entries(probes) as [K, () => unknown][];
  for (const [, op] of entries) callsWithin(WARM_UP_MS, op);
  const rates = new Map<K, number[]>(entries.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, op] of entries) {
      const start = performance.now();
      const calls = callsWithin(PROBE_MS, op);
      rates.get(k)!.push(calls / ((performance.now() - start) / 1000));
    }
  const median = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
  return Object.fromEntries(entries.map(([k]) => [k, median(rates.get(k)!)])) as Record<K, number>;
}

/** A token-holding-like record: parties, an amount, a timestamp, a list of observers, a nested record. */
function damlRecord(): Value {
  const text = (t: string): Value => ({ sum: { oneofKind: 'text', text: t } });
  const party = (p: string): Value => ({ sum: { oneofKind: 'party', party: p } });
  const field = (label: string, value: Value) => ({ label, value });
  const record = (fields: ReturnType<typeof field>[]): Value => ({
    sum: { oneofKind: 'record', record: { fields } },
  });
  return record([
    field('admin', party('admin::1220aa')),
    field('owner', party('alice::1220bb')),
    field('amount', { sum: { oneofKind: 'numeric', numeric: '10.0000000000' } }),
    field('lockedUntil', { sum: { oneofKind: 'timestamp', timestamp: '1765000000000000' } }),
    field('observers', {
      sum: { oneofKind: 'list', list: { elements: [party('bob::1220cc'), party('carol::1220dd')] } },
    }),
    field('meta', record([field('reason', text('transfer')), field('ref', text('cmd-42'))])),
  ]);
}

/** Runs the three probes (~2 s in all). */
export function measureMachineSpeed(): MachineSpeed {
  const { privateKey } = generateSigningKeyPair(systemRandom);
  const message = new Uint8Array(32).fill(7);
  const record = damlRecord();
  return opsPerSec({
    ed25519SignPerSec: () => privateKey.sign(message),
    sha256Of32BytesPerSec: () => Hash.digest(HashPurpose.Unicum, message),
    damlRecordProtobufRoundTripPerSec: () => Value.fromBinary(Value.toBinary(record)),
  });
}

/** One line for a benchmark's output. */
export function formatMachineSpeed(s: MachineSpeed): string {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k/s`;
  return `Ed25519 sign ${k(s.ed25519SignPerSec)}, SHA-256 of 32 B ${k(s.sha256Of32BytesPerSec)}, Daml record protobuf round trip ${k(s.damlRecordProtobufRoundTripPerSec)}`;
}
