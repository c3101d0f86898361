import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { healthDump, redactConfig } from './health-dump.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-dump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the health dump', () => {
  it('redacts secret fields and URL credentials in the config', () => {
    expect(
      redactConfig({
        storage: { url: 'postgres://u:pw@db/x', poolSize: 4 },
        auth: [{ secret: 's3', type: 'hmac' }],
        crypto: { kekFile: 'k' },
        name: 'p1',
      }),
    ).toEqual({
      storage: { url: 'postgres://[redacted]@db/x', poolSize: 4 },
      auth: [{ secret: '[redacted]', type: 'hmac' }],
      crypto: { kekFile: '[redacted]' },
      name: 'p1',
    });
  });

  it('zips status, config, metrics and the tail of the newest rotated log file', async () => {
    writeFileSync(join(dir, 'node.1.log'), '{"msg":"old"}\n');
    writeFileSync(join(dir, 'node.2.log'), '{"msg":"new"}\n');
    utimesSync(join(dir, 'node.1.log'), 1, 1);
    const zip = unzipSync(
      await healthDump({
        status: { ready: true, startedAt: 5n },
        config: { password: 'x' },
        metrics: 'm 1\n',
        logFile: join(dir, 'node.log'),
      }),
    );
    expect(JSON.parse(strFromU8(zip['status.json']!))).toEqual({ ready: true, startedAt: '5' });
    expect(JSON.parse(strFromU8(zip['config.json']!))).toEqual({ password: '[redacted]' });
    expect(strFromU8(zip['metrics.txt']!)).toBe('m 1\n');
    expect(strFromU8(zip['logs.jsonl']!)).toBe('{"msg":"new"}\n');
  });
});
