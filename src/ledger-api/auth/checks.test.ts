import { describe, expect, it } from 'vitest';
import { CommonErrors, isWeftError, type WeftError } from '../../errors/index.js';
import {
  type Claims,
  effectiveUserId,
  LedgerApiAuthErrors,
  matchIdentityProviderId,
  requireActAs,
  requireAdmin,
  requireAdminOrIdpAdmin,
  requireAdminOrOperateAs,
  requireAdminOrSelf,
  requireAuthenticated,
  requireExecuteAs,
  requireExecuteAsAnyParty,
  requireIdpAdmin,
  requireReadAs,
  requireReadAsAnyParty,
  userForUserManagement,
  WILDCARD_CLAIMS,
} from './index.js';

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

function thrown(f: () => unknown): WeftError {
  try {
    f();
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a WeftError');
}

const alice = 'alice::1220aa';
const bob = 'bob::1220bb';

describe('authorization checks', () => {
  it('refuses a caller without a user unless authorization is off', () => {
    const nobody: Claims = { ...user('x'), userId: undefined };
    expect(thrown(() => requireAuthenticated(nobody)).code).toBe(CommonErrors.UNAUTHENTICATED.code);
    expect(thrown(() => requireReadAs(nobody, [])).code).toBe(CommonErrors.UNAUTHENTICATED.code);
    requireAuthenticated(user('u'));
    requireAuthenticated(WILDCARD_CLAIMS);
  });

  it('lets the wildcard do everything', () => {
    requireAdmin(WILDCARD_CLAIMS);
    requireIdpAdmin(WILDCARD_CLAIMS, 'idp-1');
    requireActAs(WILDCARD_CLAIMS, [alice], [bob]);
    requireReadAs(WILDCARD_CLAIMS, [alice]);
    requireReadAsAnyParty(WILDCARD_CLAIMS);
    requireExecuteAs(WILDCARD_CLAIMS, [alice]);
    requireExecuteAsAnyParty(WILDCARD_CLAIMS);
    requireAdminOrOperateAs(WILDCARD_CLAIMS, []);
    requireAdminOrSelf(WILDCARD_CLAIMS, 'someone');
  });

  it('names the missing right in PERMISSION_DENIED', () => {
    const e = thrown(() => requireAdmin(user('u', { identityProviderAdmin: true })));
    expect(e.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(e.message).toMatch(/administrative services \(requires ParticipantAdmin\)/);
    expect(e.context.right).toBe('ParticipantAdmin');
    const act = thrown(() => requireActAs(user('u', { readAs: new Set([alice]) }), [alice], []));
    expect(act.message).toContain(`act as party '${alice}'`);
    expect(act.context).toMatchObject({ right: `CanActAs ${alice}`, party: alice });
  });

  it('does not give a participant admin rights on parties', () => {
    const admin = user('admin', { participantAdmin: true });
    requireAdmin(admin);
    expect(thrown(() => requireReadAs(admin, [alice])).context.right).toBe(`CanReadAs ${alice}`);
    expect(thrown(() => requireActAs(admin, [alice], [])).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(thrown(() => requireReadAsAnyParty(admin)).context.right).toBe('CanReadAsAnyParty');
  });

  it('checks act-as and read-as parties of a submission', () => {
    const u = user('u', { actAs: new Set([alice]), readAs: new Set([bob]) });
    requireActAs(u, [alice], [bob]);
    requireActAs(u, [alice], [alice]); // acting implies reading
    expect(thrown(() => requireActAs(u, [bob], [])).context.party).toBe(bob);
    expect(thrown(() => requireActAs(u, [alice], ['carol::1220cc'])).context.right).toBe(
      'CanReadAs carol::1220cc',
    );
  });

  it('checks reading: per party, or any party', () => {
    requireReadAs(user('u', { readAs: new Set([alice]) }), [alice]);
    requireReadAs(user('u', { actAs: new Set([alice]) }), [alice]);
    requireReadAs(user('u', { readAsAnyParty: true }), [alice, bob]);
    expect(
      thrown(() => requireReadAs(user('u', { readAs: new Set([alice]) }), [alice, bob])).context.party,
    ).toBe(bob);
    requireReadAsAnyParty(user('u', { readAsAnyParty: true }));
  });

  it('checks executing: per party, acting implies it, or any party', () => {
    requireExecuteAs(user('u', { executeAs: new Set([alice]) }), [alice]);
    requireExecuteAs(user('u', { actAs: new Set([alice]) }), [alice]);
    requireExecuteAs(user('u', { executeAsAnyParty: true }), [bob]);
    expect(
      thrown(() => requireExecuteAs(user('u', { readAs: new Set([alice]) }), [alice])).context.right,
    ).toBe(`CanExecuteAs ${alice}`);
    expect(thrown(() => requireExecuteAsAnyParty(user('u', { readAsAnyParty: true }))).context.right).toBe(
      'CanExecuteAsAnyParty',
    );
  });

  it('lets an identity provider admin manage only its own identity provider', () => {
    const idpAdmin = user('u', { identityProviderAdmin: true, identityProviderId: 'idp-1' });
    expect(requireIdpAdmin(idpAdmin, '')).toBe('idp-1');
    expect(requireIdpAdmin(idpAdmin, 'idp-1')).toBe('idp-1');
    expect(thrown(() => requireIdpAdmin(idpAdmin, 'idp-2')).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(thrown(() => requireIdpAdmin(user('u'), '')).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    // A participant admin's empty id means the default identity provider.
    expect(requireIdpAdmin(user('a', { participantAdmin: true }), '')).toBe('');
    expect(requireIdpAdmin(user('a', { participantAdmin: true }), 'idp-2')).toBe('idp-2');
    // A default-provider token is not tied to a provider (Canton).
    expect(matchIdentityProviderId(user('a', { identityProviderAdmin: true }), 'idp-2')).toBe('idp-2');
    requireAdminOrIdpAdmin(idpAdmin);
  });

  it('lets a party operator or an admin look at a party', () => {
    requireAdminOrOperateAs(user('u', { executeAs: new Set([alice]) }), [alice]);
    requireAdminOrOperateAs(user('u', { identityProviderAdmin: true }), [bob]);
    expect(
      thrown(() => requireAdminOrOperateAs(user('u', { readAs: new Set([alice]) }), [bob])).context.party,
    ).toBe(bob);
    expect(thrown(() => requireAdminOrOperateAs(user('u', { readAsAnyParty: true }), [])).code).toBe(
      CommonErrors.PERMISSION_DENIED.code,
    );
  });

  it('lets a user act on itself without admin rights', () => {
    requireAdminOrSelf(user('u'), 'u');
    expect(thrown(() => requireAdminOrSelf(user('u'), 'v')).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    requireAdminOrSelf(user('a', { participantAdmin: true }), 'v');
  });

  it("defaults a command's user id to the token's user and refuses another", () => {
    expect(effectiveUserId(user('u'), '')).toBe('u');
    expect(effectiveUserId(user('u'), 'u')).toBe('u');
    const other = thrown(() => effectiveUserId(user('u'), 'v'));
    expect(other.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(other.message).toContain("only valid for userId 'u', actual userId is 'v'");
    // Even an admin may not submit for another user.
    expect(thrown(() => effectiveUserId(user('u', { participantAdmin: true }), 'v')).code).toBe(
      CommonErrors.PERMISSION_DENIED.code,
    );
    // A reader of any party may follow another user's completions.
    const reader = user('u', { readAsAnyParty: true });
    expect(effectiveUserId(reader, 'v', { anyPartyReaderMayNameOthers: true })).toBe('v');
    expect(thrown(() => effectiveUserId(reader, 'v')).code).toBe(CommonErrors.PERMISSION_DENIED.code);
  });

  it('needs the user id in the request when authorization is off', () => {
    expect(effectiveUserId(WILDCARD_CLAIMS, 'app')).toBe('app');
    const missing = thrown(() => effectiveUserId(WILDCARD_CLAIMS, ''));
    expect(missing.code).toBe(LedgerApiAuthErrors.INVALID_TOKEN.code);
    expect(missing.grpcStatus).toBe(3);
    expect(missing.message).toMatch(/missing a user-id/);
  });

  it('lets a user read itself and an admin read anyone in user management', () => {
    expect(userForUserManagement(user('u'), '')).toBe('u');
    expect(userForUserManagement(user('u'), 'u')).toBe('u');
    expect(thrown(() => userForUserManagement(user('u'), 'v')).code).toBe(
      CommonErrors.PERMISSION_DENIED.code,
    );
    expect(userForUserManagement(user('a', { identityProviderAdmin: true }), 'v')).toBe('v');
    expect(userForUserManagement(WILDCARD_CLAIMS, 'v')).toBe('v');
    expect(thrown(() => userForUserManagement(WILDCARD_CLAIMS, '')).code).toBe(
      LedgerApiAuthErrors.INVALID_TOKEN.code,
    );
  });
});
