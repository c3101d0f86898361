import { beforeEach, describe, expect, it } from 'vitest';
import { CommonErrors, isWeftError, type WeftError } from '../../errors/index.js';
import type { Right } from '../../generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import { createLogger } from '../../observability/index.js';
import { openStorage } from '../../storage/index.js';
import { type Claims, LedgerApiAuthErrors, WILDCARD_CLAIMS } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { PARTICIPANT_ADMIN_USER_ID, UserManagementErrors, UserStore } from '../users/index.js';
import { RequestValidationErrors } from '../validation/index.js';
import { decodePageToken, encodePageToken, userManagementService } from './users.js';

const alice = 'alice::1220aa';
const bob = 'bob::1220bb';
const logger = createLogger({ level: 'silent' });

function ctx(claims: Claims): CallContext {
  return { claims, signal: new AbortController().signal, correlationId: 'c', traceparent: undefined, logger };
}

function user(userId: string, rights: Partial<Claims> = {}): Claims {
  return {
    wildcard: false,
    userId,
    identityProviderId: '',
    participantAdmin: false,
    identityProviderAdmin: false,
    actAs: new Set(),
    readAs: new Set(),
    readAsAnyParty: false,
    executeAs: new Set(),
    executeAsAnyParty: false,
    ...rights,
  };
}

const admin = user(PARTICIPANT_ADMIN_USER_ID, { participantAdmin: true });
const actAs = (party: string): Right => ({ kind: { oneofKind: 'canActAs', canActAs: { party } } });
const participantAdmin: Right = { kind: { oneofKind: 'participantAdmin', participantAdmin: {} } };

async function failure(p: Promise<unknown>): Promise<WeftError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWeftError(e)) throw new Error(`expected a WeftError, got ${String(e)}`);
  return e;
}

describe('user management service', () => {
  let store: UserStore;
  let service: ServiceImpl;
  // The parties this participant knows, and those with a record in identity provider idp1.
  const known = new Set([alice, bob]);
  const inIdp1 = new Set([bob]);
  const call = (method: string, req: object, claims: Claims = admin) =>
    (service.handlers[method]! as (r: object, c: CallContext) => Promise<object>)(req, ctx(claims));

  beforeEach(async () => {
    store = await UserStore.open(await openStorage({ kind: 'sqlite', path: ':memory:' }));
    await store.createIdentityProvider({
      identityProviderId: 'idp1',
      isDeactivated: false,
      jwksUrl: 'https://idp1.example/jwks',
      issuer: 'https://idp1.example',
      audience: '',
    });
    service = userManagementService({
      users: store,
      knownParties: async (parties, idp) =>
        new Set(
          parties.filter((p) => (idp === undefined ? known : idp === 'idp1' ? inIdp1 : new Set()).has(p)),
        ),
    });
  });

  it('serves every method of the proto service', () => {
    expect(Object.keys(service.handlers).sort()).toEqual(service.type.methods.map((m) => m.name).sort());
  });

  it('creates a user with rights and reads it back', async () => {
    const created = await call('CreateUser', {
      user: {
        id: 'app',
        primaryParty: alice,
        isDeactivated: false,
        metadata: { resourceVersion: '', annotations: { a: 'b' } },
        identityProviderId: '',
      },
      rights: [actAs(alice)],
    });
    expect(created).toEqual({
      user: {
        id: 'app',
        primaryParty: alice,
        isDeactivated: false,
        metadata: { resourceVersion: '0', annotations: { a: 'b' } },
        identityProviderId: '',
      },
    });
    expect(await call('GetUser', { userId: 'app', identityProviderId: '' })).toEqual(created);
    expect(await call('ListUserRights', { userId: 'app', identityProviderId: '' })).toEqual({
      rights: [actAs(alice)],
    });
    const dup = await failure(
      call('CreateUser', {
        user: { id: 'app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
        rights: [],
      }),
    );
    expect(dup.code).toBe(UserManagementErrors.USER_ALREADY_EXISTS.code);
    const missing = await failure(call('GetUser', { userId: 'nobody', identityProviderId: '' }));
    expect(missing.code).toBe(UserManagementErrors.USER_NOT_FOUND.code);
  });

  it('validates ids, parties, annotations and identity providers', async () => {
    const base = { primaryParty: '', isDeactivated: false, identityProviderId: '' };
    const cases: [object, string, RegExp][] = [
      [{ rights: [] }, RequestValidationErrors.MISSING_FIELD.code, /field: user/],
      [{ user: { ...base, id: '' }, rights: [] }, RequestValidationErrors.MISSING_FIELD.code, /field: id/],
      [
        { user: { ...base, id: 'white space' }, rights: [] },
        RequestValidationErrors.INVALID_FIELD.code,
        /not a valid user id/,
      ],
      [
        { user: { ...base, id: 'u', primaryParty: 'bad party!' }, rights: [] },
        CommonErrors.INVALID_ARGUMENT.code,
        /not a valid party/,
      ],
      [
        { user: { ...base, id: 'u' }, rights: [{ kind: { oneofKind: undefined } }] },
        CommonErrors.INVALID_ARGUMENT.code,
        /unknown kind of right/,
      ],
      [
        { user: { ...base, id: 'u', metadata: { resourceVersion: '3', annotations: {} } }, rights: [] },
        RequestValidationErrors.INVALID_FIELD.code,
        /resource_version/,
      ],
      [
        {
          user: { ...base, id: 'u', metadata: { resourceVersion: '', annotations: { 'bad key!': 'x' } } },
          rights: [],
        },
        CommonErrors.INVALID_ARGUMENT.code,
        /Key name segment/,
      ],
      [
        { user: { ...base, id: 'u', metadata: { resourceVersion: '', annotations: { k: '' } } }, rights: [] },
        CommonErrors.INVALID_ARGUMENT.code,
        /empty/,
      ],
      [
        { user: { ...base, id: 'u', identityProviderId: 'idp9' }, rights: [] },
        CommonErrors.INVALID_ARGUMENT.code,
        /idp9 has not been found/,
      ],
      [
        { user: { ...base, id: 'u' }, rights: [actAs('carol::1220cc')] },
        UserManagementErrors.UNKNOWN_RESOURCE.code,
        /carol::1220cc/,
      ],
    ];
    for (const [req, code, message] of cases) {
      const e = await failure(call('CreateUser', req));
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
    }
    expect((await store.listUsers(undefined, 10, '')).map((u) => u.id)).toEqual([PARTICIPANT_ADMIN_USER_ID]);
  });

  it('updates with an update mask and a resource version', async () => {
    await call('CreateUser', {
      user: { id: 'app', primaryParty: alice, isDeactivated: false, identityProviderId: '' },
      rights: [],
    });
    const update = (paths: string[], user: object) =>
      call('UpdateUser', {
        user: { id: 'app', primaryParty: '', isDeactivated: false, identityProviderId: '', ...user },
        updateMask: { paths },
      });
    // Only the masked fields change: primary_party is not in the mask.
    const r1 = (await update(['is_deactivated'], { isDeactivated: true, primaryParty: bob })) as {
      user: { primaryParty: string; isDeactivated: boolean; metadata: { resourceVersion: string } };
    };
    expect(r1.user).toMatchObject({
      primaryParty: alice,
      isDeactivated: true,
      metadata: { resourceVersion: '1' },
    });
    // An exact path sets even the default value: clears the primary party.
    const r2 = (await update(['primary_party', 'metadata'], {
      metadata: { resourceVersion: '1', annotations: { team: 'blue' } },
    })) as { user: object };
    expect(r2.user).toMatchObject({
      primaryParty: '',
      metadata: { resourceVersion: '2', annotations: { team: 'blue' } },
    });
    const stale = await failure(
      update(['primary_party'], { metadata: { resourceVersion: '1', annotations: {} } }),
    );
    expect(stale.code).toBe(UserManagementErrors.CONCURRENT_USER_UPDATE_DETECTED.code);
    for (const [paths, reason] of [
      [[], /no entries/],
      [['primary_party', 'primary_party'], /duplicated/],
      [['rights'], /unknown field/],
    ] as const) {
      const e = await failure(update([...paths], {}));
      expect([e.code, e.message]).toEqual([
        UserManagementErrors.INVALID_USER_UPDATE_REQUEST.code,
        expect.stringMatching(reason),
      ]);
    }
    const missingMask = await failure(
      call('UpdateUser', {
        user: { id: 'app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
      }),
    );
    expect([missingMask.code, missingMask.message]).toEqual([
      RequestValidationErrors.MISSING_FIELD.code,
      expect.stringMatching(/update_mask/),
    ]);
    // A user may not deactivate itself.
    const self = user('app', { participantAdmin: true });
    const e = await failure(
      call(
        'UpdateUser',
        {
          user: { id: 'app', primaryParty: '', isDeactivated: true, identityProviderId: '' },
          updateMask: { paths: ['is_deactivated'] },
        },
        self,
      ),
    );
    expect(e.message).toMatch(/self-deactivate/);
  });

  it('pages through users with Canton page tokens', async () => {
    for (const id of ['a', 'b', 'c'])
      await call('CreateUser', {
        user: { id, primaryParty: '', isDeactivated: false, identityProviderId: '' },
        rights: [],
      });
    const p1 = (await call('ListUsers', { pageToken: '', pageSize: 2, identityProviderId: '' })) as {
      users: { id: string }[];
      nextPageToken: string;
    };
    expect(p1.users.map((u) => u.id)).toEqual(['a', 'b']);
    expect(decodePageToken(p1.nextPageToken)).toBe('b');
    const p2 = (await call('ListUsers', {
      pageToken: p1.nextPageToken,
      pageSize: 2,
      identityProviderId: '',
    })) as typeof p1;
    expect(p2.users.map((u) => u.id)).toEqual(['c', PARTICIPANT_ADMIN_USER_ID]);
    const p3 = (await call('ListUsers', {
      pageToken: p2.nextPageToken,
      pageSize: 2,
      identityProviderId: '',
    })) as typeof p1;
    expect(p3).toEqual({ users: [], nextPageToken: '' });
    expect(
      (await failure(call('ListUsers', { pageToken: 'garbage!', pageSize: 0, identityProviderId: '' })))
        .message,
    ).toBe('Invalid page token');
    expect(
      (await failure(call('ListUsers', { pageToken: '', pageSize: -1, identityProviderId: '' }))).message,
    ).toMatch(/non-negative/);
    const long = 'u'.repeat(128);
    expect(decodePageToken(encodePageToken(long))).toBe(long);
  });

  it('grants and revokes, answering what changed', async () => {
    await call('CreateUser', {
      user: { id: 'app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
      rights: [actAs(alice)],
    });
    expect(
      await call('GrantUserRights', {
        userId: 'app',
        rights: [actAs(alice), actAs(bob)],
        identityProviderId: '',
      }),
    ).toEqual({
      newlyGrantedRights: [actAs(bob)],
    });
    expect(
      await call('RevokeUserRights', { userId: 'app', rights: [actAs(alice)], identityProviderId: '' }),
    ).toEqual({
      newlyRevokedRights: [actAs(alice)],
    });
    await call('DeleteUser', { userId: 'app', identityProviderId: '' });
    expect((await failure(call('ListUserRights', { userId: 'app', identityProviderId: '' }))).code).toBe(
      UserManagementErrors.USER_NOT_FOUND.code,
    );
  });

  it('authorizes as Canton: admins, identity provider admins, and users reading themselves', async () => {
    await call('CreateUser', {
      user: { id: 'app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
      rights: [actAs(alice)],
    });
    const app = user('app', { actAs: new Set([alice]) });
    // A user reads itself, with or without naming itself, but no one else and cannot change itself.
    expect(await call('GetUser', { userId: '', identityProviderId: '' }, app)).toMatchObject({
      user: { id: 'app' },
    });
    expect(await call('ListUserRights', { userId: 'app', identityProviderId: '' }, app)).toEqual({
      rights: [actAs(alice)],
    });
    for (const [method, req] of [
      ['GetUser', { userId: PARTICIPANT_ADMIN_USER_ID, identityProviderId: '' }],
      ['GrantUserRights', { userId: 'app', rights: [actAs(bob)], identityProviderId: '' }],
      ['ListUsers', { pageToken: '', pageSize: 0, identityProviderId: '' }],
    ] as const) {
      expect((await failure(call(method, req, app))).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    }
    // With authorization off, GetUser must name the user.
    expect(
      (await failure(call('GetUser', { userId: '', identityProviderId: '' }, WILDCARD_CLAIMS))).code,
    ).toBe(LedgerApiAuthErrors.INVALID_TOKEN.code);

    // An identity provider admin manages its provider's users with its provider's parties, never ParticipantAdmin.
    const idpAdmin = user('boss', { identityProviderAdmin: true, identityProviderId: 'idp1' });
    const created = await call(
      'CreateUser',
      {
        user: { id: 'idp-app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
        rights: [actAs(bob)],
      },
      idpAdmin,
    );
    expect(created).toMatchObject({ user: { identityProviderId: 'idp1' } });
    const foreignParty = await failure(
      call(
        'GrantUserRights',
        { userId: 'idp-app', rights: [actAs(alice)], identityProviderId: 'idp1' },
        idpAdmin,
      ),
    );
    expect(foreignParty.code).toBe(UserManagementErrors.UNKNOWN_RESOURCE.code);
    const makeAdmin = await failure(
      call(
        'GrantUserRights',
        { userId: 'idp-app', rights: [participantAdmin], identityProviderId: 'idp1' },
        idpAdmin,
      ),
    );
    expect(makeAdmin.context.right).toBe('ParticipantAdmin');
    expect((await failure(call('GetUser', { userId: 'app', identityProviderId: '' }, idpAdmin))).code).toBe(
      CommonErrors.PERMISSION_DENIED.code,
    );
    expect(
      (
        await failure(
          call(
            'UpdateUserIdentityProviderId',
            { userId: 'idp-app', sourceIdentityProviderId: 'idp1', targetIdentityProviderId: '' },
            idpAdmin,
          ),
        )
      ).code,
    ).toBe(CommonErrors.PERMISSION_DENIED.code);
    // The participant admin moves users between providers.
    await call('UpdateUserIdentityProviderId', {
      userId: 'idp-app',
      sourceIdentityProviderId: 'idp1',
      targetIdentityProviderId: '',
    });
    expect(await call('GetUser', { userId: 'idp-app', identityProviderId: '' })).toMatchObject({
      user: { identityProviderId: '' },
    });
  });
});
