import { expect, it } from 'vitest';
import { CommonErrors } from '../../errors/index.js';
import { rejection } from '../../sequencer/testing.js';
import { describeBackends } from '../../storage/testing.js';
import { PartyManagementErrors } from './errors.js';
import { PartyRecords } from './records.js';

describeBackends('party records', (backend) => {
  it('keeps annotations and the identity provider, merging updates and versioning them', async () => {
    const storage = await backend.open();
    const records = await PartyRecords.open(storage);
    expect(await records.get(['alice::ns'])).toEqual(new Map());
    const created = await records.update('alice::ns', { annotations: { a: '1', 'example.com/b': '2' } });
    expect(created).toEqual({
      party: 'alice::ns',
      identityProviderId: '',
      annotations: { a: '1', 'example.com/b': '2' },
      resourceVersion: '1',
    });
    const updated = await records.update('alice::ns', {
      annotations: { a: '', c: '3' },
      identityProviderId: 'idp1',
      resourceVersion: '1',
    });
    expect(updated).toMatchObject({
      annotations: { 'example.com/b': '2', c: '3' },
      identityProviderId: 'idp1',
      resourceVersion: '2',
    });
    // Reopened (migrations are idempotent), the record is as written.
    const again = await PartyRecords.open(storage);
    expect((await again.get(['alice::ns', 'bob::ns'])).get('alice::ns')).toEqual(updated);
    const stale = await rejection(
      records.update('alice::ns', { annotations: { d: '4' }, resourceVersion: '1' }),
    );
    expect(stale.code).toBe(PartyManagementErrors.CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED.code);
    expect((await records.get(['alice::ns'])).get('alice::ns')).toEqual(updated);
  });

  it('refuses invalid annotation keys and annotations over 256 KiB', async () => {
    const records = await PartyRecords.open(await backend.open());
    for (const key of ['', '-a', 'a/', 'a//b', `${'x'.repeat(64)}`]) {
      const e = await rejection(records.update('p::ns', { annotations: { [key]: 'v' } }));
      expect(e.code, key).toBe(CommonErrors.INVALID_ARGUMENT.code);
    }
    await records.update('p::ns', { annotations: { big: 'x'.repeat(200 * 1024) } });
    const big = await rejection(records.update('p::ns', { annotations: { more: 'x'.repeat(100 * 1024) } }));
    expect(big.code).toBe(PartyManagementErrors.MAX_PARTY_DETAILS_ANNOTATIONS_SIZE_EXCEEDED.code);
    expect(Object.keys((await records.get(['p::ns'])).get('p::ns')!.annotations)).toEqual(['big']);
  });
});
