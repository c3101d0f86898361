import { expect, it } from 'vitest';
import { CommonErrors, isWeftError } from '../../errors/index.js';
import { describeBackends } from '../../storage/testing.js';
import { IdentityProviderConfigErrors, UserManagementErrors } from './errors.js';
import { MAX_RIGHTS_PER_USER, PARTICIPANT_ADMIN_USER_ID, type UserRight } from './model.js';
import { type UserChange, UserStore } from './store.js';

async function rejects(p: Promise<unknown>, code: { code: string }): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isWeftError(e) ? e.code : e).toBe(code.code);
}

const alice = 'alice::1220aa';
const bob = 'bob::1220bb';
const newUser = (id: string, identityProviderId = '') => ({
  id,
  primaryParty: alice,
  isDeactivated: false,
  annotations: { 'example.com/team': 'blue' },
  identityProviderId,
});

describeBackends('ledger api user store', (backend) => {
  it('starts with participant_admin holding ParticipantAdmin, once', async () => {
    const storage = await backend.open();
    const store = await UserStore.open(storage);
    expect(await store.listRights(PARTICIPANT_ADMIN_USER_ID, '')).toEqual([{ kind: 'ParticipantAdmin' }]);
    await store.revokeRights(PARTICIPANT_ADMIN_USER_ID, [{ kind: 'ParticipantAdmin' }], '');
    // Reopening does not bring a revoked right back, nor a deleted admin.
    const again = await UserStore.open(storage);
    expect(await again.listRights(PARTICIPANT_ADMIN_USER_ID, '')).toEqual([]);
    await again.deleteUser(PARTICIPANT_ADMIN_USER_ID, '');
    expect(await (await UserStore.open(storage)).lookup(PARTICIPANT_ADMIN_USER_ID)).toBeUndefined();
  });

  it('creates, reads, lists, updates and deletes users', async () => {
    const store = await UserStore.open(await backend.open());
    const changes: UserChange[] = [];
    store.onChange((c) => changes.push(c));
    const rights: UserRight[] = [
      { kind: 'CanActAs', party: alice },
      { kind: 'CanReadAs', party: bob },
      { kind: 'CanActAs', party: alice },
    ];
    const created = await store.createUser(newUser('app'), rights);
    expect(created.resourceVersion).toBe(0n);
    await rejects(store.createUser(newUser('app'), []), UserManagementErrors.USER_ALREADY_EXISTS);
    expect(await store.getUser('app', '')).toEqual(created);
    expect(await store.listRights('app', '')).toEqual([
      { kind: 'CanActAs', party: alice },
      { kind: 'CanReadAs', party: bob },
    ]);
    const looked = await store.lookup('app');
    expect(looked?.user.primaryParty).toBe(alice);
    expect(await store.lookup('nobody')).toBeUndefined();

    for (const id of ['b', 'c', 'd']) await store.createUser(newUser(id), []);
    const page1 = await store.listUsers(undefined, 2, '');
    expect(page1.map((u) => u.id)).toEqual(['app', 'b']);
    const page2 = await store.listUsers('b', 10, '');
    expect(page2.map((u) => u.id)).toEqual(['c', 'd', PARTICIPANT_ADMIN_USER_ID]);

    const updated = await store.updateUser({
      id: 'app',
      identityProviderId: '',
      isDeactivated: true,
      annotations: { 'example.com/team': '', owner: 'ops' },
      resourceVersion: 0n,
    });
    expect(updated).toMatchObject({ isDeactivated: true, primaryParty: alice, resourceVersion: 1n });
    expect(updated.annotations).toEqual({ owner: 'ops' });
    await rejects(
      store.updateUser({ id: 'app', identityProviderId: '', primaryParty: bob, resourceVersion: 0n }),
      UserManagementErrors.CONCURRENT_USER_UPDATE_DETECTED,
    );
    expect(
      (await store.updateUser({ id: 'app', identityProviderId: '', primaryParty: '' })).primaryParty,
    ).toBe('');

    await store.deleteUser('app', '');
    await rejects(store.getUser('app', ''), UserManagementErrors.USER_NOT_FOUND);
    await rejects(store.deleteUser('app', ''), UserManagementErrors.USER_NOT_FOUND);
    expect(await store.lookup('app')).toBeUndefined();
    expect(changes.filter((c) => 'userId' in c && c.userId === 'app').length).toBe(4);
  });

  it('grants and revokes only what changes, up to the limit', async () => {
    const store = await UserStore.open(await backend.open());
    await store.createUser(newUser('u'), [{ kind: 'CanReadAs', party: alice }]);
    expect(
      await store.grantRights(
        'u',
        [{ kind: 'CanReadAs', party: alice }, { kind: 'CanExecuteAsAnyParty' }],
        '',
      ),
    ).toEqual([{ kind: 'CanExecuteAsAnyParty' }]);
    expect(
      await store.revokeRights(
        'u',
        [
          { kind: 'CanReadAs', party: alice },
          { kind: 'CanActAs', party: bob },
        ],
        '',
      ),
    ).toEqual([{ kind: 'CanReadAs', party: alice }]);
    const many: UserRight[] = Array.from({ length: MAX_RIGHTS_PER_USER }, (_, i) => ({
      kind: 'CanReadAs',
      party: `p${i}::1220aa`,
    }));
    await rejects(store.grantRights('u', many, ''), UserManagementErrors.TOO_MANY_USER_RIGHTS);
    expect(await store.listRights('u', '')).toEqual([{ kind: 'CanExecuteAsAnyParty' }]);
    await rejects(
      store.createUser(newUser('v'), [...many, { kind: 'ParticipantAdmin' }]),
      UserManagementErrors.TOO_MANY_USER_RIGHTS,
    );
    await rejects(store.grantRights('nobody', [], ''), UserManagementErrors.USER_NOT_FOUND);
  });

  it('keeps identity providers apart and moves users between them', async () => {
    const store = await UserStore.open(await backend.open());
    const idp = {
      identityProviderId: 'idp1',
      isDeactivated: false,
      jwksUrl: 'https://idp1.example/jwks',
      issuer: 'https://idp1.example',
      audience: '',
    };
    await store.createIdentityProvider(idp);
    await store.createUser(newUser('x', 'idp1'), [{ kind: 'CanReadAs', party: alice }]);
    await rejects(store.getUser('x', ''), CommonErrors.PERMISSION_DENIED);
    await rejects(store.createUser(newUser('x'), []), CommonErrors.PERMISSION_DENIED);
    await rejects(store.grantRights('x', [{ kind: 'ParticipantAdmin' }], ''), CommonErrors.PERMISSION_DENIED);
    expect((await store.listUsers(undefined, 10, 'idp1')).map((u) => u.id)).toEqual(['x']);
    expect((await store.listUsers(undefined, 10, '')).map((u) => u.id)).toEqual([PARTICIPANT_ADMIN_USER_ID]);
    expect((await store.updateUserIdp('x', 'idp1', '')).identityProviderId).toBe('');
    expect((await store.getUser('x', '')).identityProviderId).toBe('');
  });

  it('stores identity provider configs with unique ids and issuers, at most ten', async () => {
    const store = await UserStore.open(await backend.open());
    const config = (n: number) => ({
      identityProviderId: `idp${n}`,
      isDeactivated: false,
      jwksUrl: `https://idp${n}.example/jwks`,
      issuer: `https://idp${n}.example`,
      audience: '',
    });
    await store.createIdentityProvider(config(0));
    await rejects(
      store.createIdentityProvider(config(0)),
      IdentityProviderConfigErrors.IDP_CONFIG_ALREADY_EXISTS,
    );
    await rejects(
      store.createIdentityProvider({ ...config(1), issuer: config(0).issuer }),
      IdentityProviderConfigErrors.IDP_CONFIG_ISSUER_ALREADY_EXISTS,
    );
    for (let n = 1; n < 10; n++) await store.createIdentityProvider(config(n));
    await rejects(
      store.createIdentityProvider(config(10)),
      IdentityProviderConfigErrors.TOO_MANY_IDENTITY_PROVIDER_CONFIGS,
    );
    expect(await store.identityProviderExists('idp3')).toBe(true);
    expect(await store.identityProviderExists('')).toBe(true);
    expect(await store.identityProviderExists('idp10')).toBe(false);

    expect(await store.activeIdentityProviderByIssuer('https://idp2.example')).toEqual(config(2));
    const off = await store.updateIdentityProvider({
      identityProviderId: 'idp2',
      isDeactivated: true,
      audience: 'aud',
    });
    expect(off).toEqual({ ...config(2), isDeactivated: true, audience: 'aud' });
    expect(await store.activeIdentityProviderByIssuer('https://idp2.example')).toBeUndefined();
    await rejects(
      store.updateIdentityProvider({ identityProviderId: 'idp2', issuer: config(3).issuer }),
      IdentityProviderConfigErrors.IDP_CONFIG_ISSUER_ALREADY_EXISTS,
    );
    await store.deleteIdentityProvider('idp2');
    await rejects(store.getIdentityProvider('idp2'), IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND);
    await rejects(store.deleteIdentityProvider('idp2'), IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND);
    await rejects(
      store.updateIdentityProvider({ identityProviderId: 'idp2' }),
      IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND,
    );
    expect((await store.listIdentityProviders()).length).toBe(9);
  });
});
