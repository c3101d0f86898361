// Distinct sequencers as real processes: two `weft daemon` sequencers with their own identities and node schemas
// ordering in one shared PostgreSQL ordering schema (examples/config/sequencer-bft-*.conf), bootstrapped together
// with a sequencer threshold; a member reads the same events through both, each signed by its own sequencer. A
// third sequencer on the same ordering schema, not in the genesis, refuses to serve. Needs `npm run build`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { SigningPublicKey } from '../../src/crypto/index.js';
import { KeyPurpose } from '../../src/generated/weft/admin/v1/node_status_service.js';
import { EnvelopeKind } from '../../src/generated/weft/sequencer/v1/sequencing.js';
import {
  type ReceivedEvent,
  registerOnboardingTransactions,
  type SequencerClient,
  SequencerErrors,
} from '../../src/sequencer/index.js';
import { rejection } from '../../src/sequencer/testing.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import { connectWhenActive, demoParticipant } from './demo-participant.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  mediatorConfig,
  participantConfig,
  REPO,
  startDaemon,
  weft,
} from './processes.js';

const unavailable = await postgresSkipReason();

const dir = mkdtempSync(join(tmpdir(), 'weft-bft-'));
const clients: SequencerClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const soon = () => BigInt(Date.now() + 30_000) * 1000n;
const texts = (events: readonly ReceivedEvent[]) =>
  events.flatMap((e) =>
    e.envelopes.filter((x) => x.kind === EnvelopeKind.PROTOCOL).map((x) => Buffer.from(x.content).toString()),
  );

interface Sequencer {
  readonly daemon: Daemon;
  readonly admin: AdminClient;
  readonly id: string;
  readonly key: SigningPublicKey;
}

describe.skipIf(unavailable !== undefined)('distinct sequencers sharing one ordering storage', () => {
  const suffix = randomBytes(5).toString('hex');
  const schema = (x: string) => `weft_test_${x}_${suffix}`;
  const node = (x: string) => ({
    WEFT_DB_URL: pgTestUrl(),
    WEFT_NODE_SCHEMA: schema(x),
    WEFT_ORDERING_SCHEMA: schema('ordering'),
  });
  let a: Sequencer;
  let b: Sequencer;
  let c: Daemon;
  let synchronizerId: string;

  afterAll(async () => {
    const client = new pg.Client({ connectionString: pgTestUrl() });
    await client.connect();
    for (const x of ['a', 'b', 'c', 'ordering'])
      await client.query(`DROP SCHEMA IF EXISTS ${schema(x)} CASCADE`);
    await client.end();
  });

  /** A config including the example of sequencer `example`, with free ports and, for `c`, a name of its own. */
  async function config(x: 'a' | 'b' | 'c', example: 'a' | 'b'): Promise<string> {
    const file = join(dir, `sequencer-${x}.conf`);
    const included = relative(dir, join(REPO, `examples/config/sequencer-bft-${example}.conf`));
    writeFileSync(
      file,
      `include required("${included}")
weft.node {
  ${x === example ? '' : `name = sequencer-bft-${x}`}
  public-api.port = ${await freePort()}
  admin-api.port = ${await freePort()}
  monitoring.http-server.port = 0
}
`,
    );
    return file;
  }

  async function sequencer(daemon: Daemon): Promise<Sequencer> {
    const admin = new AdminClient(daemon.adminUrl);
    const identity = await admin.identity();
    const signing = identity.keys.find((k) => k.purpose === KeyPurpose.SIGNING)!;
    return { daemon, admin, id: identity.memberId, key: SigningPublicKey.fromRaw(signing.publicKey) };
  }

  afterAll(() => {
    for (const s of [a, b]) s?.admin.close();
  });

  it('bootstrap on one naming the other: both serve under their own ids, listed with threshold 2', async () => {
    const daemons = await Promise.all([
      startDaemon(await config('a', 'a'), join(dir, 'a.ports'), { env: node('a') }),
      startDaemon(await config('b', 'b'), join(dir, 'b.ports'), { env: node('b') }),
      startDaemon(await config('c', 'a'), join(dir, 'c.ports'), { env: node('c') }),
    ]);
    [a, b] = await Promise.all([sequencer(daemons[0]), sequencer(daemons[1])]);
    c = daemons[2];
    expect(a.id).toMatch(/^SEQ::sequencer-bft-a::1220/);
    expect(b.id).toMatch(/^SEQ::sequencer-bft-b::1220/);
    expect(a.key.fingerprint.value).not.toBe(b.key.fingerprint.value);

    const boot = await weft([
      'admin',
      '-e',
      a.daemon.adminUrl,
      'bootstrap',
      '--name',
      'bft',
      '--sequencer',
      b.daemon.adminUrl,
      '--sequencer-threshold',
      '2',
    ]);
    expect(boot.stderr).toBe('');
    synchronizerId = /bootstrapped synchronizer (\S+)/.exec(boot.stdout)![1]!;
    expect(boot.stdout).toContain(
      `sequencer ${a.id}  (this node)\nsequencer ${b.id}\nsequencer threshold 2\n`,
    );

    // B finds the genesis in the shared ordering storage and serves under its own id.
    await eventually('sequencer B to serve', async () => (await b.admin.status()).ready);
    for (const s of [a, b]) {
      const status = await weft(['admin', '-e', s.daemon.adminUrl, 'status']);
      expect(status.stdout).toContain(`member        ${s.id}\n`);
      expect(status.stdout).toContain(`synchronizer  ${synchronizerId} (protocol 1)\n`);
      expect(status.stdout).toContain('ready         yes\n');
      const listed = await weft([
        'admin',
        '-e',
        s.daemon.adminUrl,
        '--json',
        'topology',
        'list',
        '--type',
        'SequencerSynchronizerState',
      ]);
      const { transactions } = JSON.parse(listed.stdout) as {
        transactions: { mapping: { sequencerSynchronizerState: { threshold: number; active: string[] } } }[];
      };
      expect(transactions.map((t) => t.mapping.sequencerSynchronizerState)).toEqual([
        { synchronizerId, threshold: 2, active: [a.id, b.id] },
      ]);
    }
    const ready = await fetch(`http://127.0.0.1:${b.daemon.ports.monitoring}/ready`);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { storage: 'ok', 'ordering-storage': 'ok', sequencer: 'ok' },
    });
  });

  it('deliver identical events to a member through both sequencers, each signed by its own key', async () => {
    const alice = demoParticipant('alice', synchronizerId);
    const bob = demoParticipant('bob', synchronizerId);
    await registerOnboardingTransactions([a.daemon.publicUrl], alice.onboarding);
    await registerOnboardingTransactions([b.daemon.publicUrl], bob.onboarding);
    const received = new Map<string, ReceivedEvent[]>();
    const subscribe = async (member: typeof alice, s: Sequencer) => {
      const events: ReceivedEvent[] = [];
      received.set(`${member.id}@${s.id}`, events);
      const client = await connectWhenActive({
        member: member.id,
        signingKey: member.signingKey,
        endpoints: [s.daemon.publicUrl],
        expectedSynchronizerId: synchronizerId,
        expectedSequencerId: s.id,
        // Events of any active sequencer verify: the member trusts the sequencers of its topology state.
        sequencerKeys: () => [a.key, b.key],
        handler: (e) => {
          events.push(e);
        },
        maxBackoffMs: 200,
      });
      clients.push(client);
      return client;
    };
    const aliceOnA = await subscribe(alice, a);
    await subscribe(alice, b);
    const bobOnB = await subscribe(bob, b);
    expect(aliceOnA.sequencerId).toBe(a.id);
    expect(bobOnB.sequencerId).toBe(b.id);

    const envelope = (text: string, to: string) => ({
      content: Buffer.from(text),
      recipients: [{ recipient: { oneofKind: 'member' as const, member: to } }],
      kind: EnvelopeKind.PROTOCOL,
    });
    const sends = [];
    for (let i = 0; i < 5; i++) {
      sends.push(
        (await aliceOnA.send({ envelopes: [envelope(`a${i}`, bob.id)], maxSequencingTime: soon() })).outcome,
      );
      sends.push(
        (await bobOnB.send({ envelopes: [envelope(`b${i}`, alice.id)], maxSequencingTime: soon() })).outcome,
      );
    }
    expect((await Promise.all(sends)).map((o) => o.kind)).toEqual(Array(10).fill('delivered'));
    const onA = received.get(`${alice.id}@${a.id}`)!;
    const onB = received.get(`${alice.id}@${b.id}`)!;
    // Alice's events: the onboarding broadcasts, bob's five messages and the receipts of her own five sends.
    await eventually('alice to receive through both sequencers', () =>
      [onA, onB].every(
        (events) => texts(events).length === 5 && events.filter((e) => e.messageId).length === 5,
      ),
    );
    expect(texts(onA)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(onB.map((e) => Buffer.from(e.proof.event))).toEqual(onA.map((e) => Buffer.from(e.proof.event)));
    expect(onB.map((e) => [e.counter, e.timestamp])).toEqual(onA.map((e) => [e.counter, e.timestamp]));
    expect(new Set(onA.map((e) => e.proof.root.signedBy))).toEqual(new Set([a.key.fingerprint.value]));
    expect(new Set(onB.map((e) => e.proof.root.signedBy))).toEqual(new Set([b.key.fingerprint.value]));
    expect(texts(received.get(`${bob.id}@${b.id}`)!)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('a mediator and participants connect to both with trust threshold 2 (connect_bft): pings, stall while one is down, resume', async () => {
    const connection = `sequencers = [{ endpoints = ["${a.daemon.publicUrl}"] }, { endpoints = ["${b.daemon.publicUrl}"] }]
    trust-threshold = 2`;
    const [med, p1, p2] = await Promise.all([
      startDaemon(
        mediatorConfig(dir, 'mediator', 0, `endpoints = null, ${connection}`),
        join(dir, 'mediator.ports'),
      ),
      startDaemon(participantConfig(dir, 'participant1'), join(dir, 'p1.ports')),
      startDaemon(participantConfig(dir, 'participant2'), join(dir, 'p2.ports')),
    ]);
    const added = await weft([
      'admin',
      '-e',
      a.daemon.adminUrl,
      'mediators',
      'add',
      '--mediator',
      med.adminUrl,
    ]);
    expect(added.stderr).toBe('');
    const medAdmin = new AdminClient(med.adminUrl);
    try {
      await eventually('the mediator to serve', async () => (await medAdmin.status()).ready, 15_000);
    } finally {
      medAdmin.close();
    }
    const bft = ['--bft-sequencer', a.daemon.publicUrl, '--bft-sequencer', b.daemon.publicUrl];
    for (const p of [p1, p2]) {
      const joined = await weft([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'bft',
        ...bft,
        '--trust-threshold',
        '2',
      ]);
      expect(joined.stderr).toBe('');
      expect(joined.stdout).toContain(`is connected to ${synchronizerId} (bft)`);
    }
    const listed = await weft(['admin', '-e', p1.adminUrl, '--json', 'participant', 'list-connected']);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      {
        alias: 'bft',
        synchronizerId,
        healthy: true,
        sequencers: [{ endpoints: [a.daemon.publicUrl] }, { endpoints: [b.daemon.publicUrl] }],
        sequencerTrustThreshold: 2,
      },
    ]);
    const id2 = (await weft(['admin', '-e', p2.adminUrl, 'id', '--member'])).stdout.trim();
    const ping = (timeout: string) => weft(['admin', '-e', p1.adminUrl, 'ping', id2, '--timeout', timeout]);
    const first = await ping('20000');
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^ping PAR::participant2::\S+: [\d.]+ ms\n$/);

    // With B down, no event reaches the threshold: nothing is processed, the ping times out.
    expect(await b.daemon.stop()).toBe(0);
    const stalled = await ping('2000');
    expect(stalled.code).toBe(1);
    expect(stalled.stderr).toContain('PING_FAILED');
    expect(p1.child.exitCode).toBeNull();
    // B back: the held-back events agree again and pings work.
    b = await sequencer(
      await startDaemon(join(dir, 'sequencer-b.conf'), join(dir, 'b2.ports'), { env: node('b') }),
    );
    await eventually(
      'participant1 to be connected to both sequencers again',
      async () => {
        const r = await weft(['admin', '-e', p1.adminUrl, '--json', 'participant', 'list-connected']);
        return (JSON.parse(r.stdout) as { healthy: boolean }[])[0]?.healthy === true;
      },
      20_000,
    );
    const again = await ping('20000');
    expect(again.stderr).toBe('');
    for (const d of [p1, p2, med]) expect(await d.stop()).toBe(0);
  });

  it('a third sequencer on the ordering storage, not in the genesis, refuses to serve with a clear error', async () => {
    const refusal = `SEQUENCER_NOT_IN_SYNCHRONIZER(9): sequencer SEQ::sequencer-bft-c::`;
    const expectRefusing = async (d: Daemon) => {
      await eventually('sequencer C to refuse', () => d.output().includes('the sequencer does not serve'));
      const status = await weft(['admin', '-e', d.adminUrl, 'status']);
      expect(status.stdout, `${status.stderr}\n${d.output().slice(-3000)}`).toContain(
        'synchronizer  none yet\n',
      );
      expect(status.stdout).toContain('ready         no\n');
      expect(status.stdout).toMatch(
        new RegExp(
          `sequencer +${refusal.replace(/[()]/g, '\\$&')}.* is not an active sequencer of synchronizer ${synchronizerId} \\(${a.id}, ${b.id}\\)`,
        ),
      );
      // Its public API says so too, and the process keeps running.
      const refused = await rejection(registerOnboardingTransactions([d.publicUrl], [new Uint8Array([1])]));
      expect(refused.code).toBe(SequencerErrors.SEQUENCER_NOT_IN_SYNCHRONIZER.code);
      expect(d.child.exitCode).toBeNull();
    };
    // C was running when A was bootstrapped: it found the genesis while waiting.
    await expectRefusing(c);
    const boot = await weft(['admin', '-e', c.adminUrl, 'bootstrap', '--name', 'bft']);
    expect(boot.code, `${boot.stdout}${boot.stderr}`).toBe(1);
    expect(boot.stderr).toMatch(/^weft admin bootstrap: SEQUENCER_NOT_IN_SYNCHRONIZER\(9\): /);
    expect(await c.stop(), c.output().slice(-3000)).toBe(0);
    // Restarted (on fresh ports: the old ones may have been handed out meanwhile), it finds the genesis at once.
    c = await startDaemon(await config('c', 'a'), join(dir, 'c2.ports'), { env: node('c') });
    await expectRefusing(c);
    expect(await c.stop()).toBe(0);
    // A and B still serve.
    for (const s of [a, b]) expect((await s.admin.status()).ready).toBe(true);
    for (const s of [a, b]) expect(await s.daemon.stop()).toBe(0);
  });
});
