// A synchronizer of real processes: two `weft daemon` sequencer nodes on one PostgreSQL schema (one HA sequencer),
// operated with `weft admin`, with members (SequencerClients in this process) connected to different nodes; then a
// single node serving TLS. Needs `npm run build` (npm test builds first).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { SigningPublicKey } from '../../src/crypto/index.js';
import { isWeftError, type WeftError } from '../../src/errors/index.js';
import { KeyPurpose } from '../../src/generated/weft/admin/v1/node_status_service.js';
import { EnvelopeKind } from '../../src/generated/weft/sequencer/v1/sequencing.js';
import { certificates } from '../../src/grpc/testing.js';
import {
  type ReceivedEvent,
  registerOnboardingTransactions,
  SequencerClient,
  SequencerErrors,
} from '../../src/sequencer/index.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import { connectWhenActive, type DemoParticipant, demoParticipant } from './demo-participant.js';
import { type Daemon, eventually, freePort, killAll, REPO, startDaemon, weft } from './processes.js';

const unavailable = await postgresSkipReason();

const dir = mkdtempSync(join(tmpdir(), 'weft-synchronizer-'));
const clients: SequencerClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const soon = () => BigInt(Date.now() + 30_000) * 1000n;
const envelope = (text: string, ...to: string[]) => ({
  content: Buffer.from(text),
  recipients: to.map((member) => ({ recipient: { oneofKind: 'member' as const, member } })),
  kind: EnvelopeKind.PROTOCOL,
});
/** The texts of the application messages in `events` (not the topology broadcasts). */
const texts = (events: readonly ReceivedEvent[]) =>
  events.flatMap((e) =>
    e.envelopes.filter((x) => x.kind === EnvelopeKind.PROTOCOL).map((x) => Buffer.from(x.content).toString()),
  );

interface Member {
  readonly participant: DemoParticipant;
  readonly events: ReceivedEvent[];
  client: SequencerClient;
}

describe.skipIf(unavailable !== undefined)('two sequencer daemons on one PostgreSQL database', () => {
  const schema = `weft_test_${randomBytes(6).toString('hex')}`;
  const env = { WEFT_DB_URL: pgTestUrl(), WEFT_DB_SCHEMA: schema };
  let a: Daemon;
  let b: Daemon;
  let aConfig: string;
  let synchronizerId: string;
  let sequencerKey: SigningPublicKey;
  const members = new Map<string, Member>();

  /** A config that includes the example file of node `x` and overrides ports and HA timings for a test. */
  async function config(x: 'a' | 'b'): Promise<string> {
    const file = join(dir, `sequencer-${x}.conf`);
    const example = relative(dir, join(REPO, `examples/config/sequencer-ha-${x}.conf`));
    writeFileSync(
      file,
      `include required("${example}")
weft.node {
  public-api.port = ${await freePort()}
  admin-api.port = ${await freePort()}
  monitoring.http-server.port = 0
  sequencer.high-availability {
    keep-alive-interval-ms = 20, offline-duration-ms = 1000, online-check-interval-ms = 200, poll-interval-ms = 10
  }
}
`,
    );
    return file;
  }

  afterAll(async () => {
    const client = new pg.Client({ connectionString: pgTestUrl() });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  async function connectMember(name: string, endpoints: string[]): Promise<Member> {
    const member = members.get(name)!;
    member.client = await connectWhenActive({
      member: member.participant.id,
      signingKey: member.participant.signingKey,
      endpoints,
      expectedSynchronizerId: synchronizerId,
      sequencerKeys: () => [sequencerKey],
      handler: (e) => {
        member.events.push(e);
      },
      maxBackoffMs: 200,
      resendIntervalMs: 500,
      ...(member.events.length > 0
        ? {
            resumeAfter: {
              counter: member.events.at(-1)!.counter,
              timestamp: member.events.at(-1)!.timestamp,
            },
          }
        : {}),
    });
    clients.push(member.client);
    return member;
  }

  it('start, and share the bootstrap and the identity', async () => {
    aConfig = await config('a');
    [a, b] = await Promise.all([
      startDaemon(aConfig, join(dir, 'a.ports'), { env }),
      startDaemon(await config('b'), join(dir, 'b.ports'), { env }),
    ]);
    const boot = await weft([
      'admin',
      '-e',
      a.adminUrl,
      'bootstrap',
      '--name',
      'ha',
      '--restricted',
      '--topology-change-delay',
      '100',
    ]);
    expect(boot.stderr).toBe('');
    expect(boot.code).toBe(0);
    synchronizerId = /bootstrapped synchronizer (\S+)/.exec(boot.stdout)![1]!;
    const adminB = new AdminClient(b.adminUrl);
    try {
      await eventually('node B to find the genesis', async () => (await adminB.status()).ready);
      const status = await adminB.status();
      expect(status.synchronizerId).toBe(synchronizerId);
      expect(status.name).toBe('sequencer-b');
      const id = await weft(['admin', '-e', a.adminUrl, '--json', 'id']);
      const identity = JSON.parse(id.stdout) as { memberId: string };
      expect(status.memberId).toBe(identity.memberId);
      const signing = (await adminB.identity()).keys.find((k) => k.purpose === KeyPurpose.SIGNING)!;
      sequencerKey = SigningPublicKey.fromRaw(signing.publicKey);
    } finally {
      adminB.close();
    }
    // Monitoring: both nodes ready, metrics labelled with the node.
    const ready = await fetch(`http://127.0.0.1:${b.ports.monitoring}/ready`);
    expect(await ready.json()).toEqual({ ready: true, checks: { storage: 'ok', sequencer: 'ok' } });
    const metrics = await (await fetch(`http://127.0.0.1:${a.ports.monitoring}/metrics`)).text();
    expect(metrics).toContain('weft_sequencer_subscriptions{node="sequencer-a"} 0');
    // The audit line of the bootstrap, and the log line with the bound ports; JSON like every line.
    const lines = a
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.method === 'Bootstrap')).toMatchObject({
      component: 'admin-api',
      status: 'OK',
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const listening = lines.filter((l) => String(l.msg).endsWith('listening')) as {
      ports?: { admin: number };
    }[];
    expect(listening[0]!.ports!.admin).toBe(a.ports.admin);
  });

  it('admit participants only once allow-listed by participant id', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      members.set(name, {
        participant: demoParticipant(name, synchronizerId),
        events: [],
        client: undefined!,
      });
    }
    const alice = members.get('alice')!.participant;
    const refused = await rejection(registerOnboardingTransactions([a.publicUrl], alice.onboarding));
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_ONBOARDING_REJECTED.code);
    expect(refused.message).toContain(`participant ${alice.id} is not permissioned`);

    const malformed = await weft(['admin', '-e', a.adminUrl, 'participants', 'set-state', 'PAR::alice']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
    expect(malformed.stderr).toMatch(
      /^weft admin participants set-state: INVALID_IDENTIFIER\(8\): .*'PAR::alice'/,
    );

    // Allow-listing through either node: they share the topology.
    for (const [name, node] of [
      ['alice', a],
      ['bob', b],
      ['carol', a],
    ] as const) {
      const { id } = members.get(name)!.participant;
      const set = await weft([
        'admin',
        '-e',
        node.adminUrl,
        'participants',
        'set-state',
        id,
        'Submission',
        'Ordinary',
      ]);
      expect(set.stderr).toBe('');
      expect(set.stdout).toContain(`allow-listed: ParticipantSynchronizerPermission(${id}, Submission)`);
      await registerOnboardingTransactions([node.publicUrl], members.get(name)!.participant.onboarding);
    }
    const listed = await weft([
      'admin',
      '-e',
      b.adminUrl,
      'topology',
      'list',
      '--type',
      'ParticipantSynchronizerPermission',
    ]);
    expect(listed.stdout).toContain(`${synchronizerId}: 3 transactions`);
    await connectMember('alice', [a.publicUrl, b.publicUrl]);
    await connectMember('bob', [b.publicUrl]);
    await connectMember('carol', [a.publicUrl, b.publicUrl]);
    expect(members.get('alice')!.client.endpoint).toBe(a.publicUrl);
  });

  it('deliver one order to members connected to different nodes', async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => members.get(n)!) as [
      Member,
      Member,
      Member,
    ];
    const everyone = [alice, bob, carol].map((m) => m.participant.id);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      for (const [m, tag] of [
        [alice, 'a'],
        [bob, 'b'],
      ] as const) {
        sends.push(
          (
            await m.client.send({
              envelopes: [envelope(`${tag}${i}`, ...everyone)],
              maxSequencingTime: soon(),
            })
          ).outcome,
        );
      }
    }
    await Promise.all(sends);
    await eventually('every delivery', () => [alice, bob, carol].every((m) => texts(m.events).length === 20));
    const order = (m: Member) =>
      m.events.filter((e) => texts([e]).length > 0).map((e) => [e.timestamp, texts([e])[0]]);
    expect(order(bob)).toEqual(order(alice));
    expect(order(carol)).toEqual(order(alice));
  });

  it('lose nothing and duplicate nothing when a node is killed under load; the node restarts and rejoins', async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => members.get(n)!) as [
      Member,
      Member,
      Member,
    ];
    const before = { bob: bob.events.length, carol: carol.events.length };
    const outcomes: Promise<unknown>[] = [];
    const total = 120;
    for (let i = 0; i < total; i++) {
      if (i === 40) expect(await a.stop('SIGKILL')).toBeNull();
      const handle = await alice.client.send({
        envelopes: [envelope(`load${i}`, bob.participant.id, carol.participant.id)],
        maxSequencingTime: soon(),
        messageId: `load-${i}`,
      });
      outcomes.push(handle.outcome);
      await new Promise((r) => setTimeout(r, 3));
    }
    await Promise.all(outcomes);
    expect(alice.client.endpoint).toBe(b.publicUrl);
    expect(carol.client.endpoint).toBe(b.publicUrl);
    const expected = Array.from({ length: total }, (_, i) => `load${i}`).sort();
    await eventually('all load messages', () =>
      [bob, carol].every((m) => texts(m.events.slice(before[m === bob ? 'bob' : 'carol'])).length >= total),
    );
    const received = (m: Member, from: number) => texts(m.events.slice(from));
    expect([...received(bob, before.bob)].sort()).toEqual(expected);
    expect(received(carol, before.carol)).toEqual(received(bob, before.bob));
    expect(bob.events.map((e) => e.counter)).toEqual(bob.events.map((_, i) => BigInt(i)));

    a = await startDaemon(aConfig, join(dir, 'a2.ports'), { env });
    const adminA = new AdminClient(a.adminUrl);
    try {
      await eventually('node A to serve again', async () => (await adminA.status()).ready);
    } finally {
      adminA.close();
    }
    // Carol moves back to the restarted node and resumes right after her last event.
    await carol.client.close();
    await connectMember('carol', [a.publicUrl]);
    const count = carol.events.length;
    await (
      await bob.client.send({
        envelopes: [envelope('after restart', carol.participant.id)],
        maxSequencingTime: soon(),
      })
    ).outcome;
    await eventually('the message through the restarted node', () => carol.events.length === count + 1);
    expect(texts([carol.events.at(-1)!])).toEqual(['after restart']);
  }, 60_000);

  it('cut off a participant whose permission is revoked', async () => {
    const carol = members.get('carol')!;
    const revoke = await weft(['admin', '-e', b.adminUrl, 'participants', 'revoke', carol.participant.id]);
    expect(revoke.stderr).toBe('');
    expect(revoke.stdout).toContain(`revoked: ParticipantSynchronizerPermission(${carol.participant.id}`);
    await eventually('carol to be cut off', () => carol.client.state !== 'connected');
    await carol.client.close();
    const again = await rejection(
      SequencerClient.connect({
        member: carol.participant.id,
        signingKey: carol.participant.signingKey,
        endpoints: [a.publicUrl, b.publicUrl],
        sequencerKeys: () => [sequencerKey],
        handler: () => {},
      }),
    );
    expect(again.code).toBe(SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code);
    expect(again.message).toContain(carol.participant.id);
    const rejoin = await rejection(
      registerOnboardingTransactions([b.publicUrl], carol.participant.onboarding),
    );
    expect(rejoin.message).toContain(`participant ${carol.participant.id} is not permissioned`);
    for (const d of [a, b]) expect(await d.stop('SIGTERM')).toBe(0);
    expect(b.output()).toContain('stopping node sequencer-b');
  });
});

describe('a sequencer daemon serving TLS', () => {
  it('accepts clients that trust its root CA and fails clearly for a wrong one; its Admin API wants client certificates', async () => {
    const good = certificates(dir, 'good');
    const other = certificates(dir, 'other');
    const tls = `tls { cert-chain-file = "${good.certFile}", private-key-file = "${good.keyFile}" }`;
    const file = join(dir, 'tls.conf');
    writeFileSync(
      file,
      `weft.node {
  name = sequencer-tls
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, 'tls.db')}" }
  public-api { port = 0, ${tls} }
  admin-api { port = 0, tls { cert-chain-file = "${good.certFile}", private-key-file = "${good.keyFile}", trust-collection-file = "${good.caFile}" } }
}
`,
    );
    const d = await startDaemon(file, join(dir, 'tls.ports'), { tls: true });
    try {
      expect(d.publicUrl).toMatch(/^https:/);
      const operator = ['--client-cert', good.clientCertFile, '--client-key', good.clientKeyFile];
      const boot = await weft([
        'admin',
        '-e',
        d.adminUrl,
        '--ca',
        good.caFile,
        ...operator,
        'bootstrap',
        '--name',
        'tls',
      ]);
      expect(boot.stderr).toBe('');
      const id = /bootstrapped synchronizer (\S+)/.exec(boot.stdout)![1]!;
      const anonymous = await weft(['admin', '-e', d.adminUrl, '--ca', good.caFile, 'status']);
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(
        /^weft admin status: ADMIN_CONNECTION_FAILED\(1\): admin endpoint https:/,
      );
      const wrong = await weft(['admin', '-e', d.adminUrl, '--ca', other.caFile, ...operator, 'status']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
      expect(wrong.stderr).toMatch(
        /^weft admin status: ADMIN_CONNECTION_FAILED\(1\): admin endpoint https:.*TLS verification failed/,
      );

      const alice = demoParticipant('alice', id);
      const trust = { customTrustCertificates: readFileSync(good.caFile) };
      await registerOnboardingTransactions([d.publicUrl], alice.onboarding, trust);
      const admin = new AdminClient(d.adminUrl, {
        ...trust,
        clientCertificate: {
          certChain: readFileSync(good.clientCertFile),
          privateKey: readFileSync(good.clientKeyFile),
        },
      });
      const signing = (await admin.identity()).keys.find((k) => k.purpose === KeyPurpose.SIGNING)!;
      admin.close();
      const options = {
        member: alice.id,
        signingKey: alice.signingKey,
        endpoints: [d.publicUrl],
        sequencerKeys: () => [SigningPublicKey.fromRaw(signing.publicKey)],
        handler: () => {},
      };
      const client = await connectWhenActive({ ...options, ...trust });
      clients.push(client);
      const sent = await client.send({
        envelopes: [envelope('over tls', alice.id)],
        maxSequencingTime: soon(),
      });
      expect((await sent.outcome).kind).toBe('delivered');
      const refused = await rejection(
        connectWhenActive({ ...options, customTrustCertificates: readFileSync(other.caFile) }),
      );
      expect(refused.code).toBe(SequencerErrors.SEQUENCER_CONNECTION_FAILED.code);
      expect(refused.message).toMatch(/TLS verification failed/);
    } finally {
      await d.stop();
    }
  });
});
