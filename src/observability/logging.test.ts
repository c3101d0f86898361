import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { createLogger, type LoggerOptions } from './logging.js';
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
});
