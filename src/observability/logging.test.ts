import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { createLogger, type LoggerOptions, logLevelsOf } from './logging.js';
import { withSpan } from './tracing.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-logging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function captured(options: LoggerOptions = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ ...options, destination: { write: (s) => lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with time, level label, message and node', () => {
    const { logger, lines } = captured({ node: 'participant1' });
    logger.info({ offset: 7 }, 'started');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'started', node: 'participant1', offset: 7 });
    expect(Date.parse(lines[0]!.time as string)).not.toBeNaN();
  });

  it('adds trace_id and span_id inside a span and nothing outside', async () => {
    const { logger, lines } = captured();
    const component = logger.child({ component: 'sequencer-client' });
    component.info('outside');
    const span = await withSpan('submit', async (s) => {
      await new Promise((r) => setTimeout(r, 1));
      component.info('inside');
      return s;
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      component: 'sequencer-client',
      trace_id: span.traceId,
      span_id: span.spanId,
    });
  });

  it('respects the level', () => {
    const { logger, lines } = captured({ level: 'warn' });
    logger.info('dropped');
    logger.debug('dropped');
    logger.warn('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });

  it('redacts secret fields at the top level and nested, by name in any case, and extra paths', () => {
    const { logger, lines } = captured({ redact: ['config.storage.url'] });
    const logged = {
      password: 'hunter2',
      request: { headers: { Authorization: 'Bearer abc' }, token: 'tok-1' },
      key: { material: { privateKey: 'secret-key-bytes' } },
      config: { storage: { url: 'postgres://u:pw@h/db' } },
      keep: 'visible',
      list: [1, 2],
    };
    logger.info(logged, 'secrets');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['hunter2', 'Bearer abc', 'tok-1', 'secret-key-bytes', 'pw@h']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      password: '[redacted]',
      request: { headers: { Authorization: '[redacted]' }, token: '[redacted]' },
      key: { material: { privateKey: '[redacted]' } },
      keep: 'visible',
      list: [1, 2],
    });
    // The caller's object is not touched.
    expect(logged.password).toBe('hunter2');
    expect(logged.request.headers.Authorization).toBe('Bearer abc');
    expect(logged.config.storage.url).toBe('postgres://u:pw@h/db');
  });

  it('rejects an unknown level and a file together with a destination', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/log level 'loud'/);
    expect(() => createLogger({ file: join(dir, 'x.log'), destination: { write: () => {} } })).toThrow(
      /not both/,
    );
  });

  it('appends to a file, creating its directory', async () => {
    const file = join(dir, 'nested', 'deeper', 'node.log');
    const logger = createLogger({ file, node: 'mediator1' });
    logger.info('one');
    logger.error({ err: new Error('boom') }, 'two');
    // Writes are asynchronous and pino's flush() does not wait for them without a write buffer: poll.
    const lines = await vi.waitFor(() => {
      const written = readFileSync(file, 'utf8').trim().split('\n');
      expect(written).toHaveLength(2);
      return written.map((l) => JSON.parse(l));
    });
    expect(lines.map((l) => l.msg)).toEqual(['one', 'two']);
    expect(lines[1]).toMatchObject({ level: 'error', node: 'mediator1', err: { message: 'boom' } });
  });

  it('reports a log file that cannot be created', () => {
    const blocker = join(dir, 'nested', 'deeper', 'node.log');
    let error: unknown;
    try {
      createLogger({ file: join(blocker, 'inside-a-file.log') });
    } catch (e) {
      error = e;
    }
    expect(isWeftError(error) && error.code).toBe('LOG_FILE_UNAVAILABLE');
  });

  it('flushes buffered file output when the process exits right after logging', () => {
    const file = join(dir, 'exit', 'node.log');
    const module = fileURLToPath(new URL('./logging.ts', import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(module)});
      const logger = createLogger({ file: ${JSON.stringify(file)} });
      for (let i = 0; i < 1000; i++) logger.info({ i }, 'line');
      process.exit(0);`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'pipe',
    });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toMatchObject({ i: 999, msg: 'line' });
  });

  it('gives components their own levels, from the options and at run time, and children follow them', () => {
    const { logger, lines } = captured({ level: 'info', levels: { 'ledger-api': 'debug' } });
    const api = logger.child({ component: 'ledger-api' });
    const perCall = api.child({ method: 'GetUpdates' });
    const mediator = logger.child({ component: 'mediator' });
    perCall.debug('api debug');
    mediator.debug('mediator debug dropped');
    const levels = logLevelsOf(logger)!;
    levels.set('warn', 'ledger-api');
    perCall.info('api info dropped');
    levels.set('debug');
    mediator.debug('mediator debug');
    // A component logger made after the change gets the component's level too.
    logger.child({ component: 'ledger-api' }).warn('api warn');
    expect(lines.map((l) => l.msg)).toEqual(['api debug', 'mediator debug', 'api warn']);
    expect(levels.levels()).toEqual({ level: 'debug', components: { 'ledger-api': 'warn' } });
    expect(() => levels.set('loud' as never, 'x')).toThrow(/log level 'loud'/);
  });

  it('rotates a file by size and keeps only the newest files', () => {
    const base = join(dir, 'rolled');
    const module = fileURLToPath(new URL('./logging.ts', import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(module)});
      const logger = createLogger({
        file: ${JSON.stringify(join(base, 'node.log'))},
        rotation: { maxFileSizeMb: 1, maxFiles: 1 },
      });
      const { readdirSync } = await import('node:fs');
      const numbers = () =>
        readdirSync(${JSON.stringify(base)}).flatMap((f) => /^node\\.(\\d+)\\.log$/.exec(f)?.[1] ?? []).map(Number);
      const until = async (done) => {
        for (const end = Date.now() + 30_000; !done(); await new Promise((r) => setTimeout(r, 10))) {
          if (Date.now() > end) throw new Error('no roll in 30 s: ' + numbers());
        }
      };
      const pad = 'x'.repeat(500);
      let i = 0;
      // Four bursts of ~1.1 MB, each waited for until pino-roll has moved to the next file: it rolls only when its
      // stream drains, which a loaded machine may put off past a fixed pause.
      for (let burst = 1; burst <= 4; burst++) {
        for (let n = 0; n < 2000; n++) logger.info({ i: i++, pad }, 'line');
        await until(() => Math.max(...numbers()) > burst);
      }
      await until(() => numbers().length <= 2);
      process.exit(0);`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'pipe',
      timeout: 120_000,
    });
    const numbers = readdirSync(base)
      .map((f) => Number(/^node\.(\d+)\.log$/.exec(f)?.[1]))
      .sort((a, b) => a - b);
    // Four files of 1 MB and more were rolled (pino-roll rolls after the write that crosses the size); the newest
    // two are kept.
    expect(numbers).toEqual([4, 5]);
    // The newest file was opened when the last burst crossed the size, so it may be empty: the last line is in the
    // newest non-empty one.
    const lines = numbers
      .flatMap((n) => readFileSync(join(base, `node.${n}.log`), 'utf8').split('\n'))
      .filter((line) => line.length > 0);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ i: 7999, msg: 'line' });
  });

  it('refuses rotation without a file', () => {
    expect(() => createLogger({ rotation: { maxFileSizeMb: 1, maxFiles: 1 } })).toThrow(/need a log file/);
  });
});
