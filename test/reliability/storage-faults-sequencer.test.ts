import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import type { WeftError } from '../../src/errors/index.js';
import {
  connect,
  envelope,
  type Recorder,
  soon,
  startSequencerNode,
  testSynchronizer,
  texts,
  waitFor,
} from '../../src/sequencer/testing.js';
import type { SqliteConfig } from '../../src/storage/index.js';
import { describeBackend } from '../../src/storage/testing.js';
import { systemClock } from '../../src/time/index.js';

/**
 * Storage faults heal, for a sequencer node (issue 13): its writer waits out a locked database and sequences what
 * was sent meanwhile once; a storage failure that is not transient reaches `onFatal`, so that the process exits.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describeBackend('sqlite', 'a sequencer node and its storage', (backend) => {
  async function setup() {
    const sync = testSynchronizer({ seed: 'faults-sequencer', participants: 2, now: systemClock.now() });
    const config = { ...(backend.freshConfig() as SqliteConfig), busyTimeoutMs: 200 };
    const storage = await backend.open(config);
    const fatal: WeftError[] = [];
    const { node } = await startSequencerNode(sync, {
      name: 'seq',
      storage,
      onFatal: (e) => fatal.push(e),
    });
    cleanups.push(() => node.kill());
    const clients: Recorder[] = [];
    for (const p of sync.participants) {
      const r = await connect(sync, p, [node.endpoint]);
      cleanups.push(() => r.client.close());
      clients.push(r);
    }
    const [a0, a1] = sync.participants.map((p) => p.id) as [string, string];
    return { config, fatal, clients: clients as [Recorder, Recorder], a0, a1 };
  }

  it('sequences what was sent while another process held its database, once', async () => {
    const { config, fatal, clients, a1 } = await setup();
    const [p0, p1] = clients;
    const intruder = new Database(config.path);
    intruder.exec('BEGIN IMMEDIATE');
    // The send is answered once the request is stored, so it is not awaited while the database is locked.
    const sent = p0.client.send({ envelopes: [envelope('while locked', a1)], maxSequencingTime: soon() });
    // Well past the busy timeout: the writer is waiting it out, not failing the request.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(p1.events).toEqual([]);
    intruder.exec('COMMIT');
    intruder.close();
    expect((await (await sent).outcome).kind).toBe('delivered');
    const after = await p0.client.send({ envelopes: [envelope('after', a1)], maxSequencingTime: soon() });
    await after.outcome;
    await waitFor('both deliveries', () => p1.events.length === 2);
    expect(p1.events.flatMap(texts)).toEqual(['while locked', 'after']);
    expect(fatal).toEqual([]);
  });

  it('reports a storage failure that is not transient to onFatal', async () => {
    const { config, fatal, clients, a1 } = await setup();
    const [p0] = clients;
    // Someone broke the node's tables: no waiting makes the write succeed.
    const vandal = new Database(config.path);
    vandal.exec('ALTER TABLE sequencer_events RENAME TO sequencer_events_gone');
    vandal.close();
    await p0.client
      .send({ envelopes: [envelope('into the void', a1)], maxSequencingTime: soon(5_000) })
      .catch(() => {});
    await waitFor('the fatal failure', () => fatal.length > 0);
    expect(fatal[0]!.code).toBe('STORAGE_QUERY_FAILED');
  });
});
