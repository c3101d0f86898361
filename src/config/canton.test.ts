import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fromCantonLayout, MEDIATOR_SEQUENCER_PENDING } from './canton.js';
import { readConfigTree } from './formats.js';

const EXAMPLES = fileURLToPath(
  new URL('../../test/console/canton-examples/04-high-availability/', import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), 'weft-canton-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Canton's files given together, as `-c a.conf -c b.conf` combines them. */
async function combined(env: Record<string, string>, ...files: string[]) {
  const all = join(dir, 'all.conf');
  writeFileSync(all, files.map((f) => `include required("${relative(dir, join(EXAMPLES, f))}")\n`).join(''));
  return fromCantonLayout(await readConfigTree(all, env), 'example 04', '/data');
}

describe("Canton's config layout", () => {
  it("maps example 04's PostgreSQL storage, reference sequencers, replicas and disabled JSON API onto Weft's nodes", async () => {
    const env = { CANTON_DB_HOST: 'db.internal', CANTON_DB_USER: 'weft' };
    const { weftTree, remote } = await combined(
      env,
      'postgres.conf',
      'sequencer-a.conf',
      'sequencer-b.conf',
      'mediator-a.conf',
      'participant-a.conf',
    );
    expect(remote).toEqual([]);
    const driver = {
      type: 'postgres',
      url: 'postgres://weft:supersafe@db.internal:5432/driver',
      'pool-size': 8,
    };
    expect(weftTree.weft.sequencers).toEqual({
      sequencer_a: {
        storage: {
          type: 'postgres',
          url: 'postgres://weft:supersafe@db.internal:5432/sequencer_a',
          'pool-size': 8,
        },
        monitoring: { logging: { file: '/data/sequencer_a.log' } },
        'public-api': { address: 'localhost', port: 3010 },
        'admin-api': { address: 'localhost', port: 3011 },
        // Distinct sequencers that order together through the reference driver's database.
        sequencer: { 'ordering-storage': driver },
      },
      sequencer_b: expect.objectContaining({ sequencer: { 'ordering-storage': driver } }),
    });
    expect(weftTree.weft.mediators?.mediator_a).toMatchObject({
      storage: { url: 'postgres://weft:supersafe@db.internal:5432/mediator' },
      replication: { enabled: true },
      'sequencer-connection': { endpoints: [MEDIATOR_SEQUENCER_PENDING] },
    });
    const participant = weftTree.weft.participants?.participant_a as Record<string, unknown>;
    expect(participant).toMatchObject({ replication: { enabled: true }, 'ledger-api': { port: 3050 } });
    expect(participant).not.toHaveProperty('json-api');
  });

  it('reads remote nodes with TLS and reports unsupported keys by path', () => {
    const { remote } = fromCantonLayout(
      {
        canton: {
          'remote-sequencers': {
            sequencer1: {
              'admin-api': { port: 5002 },
              'public-api': { port: 5001, 'custom-trust-certificates': { 'pem-file': 'ca.crt' } },
            },
          },
          'remote-participants': {
            participant1: {
              'admin-api': { port: 5012, tls: { 'trust-collection-file': 'ca.crt' } },
              'ledger-api': { port: 5011 },
              token: 'jwt',
            },
          },
        },
      },
      'remote.conf',
      '/data',
    );
    expect(remote).toEqual([
      {
        name: 'participant1',
        kind: 'participant',
        admin: { url: 'https://127.0.0.1:5012', trustCollectionFile: 'ca.crt' },
        ledgerApi: { url: 'http://127.0.0.1:5011', token: 'jwt' },
      },
      {
        name: 'sequencer1',
        kind: 'sequencer',
        admin: { url: 'http://127.0.0.1:5002' },
        publicApi: { url: 'https://127.0.0.1:5001', trustCollectionFile: 'ca.crt' },
      },
    ]);
    expect(() =>
      fromCantonLayout(
        {
          canton: {
            participants: {
              p1: { storage: { type: 'memory' }, 'ledger-api': { 'max-inbound-message-size': 1 } },
            },
          },
        },
        'bad.conf',
        '/data',
      ),
    ).toThrow(
      /^bad\.conf: not supported in Canton's layout: canton\.participants\.p1\.ledger-api\.max-inbound-message-size: unknown key$/,
    );
  });
  it("maps Canton's sim clock to static time, and refuses a clock Weft does not have", () => {
    const clock = (type?: string) =>
      fromCantonLayout(
        { canton: { parameters: { clock: type === undefined ? {} : { type } } } },
        'clock.conf',
        '/data',
      ).staticTime;
    expect(clock('sim-clock')).toBe(true);
    expect(clock('wall-clock')).toBe(false);
    expect(clock()).toBe(false);
    expect(fromCantonLayout({ canton: {} }, 'none.conf', '/data').staticTime).toBe(false);
    expect(() => clock('remote-clock')).toThrow(/canton\.parameters\.clock\.type/);
  });
});
