import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
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
