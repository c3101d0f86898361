// Every example config, as a new user follows the docs on one host: each node its own `weft daemon` process, all at
// once, in one working directory (where the examples' relative paths data/, log/ and tls/ land), on their own fixed
// ports. The synchronizers are bootstrapped, the mediators onboarded and the participants connected (one over https
// with the custom root CA that docs/operations.md's openssl recipe makes), until every node answers /ready.
// Needs `npm run build` (npm test builds first) and PostgreSQL for the PostgreSQL examples.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { DAEMON_SCHEMAS } from '../../src/daemon/index.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import { type Daemon, eventually, killAll, REPO, startDaemon, weftOk } from '../synchronizer/processes.js';

const EXAMPLES = join(REPO, 'examples/config');

describe('the example configs', () => {
  it('give every node of every example its own ports, so that all run together on one host', async () => {
    const owners = new Map<number, string>();
    const clashes: string[] = [];
    for (const file of readdirSync(EXAMPLES)) {
      const config = await loadConfig(join(EXAMPLES, file), {
        env: { WEFT_DB_URL: 'postgres://h/weft', WEFT_DB_PASSWORD: 'x' },
        nodeSchemas: DAEMON_SCHEMAS,
      });
      for (const node of config.nodes) {
        const apis = {
          admin: node.adminApi?.port,
          monitoring: node.monitoring.httpServer.port,
          public: node.publicApi?.port,
        };
        for (const [api, port] of Object.entries(apis)) {
          if (port === undefined) continue;
          const owner = `${file} ${node.name} ${api}`;
          if (port === 0) clashes.push(`${owner}: port 0 (a user cannot know where to find it)`);
          else if (owners.has(port)) clashes.push(`${owner}: port ${port} is ${owners.get(port)}'s`);
          else owners.set(port, owner);
        }
      }
    }
    expect(clashes).toEqual([]);
    expect(owners.size).toBe(28);
  });
});

const unavailable = await postgresSkipReason();

/** The openssl commands of docs/operations.md's custom root CA recipe, as the reader copies them. */
function tlsRecipe(): string {
  const doc = readFileSync(join(REPO, 'docs/operations.md'), 'utf8');
  const block = /<!-- tls-recipe:begin[^>]*-->\n```sh\n([\s\S]*?)```\n<!-- tls-recipe:end -->/.exec(doc);
  if (!block) throw new Error('docs/operations.md lost its tls-recipe block');
  return block[1]!;
}

describe.skipIf(unavailable !== undefined)('every example config started together on one host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-examples-'));
  const prefix = `weft_examples_${randomBytes(4).toString('hex')}`;
  const databases = ['ha', 'bft', 'tls', 'network'].map((x) => `${prefix}_${x}`);
  const daemons = new Map<string, Daemon>();

  /** An admin connection to the test server's database. */
  async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: pgTestUrl() });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  /** The test server's URL with another database: each example gets a database of its own. */
  const urlOf = (database: string) => {
    const url = new URL(pgTestUrl());
    url.pathname = `/${database}`;
    return url;
  };

  afterAll(async () => {
    await Promise.all([...daemons.values()].map((d) => d.stop()));
    killAll();
    await admin(async (client) => {
      for (const db of databases) await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    });
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(name: string, file: string, env: NodeJS.ProcessEnv = {}, node?: string) {
    const daemon = await startDaemon(join(EXAMPLES, file), join(dir, `${name}.ports`), {
      env,
      cwd: dir,
      ...(node === undefined ? {} : { node }),
    });
    daemons.set(name, daemon);
    return daemon;
  }

  it('start, are bootstrapped, onboarded and connected, and each answers /ready with nothing on stderr', async () => {
    await admin(async (client) => {
      for (const db of databases) await client.query(`CREATE DATABASE ${db}`);
    });
    execFileSync('bash', ['-euo', 'pipefail', '-c', tlsRecipe()], { cwd: dir, stdio: 'pipe' });
    const [ha, bft, tls, network] = databases.map((db) => urlOf(db));

    // The four examples (groups of nodes that work together) come up side by side.
    const bootstrap = (adminPort: number, ...args: string[]) =>
      weftOk(['admin', '-e', `http://127.0.0.1:${adminPort}`, 'bootstrap', ...args]);
    const connect = (adminPort: number, ...args: string[]) =>
      weftOk(['admin', '-e', `http://127.0.0.1:${adminPort}`, 'participant', 'connect', ...args]);
    await Promise.all([
      // The HA sequencer's two nodes, and the mediator of mediator.conf, which connects to node A.
      (async () => {
        const env = { WEFT_DB_URL: ha!.href };
        await Promise.all([
          start('sequencer-ha-a', 'sequencer-ha-a.conf', env),
          start('sequencer-ha-b', 'sequencer-ha-b.conf', env),
          start('mediator', 'mediator.conf'),
        ]);
        await bootstrap(5002, '--name', 'ha', '--mediator', 'http://127.0.0.1:5202');
      })(),
      // Two distinct sequencers ordering together.
      (async () => {
        const env = { WEFT_DB_URL: bft!.href };
        await Promise.all([
          start('sequencer-bft-a', 'sequencer-bft-a.conf', env),
          start('sequencer-bft-b', 'sequencer-bft-b.conf', env),
        ]);
        await bootstrap(
          5102,
          '--name',
          'bft',
          '--sequencer',
          'http://127.0.0.1:5112',
          '--sequencer-threshold',
          '2',
        );
      })(),
      // The sequencer serving TLS with the recipe's certificate, and participant-sqlite.conf connecting to it over
      // https by IP address, trusting the recipe's root CA.
      (async () => {
        await Promise.all([
          start('sequencer-postgres', 'sequencer-postgres.yaml', {
            WEFT_DB_USER: decodeURIComponent(tls!.username) || 'postgres',
            WEFT_DB_PASSWORD: decodeURIComponent(tls!.password) || 'unused',
            WEFT_DB_HOST: tls!.hostname,
            WEFT_DB_PORT: tls!.port || '5432',
            WEFT_DB_NAME: tls!.pathname.slice(1),
          }),
          start('participant-sqlite', 'participant-sqlite.conf'),
        ]);
        await bootstrap(5302, '--name', 'tls');
        const ca = join(dir, 'tls/root-ca.crt');
        await connect(5012, '--alias', 'tls', '--sequencer', 'https://127.0.0.1:5301', '--sequencer-ca', ca);
      })(),
      // network.conf: four nodes from one file.
      (async () => {
        const env = { WEFT_DB_URL: network!.href };
        await Promise.all(
          ['sequencer1', 'mediator1', 'participant1', 'participant2'].map((node) =>
            start(`network-${node}`, 'network.conf', env, node),
          ),
        );
        await bootstrap(5402, '--name', 'net', '--mediator', 'http://127.0.0.1:5403');
        for (const port of [5404, 5405]) {
          await connect(port, '--alias', 'net', '--sequencer', 'http://127.0.0.1:5401');
        }
      })(),
    ]);

    expect(daemons.size).toBe(11);
    for (const [name, daemon] of daemons) {
      await eventually(
        `${name} to answer /ready`,
        async () =>
          (await fetch(`http://127.0.0.1:${daemon.ports.monitoring}/ready`).catch(() => undefined))
            ?.status === 200,
        30_000,
      );
    }
    expect([...daemons].map(([name, d]) => [name, d.stderr()])).toEqual(
      [...daemons.keys()].map((n) => [n, '']),
    );
    // The files the examples name relative to the working directory are there.
    expect(
      readdirSync(join(dir, 'data'))
        .filter((f) => f.endsWith('.db'))
        .sort(),
    ).toEqual(['mediator1.db', 'participant1.db']);
    expect(readdirSync(join(dir, 'log'))).toContain('participant1.log');
  }, 300_000);
});
