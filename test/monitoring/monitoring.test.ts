// What an SRE monitors, on a real network of daemon processes (a sequencer, a mediator, two participants on SQLite,
// participant1 with JWT authorization and the JSON API), each writing rotated JSON logs and an audit log: every
// documented metric is exported, a real Prometheus scrapes every node and loads the alert rules, the dashboards
// query only existing metrics, a ping's trace id is in the logs of all four nodes and `weft logs` follows it, a
// denied call is audited, log levels change at run time and a health dump has what it promises.
// Needs `npm run build`; installs Debian's prometheus package when missing (test/monitoring/prometheus.ts).
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { type MonitoredKind, metricCatalog } from '../../src/daemon/index.js';
import { rotatedName, withSpan } from '../../src/observability/index.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  REPO,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';
import { ensurePrometheus, promtool, type RunningPrometheus, startPrometheus } from './prometheus.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-monitoring-'));
const admins: AdminClient[] = [];
let prometheus: RunningPrometheus | undefined;
afterAll(() => {
  prometheus?.stop();
  for (const a of admins) a.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const SECRET = 'a shared secret for the monitoring test';
const logFile = (name: string) => join(dir, 'logs', `${name}.log`);
const auditFile = (name: string) => join(dir, 'audit', `${name}.log`);

/** The monitoring section every node of the test has: debug logs rotated at 10 MB, and an audit log. */
const monitoring = (name: string) => `
  monitoring {
    http-server.port = 0
    logging { level = debug, file = "${logFile(name)}", rotation { max-file-size-mb = 10, max-files = 3 } }
    audit.file = "${auditFile(name)}"
  }`;

function config(name: string, kind: string, body: string): string {
  return writeConfig(
    dir,
    name,
    `weft.node {
  name = ${name}
  kind = ${kind}
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  admin-api.port = 0
  ${body}
  ${monitoring(name)}
}
`,
  );
}

/** The files a node logged to (pino-roll numbers them), or audited to. */
function filesOf(file: string): string[] {
  const base = file.slice(file.lastIndexOf('/') + 1).replace(/\.log$/, '');
  const folder = file.slice(0, file.lastIndexOf('/'));
  return readdirSync(folder)
    .filter((n) => n === `${base}.log` || rotatedName(base).test(n))
    .map((n) => join(folder, n));
}

function jsonLines(files: readonly string[]): Record<string, unknown>[] {
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

function admin(daemon: Daemon): AdminClient {
  const a = new AdminClient(daemon.adminUrl);
  admins.push(a);
  return a;
}

/** The names of the metric families a node's /metrics exports. */
async function exported(daemon: Daemon): Promise<Set<string>> {
  const text = await (await fetch(`http://127.0.0.1:${daemon.ports.monitoring}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

describe('monitoring a network', () => {
  const nodes = {} as Record<'sequencer' | 'mediator' | 'participant1' | 'participant2', Daemon>;
  const kindOf: Record<keyof typeof nodes, MonitoredKind> = {
    sequencer: 'sequencer',
    mediator: 'mediator',
    participant1: 'participant',
    participant2: 'participant',
  };
  let p1Id: string;
  let p2Id: string;

  beforeAll(async () => {
    const port = await freePort();
    nodes.sequencer = await startDaemon(
      config('sequencer', 'sequencer', `public-api.port = ${port}`),
      join(dir, 'sequencer.ports'),
    );
    [nodes.mediator, nodes.participant1, nodes.participant2] = await Promise.all([
      startDaemon(
        config(
          'mediator',
          'mediator',
          `sequencer-connection { endpoints = ["http://127.0.0.1:${port}"], max-backoff-ms = 200 }`,
        ),
        join(dir, 'mediator.ports'),
      ),
      startDaemon(
        config(
          'participant1',
          'participant',
          `ledger-api { port = 0, auth-services = [{ type = unsafe-jwt-hmac-256, secret = "${SECRET}" }] }
  json-api.port = 0
  participant.max-backoff-ms = 200`,
        ),
        join(dir, 'participant1.ports'),
      ),
      startDaemon(
        config('participant2', 'participant', 'participant.max-backoff-ms = 200'),
        join(dir, 'participant2.ports'),
      ),
    ]);
    await weftOk([
      'admin',
      '-e',
      nodes.sequencer.adminUrl,
      'bootstrap',
      '--name',
      'monitored',
      '--mediator',
      nodes.mediator.adminUrl,
    ]);
    const mediator = admin(nodes.mediator);
    await eventually('the mediator to serve', async () => (await mediator.status()).ready, 15_000);
    for (const p of [nodes.participant1, nodes.participant2]) {
      await weftOk([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'monitored',
        '--sequencer',
        nodes.sequencer.publicUrl,
      ]);
    }
    p1Id = (await admin(nodes.participant1).status()).memberId;
    p2Id = (await admin(nodes.participant2).status()).memberId;
  }, 90_000);

  it('exports every documented metric on each node, and documents every Weft metric it exports', async () => {
    const catalog = metricCatalog();
    for (const [name, daemon] of Object.entries(nodes) as [keyof typeof nodes, Daemon][]) {
      const names = await exported(daemon);
      const documented = catalog[kindOf[name]].map((m) => m.name);
      expect(
        documented.filter((m) => !names.has(m)),
        `${name} lacks documented metrics`,
      ).toEqual([]);
      const undocumented = [...names].filter((m) => m.startsWith('weft_') && !documented.includes(m));
      expect(undocumented, `${name} exports undocumented metrics`).toEqual([]);
      expect(names.has('process_cpu_seconds_total')).toBe(true);
    }
    // Computed on each scrape from the participant's database.
    const text = await (
      await fetch(`http://127.0.0.1:${nodes.participant1.ports.monitoring}/metrics`)
    ).text();
    expect(text).toMatch(/^weft_participant_acs_size\{node="participant1"\} \d+$/m);
  });

  it("follows a ping's trace through the logs of the submitting participant, sequencer, mediator and confirming participant", async () => {
    const traceId = await withSpan('monitoring test ping', async (span) => {
      await admin(nodes.participant1).ping(p2Id, 30_000);
      return span.traceId;
    });
    const files = Object.keys(nodes).flatMap((n) => filesOf(logFile(n)));
    // Asynchronous file output: the lines arrive shortly after the ping returned.
    let seen = new Set<unknown>();
    await eventually(
      'every node to log the trace',
      () => {
        seen = new Set(
          jsonLines(files)
            .filter((l) => l.trace_id === traceId)
            .map((l) => l.node),
        );
        return Object.keys(nodes).every((n) => seen.has(n));
      },
      15_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: only ${[...seen].join(', ')} logged trace ${traceId}`);
    });
    const timeline = await weftOk(['logs', 'trace', traceId, ...files]);
    for (const n of Object.keys(nodes)) expect(timeline).toContain(n);
    expect(timeline).toMatch(/participant\.event/);
    expect(timeline).toMatch(/mediator\.verdict/);
    const slowest = JSON.parse(await weftOk(['logs', 'slowest', '--top', '1000', '--json', ...files])) as {
      traceId: string;
      nodes: string[];
    }[];
    expect(slowest.find((t) => t.traceId === traceId)?.nodes).toEqual(Object.keys(nodes).sort());
    const bad = await weft(['logs', 'trace', 'not-a-trace', ...files]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT/);
    const missing = await weft(['logs', 'slowest', join(dir, 'no-such.log')]);
    expect(missing.stderr).toMatch(/LOG_READ_FAILED/);
  });

  it('audits Ledger API calls, a denied one too, with who, what, outcome and trace id, and Admin API calls', async () => {
    const participant = p1Id.replace(/^PAR::/, '');
    const token = (aud: string) =>
      new SignJWT({ sub: 'participant_admin', aud: `https://daml.com/jwt/aud/participant/${aud}` })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
        .sign(new TextEncoder().encode(SECRET));
    const json = `http://127.0.0.1:${nodes.participant1.ports.jsonApi}/v2/parties/participant-id`;
    const ok = await fetch(json, { headers: { authorization: `Bearer ${await token(participant)}` } });
    expect(ok.status).toBe(200);
    // A token bound to another participant: refused.
    const denied = await fetch(json, {
      headers: { authorization: `Bearer ${await token('participant9::1220ab')}` },
    });
    expect(denied.status).toBe(403);
    const { correlationId } = (await denied.json()) as { correlationId: string };
    const files = () => filesOf(auditFile('participant1'));
    let audit: Record<string, unknown>[] = [];
    await eventually(
      'the denied call in the audit log',
      () => {
        audit = jsonLines(files());
        return audit.some((l) => l.outcome === 'PERMISSION_DENIED');
      },
      10_000,
    );
    expect(audit.find((l) => l.outcome === 'PERMISSION_DENIED')).toMatchObject({
      audit: 'call',
      api: 'json-api',
      method: 'GET /v2/parties/participant-id',
      who: 'unverified:participant_admin',
      code: 'PERMISSION_DENIED',
      trace_id: correlationId,
      node: 'participant1',
    });
    expect(audit.find((l) => l.api === 'json-api' && l.outcome === 'OK')).toMatchObject({
      who: 'user:participant_admin',
    });
    // The Admin API calls of the test (the ping) are audited too, with the caller's address.
    expect(audit.find((l) => l.api === 'admin-api' && l.method === 'Ping')).toMatchObject({
      who: 'anonymous',
      outcome: 'OK',
    });
    expect(typeof audit[0]!.time).toBe('string');
  });

  it('records a topology change in the audit log with its signer', async () => {
    const owner = admin(nodes.sequencer);
    const { uid } = await owner.status();
    await owner.setParticipantState({ participantId: p2Id, permission: 2 });
    let lines: Record<string, unknown>[] = [];
    await eventually(
      'the topology change in the audit log',
      () => {
        lines = jsonLines(filesOf(auditFile('sequencer'))).filter((l) => l.audit === 'topology');
        return lines.length > 0;
      },
      10_000,
    );
    expect(lines[0]).toMatchObject({ operation: 'set-participant-state', signer: uid.split('::')[1] });
    expect(lines[0]!.signedBy).toContain(uid.split('::')[1]);
  });

  it('changes log levels at run time through the Admin API', async () => {
    const a = admin(nodes.participant2);
    expect(await a.setLogLevel('warn', 'ledger-api')).toEqual({
      level: 'debug',
      components: { 'ledger-api': 'warn' },
    });
    const out = await weftOk(['admin', '-e', nodes.participant2.adminUrl, 'log-level', 'info']);
    expect(out).toContain('level info');
    const bad = await weft(['admin', '-e', nodes.participant2.adminUrl, 'log-level', 'loud']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT.*'loud'/);
  });

  it('writes a health dump with status, redacted config, recent logs and metrics', async () => {
    const out = join(dir, 'dump.zip');
    await weftOk(['admin', '-e', nodes.participant1.adminUrl, 'health', 'dump', '--out', out]);
    const files = unzipSync(readFileSync(out));
    expect(Object.keys(files).sort()).toEqual(['config.json', 'logs.jsonl', 'metrics.txt', 'status.json']);
    const status = JSON.parse(strFromU8(files['status.json']!)) as { name: string; ready: boolean };
    expect(status).toMatchObject({ name: 'participant1', ready: true });
    const cfg = strFromU8(files['config.json']!);
    expect(cfg).not.toContain(SECRET);
    expect(cfg).toContain('[redacted]');
    expect(strFromU8(files['metrics.txt']!)).toContain('weft_participant_submissions_total');
    const logs = strFromU8(files['logs.jsonl']!).trim().split('\n');
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ node: 'participant1' });
  });

  it('is scraped by a real Prometheus that loads the alert rules; the dashboards query existing metrics', async () => {
    ensurePrometheus();
    const deploy = join(REPO, 'deploy/prometheus');
    expect(promtool(['check', 'rules', join(deploy, 'rules/weft.yml')])).toMatch(/SUCCESS/);
    // The shipped config, with targets pointing at this network.
    const prom = join(dir, 'prometheus');
    mkdirSync(join(prom, 'rules'), { recursive: true });
    mkdirSync(join(prom, 'targets'));
    copyFileSync(join(deploy, 'prometheus.yml'), join(prom, 'prometheus.yml'));
    copyFileSync(join(deploy, 'rules/weft.yml'), join(prom, 'rules/weft.yml'));
    const targets = Object.entries(nodes).map(([name, d]) => ({
      targets: [`127.0.0.1:${d.ports.monitoring}`],
      labels: { kind: kindOf[name as keyof typeof nodes], instance_name: name },
    }));
    writeFileSync(join(prom, 'targets/test.json'), JSON.stringify(targets));
    expect(promtool(['check', 'config', join(prom, 'prometheus.yml')])).toMatch(/SUCCESS/);
    // A short scrape interval (and timeout within it), or the test waits 15 s for the first scrape.
    const yml = readFileSync(join(prom, 'prometheus.yml'), 'utf8')
      .replace('scrape_interval: 15s', 'scrape_interval: 1s')
      .replace('scrape_timeout: 10s', 'scrape_timeout: 1s');
    writeFileSync(join(prom, 'prometheus.yml'), yml);
    prometheus = await startPrometheus(join(prom, 'prometheus.yml'), await freePort(), join(prom, 'data'));
    const api = async <T>(path: string): Promise<T> =>
      ((await (await fetch(`${prometheus!.url}/api/v1/${path}`)).json()) as { data: T }).data;
    await eventually(
      'prometheus to scrape every node',
      async () => {
        const { activeTargets } = await api<{ activeTargets: { health: string }[] }>('targets');
        return activeTargets.length === 4 && activeTargets.every((t) => t.health === 'up');
      },
      60_000,
    );
    const { groups } = await api<{ groups: { name: string; rules: { name: string; health: string }[] }[] }>(
      'rules',
    );
    expect(groups.map((g) => g.name).sort()).toEqual(['weft-nodes', 'weft-protocol']);
    expect(groups.flatMap((g) => g.rules).every((r) => r.health !== 'err')).toBe(true);
    const ready = await api<{
      result: { metric: { node: string; kind: string }; value: [number, string] }[];
    }>('query?query=weft_node_ready');
    expect(ready.result.map((r) => r.metric.node).sort()).toEqual(Object.keys(nodes).sort());
    expect(ready.result.every((r) => r.value[1] === '1')).toBe(true);
    // The nodes run on SQLite: one connection each.
    const max = await api<{ result: { value: [number, string] }[] }>(
      'query?query=weft_db_storage_connections_max',
    );
    expect(max.result.map((r) => r.value[1])).toEqual(['1', '1', '1', '1']);

    // Every metric a dashboard panel queries is one a node exports (Weft's from the reference, process ones
    // from a scrape).
    const known = new Set(Object.values(metricCatalog()).flatMap((ms) => ms.map((m) => m.name)));
    for (const d of Object.values(nodes)) for (const m of await exported(d)) known.add(m);
    known.add('up');
    for (const file of readdirSync(join(REPO, 'deploy/grafana')).filter((f) => f.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(REPO, 'deploy/grafana', file), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets) {
          const queried = metricNames(expr);
          expect(queried.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
          for (const name of queried)
            expect(known, `${file}: ${panel.title} queries ${name}`).toContain(name);
        }
      }
    }
  });
});

const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'rate',
  'histogram_quantile',
  'le',
  'without',
  'on',
  'avg',
  'max',
  'min',
]);

/** The metric names a PromQL expression selects: the identifiers before a `{` or `[`, minus PromQL's words. */
function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '{}');
  const names = [...withoutLabels.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)/g)].map((m) => m[1]!);
  // Histogram series are named after their family.
  return names
    .filter((n) => !PROMQL_WORDS.has(n))
    .map((n) => n.replace(/_(bucket|sum|count)$/, ''))
    .filter((n, i, all) => all.indexOf(n) === i);
}
