import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PING_DAR, zipBomb } from '../daml/dar/testing.js';
import { PackageRegistry } from '../daml/index.js';
import { isWeftError } from '../errors/index.js';
import { createLogger } from '../observability/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { PackageService } from './packages.js';
import { ParticipantStore } from './store.js';

const MiB = 1024 * 1024;
let storage: Storage;
let packages: PackageService;

beforeAll(async () => {
  storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
  const store = await ParticipantStore.open(storage);
  const logger = createLogger({ level: 'silent' });
  packages = await PackageService.load(new PackageRegistry(), store, systemClock, logger, {
    maxInflatedBytes: 16 * MiB,
    maxEntries: 10_000,
  });
});
afterAll(() => storage.close());

describe('the DAR upload path (Admin API UploadDar)', () => {
  it('refuses a zip bomb with DAR_TOO_LARGE, storing nothing, and goes on serving uploads', async () => {
    const error = await packages.upload(zipBomb(1024 * MiB)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWeftError(error) && error.code).toBe('DAR_TOO_LARGE');
    expect(await packages.dars()).toEqual([]);
    const mainPackageId = await packages.upload(readFileSync(PING_DAR));
    expect((await packages.dars()).map((d) => d.mainPackageId)).toEqual([mainPackageId]);
  });
});
