// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} is config substitution syntax under test.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { type Env, loadConfig, type NodeConfig, nodeSchema, optional, selectNode, string } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** The error code and message `loadConfig` fails with. */
async function failure(path: string, env: Env = {}): Promise<{ code: string; message: string }> {
  const error = await loadConfig(path, { env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWeftError(error)) throw new Error(`expected a WeftError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

/** The default `crypto` section: private keys stored plain. */
const PLAIN_KEYS = { privateKeyStore: { encryption: { type: 'plain' } } } as const;

/** The default `replication` section: not a replica. */
const NOT_REPLICATED = { enabled: false, passiveCheckIntervalMs: 1000, healthCheckIntervalMs: 1000 } as const;

const EXPECTED_ALICE: NodeConfig = {
  name: 'alice',
  kind: 'participant',
  storage: { type: 'postgres', url: 'postgres://weft:pw@db:5432/weft', schema: 'alice', poolSize: 4 },
  monitoring: { logging: { level: 'debug' }, httpServer: { address: '127.0.0.1', port: 9464 } },
  crypto: PLAIN_KEYS,
  replication: NOT_REPLICATED,
  adminApi: {
    address: '0.0.0.0',
    port: 5012,
    tls: { certChainFile: 'tls/alice.crt', privateKeyFile: 'tls/alice.key' },
  },
};

const ENV = { DB_PASSWORD: 'pw', DB_HOST: 'db' };

describe('loadConfig formats', () => {
  const hocon = write(
    'alice.conf',
    `# comment
weft.participants.alice {
  storage {
    type = postgres
    url = "postgres://weft:"\${DB_PASSWORD}"@"\${DB_HOST:-localhost}":5432/weft"
    schema = alice
    pool-size = 4
  }
  monitoring {
    logging.level = debug
    logging.file = \${?LOG_FILE}
    http-server.port = 9464
  }
  admin-api {
    address = "0.0.0.0"
    port = \${ADMIN_PORT:-5012}
    tls { cert-chain-file = tls/alice.crt, private-key-file = tls/alice.key }
  }
}
`,
  );
  const yaml = write(
    'alice.yaml',
    `weft:
  participants:
    alice:
      storage:
        type: postgres
        url: postgres://weft:\${DB_PASSWORD}@\${DB_HOST:-localhost}:5432/weft
        schema: alice
        pool-size: 4
      monitoring:
        logging: { level: debug, file: "\${?LOG_FILE}" }
        http-server: { port: 9464 }
      admin-api:
        address: 0.0.0.0
        port: \${ADMIN_PORT:-5012}
        tls:
          cert-chain-file: tls/alice.crt
          private-key-file: tls/alice.key
`,
  );
  const json = write(
    'alice.json',
    JSON.stringify({
      weft: {
        participants: {
          alice: {
            storage: {
              type: 'postgres',
              url: 'postgres://weft:${DB_PASSWORD}@${DB_HOST:-localhost}:5432/weft',
              schema: 'alice',
              'pool-size': 4,
            },
            monitoring: { logging: { level: 'debug', file: '${?LOG_FILE}' }, 'http-server': { port: 9464 } },
            'admin-api': {
              address: '0.0.0.0',
              port: '${ADMIN_PORT:-5012}',
              tls: { 'cert-chain-file': 'tls/alice.crt', 'private-key-file': 'tls/alice.key' },
            },
          },
        },
      },
    }),
  );

  it.each([
    ['HOCON', hocon],
    ['YAML', yaml],
    ['JSON', json],
  ])('%s parses to the same config', async (_, path) => {
    expect(await loadConfig(path, { env: ENV })).toEqual({ nodes: [EXPECTED_ALICE] });
  });

  it.each([
    ['HOCON', hocon],
    ['YAML', yaml],
    ['JSON', json],
  ])('%s substitutes set variables over defaults and optionals', async (_, path) => {
    const env = { ...ENV, DB_HOST: 'other', ADMIN_PORT: '6000', LOG_FILE: 'log/alice.log' };
    const [alice] = (await loadConfig(path, { env })).nodes;
    expect(alice!.storage).toMatchObject({ url: 'postgres://weft:pw@other:5432/weft' });
    expect(alice!.adminApi!.port).toBe(6000);
    expect(alice!.monitoring.logging).toEqual({ level: 'debug', file: 'log/alice.log' });
  });

  it.each([
    ['HOCON', hocon],
    ['YAML', yaml],
    ['JSON', json],
  ])('%s names a missing required variable', async (_, path) => {
    const { code, message } = await failure(path, { DB_HOST: 'db' });
    expect(code).toBe('CONFIG_VARIABLE_UNSET');
    expect(message).toContain('DB_PASSWORD');
  });

  it('takes variables from process.env by default', async () => {
    process.env.WEFT_TEST_DB_PASSWORD = 'from-process';
    try {
      const path = write(
        'process-env.conf',
        'weft.node { name = n, kind = mediator\nstorage { type = postgres, url = ${WEFT_TEST_DB_PASSWORD} } }',
      );
      expect((await loadConfig(path)).nodes[0]!.storage).toEqual({ type: 'postgres', url: 'from-process' });
    } finally {
      delete process.env.WEFT_TEST_DB_PASSWORD;
    }
  });

  it('supports HOCON includes relative to the file, with ${VAR:-default} in them, and shared blocks', async () => {
    write('inc/storage.conf', 'storage { type = sqlite, file = ${DATA_DIR:-data}/node.db }');
    const path = write(
      'inc/main.conf',
      `_defaults { monitoring.logging.level = warn }
weft.node {
  include required("storage.conf")
  name = n1
  kind = sequencer
  monitoring = \${_defaults.monitoring}
}`,
    );
    expect((await loadConfig(path, { env: {} })).nodes).toEqual([
      {
        name: 'n1',
        kind: 'sequencer',
        storage: { type: 'sqlite', file: 'data/node.db' },
        monitoring: { logging: { level: 'warn' }, httpServer: { address: '127.0.0.1', port: 0 } },
        crypto: PLAIN_KEYS,
        replication: NOT_REPLICATED,
      },
    ]);
    const moved = await loadConfig(path, { env: { DATA_DIR: '/var/lib/weft' } });
    expect(moved.nodes[0]!.storage).toEqual({ type: 'sqlite', file: '/var/lib/weft/node.db' });
  });
});

describe('HOCON includes', () => {
  it('name the included file in its errors', async () => {
    write('inc-bad/part.conf', 'storage {');
    const { code, message } = await failure(
      write('inc-bad/main.conf', 'weft.node { include required("part.conf") }'),
    );
    expect(code).toBe('CONFIG_SYNTAX_ERROR');
    expect(message).toContain(`${join(dir, 'inc-bad', 'part.conf')}:1:`);
  });
});

describe('HOCON includes are data', () => {
  it('read .conf, .json and .yaml files nested, each relative to the file that includes it', async () => {
    write('nest/parts/deeper/storage.yaml', 'storage:\n  type: sqlite\n  file: ${DATA_DIR:-data}/n1.db\n');
    write('nest/parts/monitoring.json', '{ "monitoring": { "logging": { "level": "warn" } } }');
    write(
      'nest/parts/node.conf',
      'name = n1\nkind = sequencer\ninclude required("deeper/storage.yaml")\ninclude file("monitoring.json")',
    );
    const path = write('nest/main.conf', 'weft.node { include required("parts/node.conf") }');
    expect((await loadConfig(path, { env: { DATA_DIR: '/srv' } })).nodes).toEqual([
      {
        name: 'n1',
        kind: 'sequencer',
        storage: { type: 'sqlite', file: '/srv/n1.db' },
        monitoring: { logging: { level: 'warn' }, httpServer: { address: '127.0.0.1', port: 0 } },
        crypto: PLAIN_KEYS,
        replication: NOT_REPLICATED,
      },
    ]);
  });

  it('never run an included script', async () => {
    const marker = join(dir, 'code', 'ran');
    write(
      'code/payload.js',
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = { name: 'x' };`,
    );
    write('code/part.conf', 'include required("payload.js")');
    for (const [main, include] of [
      ['code/direct.conf', 'include "payload.js"'],
      ['code/script.conf', 'include script("payload.conf")'],
      ['code/nested.conf', 'include "part.conf"'],
    ] as const) {
      const { code, message } = await failure(write(main, `weft.node { ${include} }`));
      expect(code).toBe('CONFIG_INCLUDE_REJECTED');
      expect(message).toMatch(
        /rejected: (extension \.js: only .* never code|script\(\.\.\.\) is not a file include)/,
      );
    }
    // The nested include names the file it is in, not the top-level one.
    expect((await failure(join(dir, 'code/nested.conf'))).message).toContain(
      `${join(dir, 'code', 'part.conf')}:`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('never fetch a URL or a classpath resource', async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.end('name = fetched');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/node.conf`;
    try {
      for (const [main, include, why] of [
        ['net/url.conf', `include url("${url}")`, 'url(...) is not a file include'],
        ['net/required-url.conf', `include required(url("${url}"))`, 'url(...) is not a file include'],
        ['net/bare.conf', `include "${url}"`, 'URLs are never fetched'],
        ['net/file-url.conf', `include file("${url}")`, 'URLs are never fetched'],
        ['net/classpath.conf', 'include classpath("node.conf")', 'classpath(...) is not a file include'],
      ] as const) {
        const { code, message } = await failure(write(main, `weft.node { ${include} }`));
        expect(code).toBe('CONFIG_INCLUDE_REJECTED');
        expect(message).toContain(`${join(dir, main)}: include`);
        expect(message).toContain(why);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(requests).toBe(0);
  });
});

describe('loadConfig validation errors name the key path', () => {
  const node = (body: string) => `weft.participants.alice {\n${body}\n}`;

  it.each([
    [
      'wrong type',
      node('storage { type = postgres, url { host = x } }'),
      'weft.participants.alice.storage.url: expected a non-empty string, got an object',
    ],
    [
      'missing key',
      node('storage { type = postgres }'),
      'weft.participants.alice.storage.url: missing (expected a non-empty string)',
    ],
    [
      'unknown key',
      node('storage { type = sqlite, file = a.db }\nadmin-api { port = 1, prot = 2 }'),
      "weft.participants.alice.admin-api.prot: unknown key (did you mean 'port'?)",
    ],
    [
      'unknown top-level section',
      'weft.participant.alice { storage { type = sqlite, file = a.db } }',
      "weft.participant: unknown key (did you mean 'participants'?)",
    ],
    [
      'bad enum value',
      node('storage { type = sqlite, file = a.db }\nmonitoring.logging.level = loud'),
      "weft.participants.alice.monitoring.logging.level: expected one of trace, debug, info, warn, error, fatal, silent, got 'loud'",
    ],
    [
      'bad storage type',
      node('storage { type = oracle }'),
      "weft.participants.alice.storage.type: expected one of sqlite, postgres, got 'oracle'",
    ],
    [
      'port out of range',
      node('storage { type = sqlite, file = a.db }\nadmin-api.port = 99999'),
      'weft.participants.alice.admin-api.port: expected an integer in 0..65535, got the number 99999',
    ],
    [
      'bad node name',
      'weft.participants { "al ice" { storage { type = sqlite, file = a.db } } }',
      'weft.participants."al ice": name must be',
    ],
    ['no nodes', 'weft {}', 'weft: defines no nodes'],
    ['no weft section', 'canton.participants.p1 {}', 'canton: unknown key'],
    [
      'single node without kind',
      'weft.node { name = a, storage { type = sqlite, file = a.db } }',
      'weft.node.kind: missing (expected one of participant, sequencer, mediator, topology)',
    ],
    [
      'name inside a network node',
      node('name = alice\nstorage { type = sqlite, file = a.db }'),
      'weft.participants.alice.name: unknown key',
    ],
    [
      'duplicate node name',
      `weft.node { name = alice, kind = mediator, storage { type = sqlite, file = m.db } }
${node('storage { type = sqlite, file = a.db }')}`,
      'weft.node: node name alice is taken by weft.participants.alice',
    ],
  ])('%s', async (_, text, expected) => {
    const { code, message } = await failure(write('invalid.conf', text));
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toMatch(
      new RegExp(`^invalid config ${join(dir, 'invalid.conf')}( \\(\\d problems\\))?: `),
    );
    expect(message).toContain(expected);
  });

  it('lists every problem in one message', async () => {
    const { message } = await failure(
      write(
        'many.yaml',
        'weft:\n  node:\n    name: a\n    kind: mediator\n    storage: { type: sqlite }\n    extra: 1\n',
      ),
    );
    expect(message).toBe(
      `invalid config ${join(dir, 'many.yaml')} (2 problems): weft.node.extra: unknown key; weft.node.storage.file: missing (expected a non-empty string)`,
    );
  });
});

describe('loadConfig file and syntax errors', () => {
  it.each([
    ['HOCON', 'bad.conf', 'a {\n  b = 1\n', `${join(dir, 'bad.conf')}:2:3: The object is not closed`],
    [
      'YAML',
      'bad.yaml',
      'a:\n  - b\n  c: 1\n',
      'bad.yaml:3:1: All mapping items must start at the same column',
    ],
    ['JSON', 'bad.json', '{\n  "a": 1,\n}', 'bad.json:3:'],
  ])('%s syntax errors give the line', async (_, name, text, location) => {
    const { code, message } = await failure(write(name, text));
    expect(code).toBe('CONFIG_SYNTAX_ERROR');
    expect(message).toContain(location);
  });

  it('reports malformed substitutions in YAML and JSON', async () => {
    const { code, message } = await failure(
      write('malformed.yaml', 'weft:\n  node:\n    name: ${NAME OF NODE}\n'),
    );
    expect(code).toBe('CONFIG_SYNTAX_ERROR');
    expect(message).toContain('malformed substitution at weft.node.name');
  });

  it('reports an empty file', async () => {
    const { code, message } = await failure(write('empty.yaml', ''));
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toBe(
      `invalid config ${join(dir, 'empty.yaml')}: the file is empty; it needs a weft section`,
    );
  });

  it('reports a missing file and an unknown extension', async () => {
    expect((await failure(join(dir, 'absent.conf'))).code).toBe('CONFIG_FILE_NOT_FOUND');
    const { code, message } = await failure(write('config.toml', ''));
    expect(code).toBe('INVALID_ARGUMENT');
    expect(message).toContain('.conf, .yaml, .yml, .json');
  });
});

describe('node schemas and selection', () => {
  it('lets a component add its section to one kind', async () => {
    const participant = nodeSchema.extend({ 'ledger-api-name': optional(string()) });
    const schemas = { participant, sequencer: nodeSchema, mediator: nodeSchema, topology: nodeSchema };
    const path = write(
      'extended.conf',
      `weft.participants.p { storage { type = sqlite, file = p.db }, ledger-api-name = main }
weft.sequencers.s { storage { type = sqlite, file = s.db } }`,
    );
    const config = await loadConfig(path, { env: {}, nodeSchemas: schemas });
    const p = config.nodes.find((n) => n.kind === 'participant');
    expect(p?.kind === 'participant' && p.ledgerApiName).toBe('main');
    const sequencerWithIt = write(
      'extended-bad.conf',
      'weft.sequencers.s { storage { type = sqlite, file = s.db }, ledger-api-name = x }',
    );
    const error = await loadConfig(sequencerWithIt, { env: {}, nodeSchemas: schemas }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain('weft.sequencers.s.ledger-api-name: unknown key');
  });

  it('selects the named node or the only one', async () => {
    const two = await loadConfig(
      write(
        'two.conf',
        'weft.mediators { m1.storage { type = sqlite, file = 1.db }, m2.storage { type = sqlite, file = 2.db } }',
      ),
      { env: {} },
    );
    expect(selectNode(two, 'm2').name).toBe('m2');
    expect(() => selectNode(two)).toThrow('the config defines 2 nodes (m1, m2); say which one to run');
    expect(() => selectNode(two, 'm3')).toThrow('the config defines no node m3; it has m1, m2');
    const one = await loadConfig(
      write('one.conf', 'weft.mediators.m1.storage { type = sqlite, file = 1.db }'),
      {
        env: {},
      },
    );
    expect(selectNode(one).name).toBe('m1');
  });
});

describe('examples/config', () => {
  const examples = fileURLToPath(new URL('../../examples/config/', import.meta.url));

  it('sequencer-postgres.yaml', async () => {
    const config = await loadConfig(join(examples, 'sequencer-postgres.yaml'), {
      env: { WEFT_DB_PASSWORD: 's3' },
    });
    const node = selectNode(config);
    expect(node).toMatchObject({
      name: 'sequencer1',
      kind: 'sequencer',
      storage: {
        type: 'postgres',
        url: 'postgres://weft:s3@localhost:5432/weft',
        schema: 'sequencer1',
        poolSize: 8,
      },
      publicApi: { address: '0.0.0.0', port: 5301, tls: { certChainFile: 'tls/sequencer1.crt' } },
    });
    expect((await failure(join(examples, 'sequencer-postgres.yaml'))).message).toContain('WEFT_DB_PASSWORD');
  });
});
