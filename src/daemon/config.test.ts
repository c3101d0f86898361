import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeConfig, loadConfig } from '../config/index.js';
import { isWeftError } from '../errors/index.js';
import { memberSequencerConnection } from '../mediator/index.js';
import { DAEMON_SCHEMAS } from './config.js';

const examples = fileURLToPath(new URL('../../examples/config/', import.meta.url));
const env = { WEFT_DB_URL: 'postgres://h/weft', WEFT_DB_PASSWORD: 's3' };

describe('the example configs', () => {
  it.each(readdirSync(examples))('%s is a valid config of weft daemon', async (file) => {
    const config = await loadConfig(join(examples, file), { env, nodeSchemas: DAEMON_SCHEMAS });
    expect(config.nodes.length).toBeGreaterThan(0);
    for (const node of config.nodes) {
      if (node.kind === 'mediator')
        expect(() => memberSequencerConnection(node.sequencerConnection)).not.toThrow();
    }
  });

  it('participant-sqlite.conf: one participant on SQLite with its Ledger API, tunable from the environment', async () => {
    const config = await loadConfig(join(examples, 'participant-sqlite.conf'), {
      env: {},
      nodeSchemas: DAEMON_SCHEMAS,
    });
    expect(config.nodes).toHaveLength(1);
    expect(config.nodes[0]).toMatchObject({
      name: 'participant1',
      kind: 'participant',
      storage: { type: 'sqlite', file: 'data/participant1.db' },
      adminApi: { address: '127.0.0.1', port: 5012 },
      ledgerApi: { address: '127.0.0.1', port: 5011 },
      monitoring: {
        logging: { level: 'info', file: 'log/participant1.log' },
        httpServer: { address: '127.0.0.1', port: 9464 },
      },
      replication: { enabled: false },
    });
    const tuned = await loadConfig(join(examples, 'participant-sqlite.conf'), {
      env: { WEFT_LOG_LEVEL: 'debug', WEFT_DATA_DIR: '/srv/weft' },
      nodeSchemas: DAEMON_SCHEMAS,
    });
    expect(tuned.nodes[0]!.monitoring.logging.level).toBe('debug');
    expect(tuned.nodes[0]!.storage).toEqual({ type: 'sqlite', file: '/srv/weft/participant1.db' });
  });

  it('network.conf: a whole network in one file, every node in its own schema', async () => {
    const config = await loadConfig(join(examples, 'network.conf'), { env, nodeSchemas: DAEMON_SCHEMAS });
    expect(config.nodes.map((n) => `${n.kind}:${n.name}`)).toEqual([
      'participant:participant1',
      'participant:participant2',
      'sequencer:sequencer1',
      'mediator:mediator1',
    ]);
    for (const node of config.nodes) {
      expect(node.storage).toEqual({ type: 'postgres', url: 'postgres://h/weft', schema: node.name });
      expect(node.monitoring.logging.level).toBe('info');
      if (node.kind === 'mediator')
        expect(node.sequencerConnection.endpoints).toEqual(['http://127.0.0.1:5401']);
    }
    const unset = await loadConfig(join(examples, 'network.conf'), {
      env: {},
      nodeSchemas: DAEMON_SCHEMAS,
    }).catch((e: unknown) => e);
    expect(unset).toMatchObject({ code: 'CONFIG_VARIABLE_UNSET' });
  });
});

describe('crypto.private-key-store.encryption', () => {
  const participant = (crypto?: unknown) => ({
    weft: {
      participants: {
        p1: {
          storage: { type: 'sqlite', file: 'p1.db' },
          'admin-api': { port: 5012 },
          ...(crypto === undefined ? {} : { crypto }),
        },
      },
    },
  });
  const encryptionOf = (tree: unknown) =>
    decodeConfig(tree, { source: 'test.conf', nodeSchemas: DAEMON_SCHEMAS }).nodes[0]!.crypto.privateKeyStore
      .encryption;

  it('stores keys plain by default, or sealed under a KEK from a variable or a file', () => {
    expect(encryptionOf(participant())).toEqual({ type: 'plain' });
    expect(
      encryptionOf(
        participant({ 'private-key-store': { encryption: { type: 'kek-env', variable: 'WEFT_KEK' } } }),
      ),
    ).toEqual({ type: 'kek-env', variable: 'WEFT_KEK' });
    expect(
      encryptionOf(
        participant({ 'private-key-store': { encryption: { type: 'kek-file', file: '/run/secrets/kek' } } }),
      ),
    ).toEqual({ type: 'kek-file', file: '/run/secrets/kek' });
  });

  it('names the wrong key in a bad section', () => {
    const failure = (crypto: unknown) => {
      try {
        encryptionOf(participant(crypto));
        return undefined;
      } catch (e) {
        return isWeftError(e) ? `${e.code}: ${e.message}` : String(e);
      }
    };
    expect(failure({ 'private-key-store': { encryption: { type: 'kms' } } })).toMatch(
      /^CONFIG_INVALID: .*weft\.participants\.p1\.crypto\.private-key-store\.encryption\.type: expected one of plain, kek-env, kek-file, got 'kms'/,
    );
    expect(failure({ 'private-key-store': { encryption: { type: 'kek-env' } } })).toMatch(
      /encryption\.variable/,
    );
  });
});
