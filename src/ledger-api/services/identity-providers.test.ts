import { beforeEach, describe, expect, it } from 'vitest';
import { isWeftError, type WeftError } from '../../errors/index.js';
import { createLogger } from '../../observability/index.js';
import { openStorage } from '../../storage/index.js';
import { type Claims, WILDCARD_CLAIMS } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { IdentityProviderConfigErrors, UserStore } from '../users/index.js';
import { RequestValidationErrors } from '../validation/index.js';
import { identityProviderConfigService } from './identity-providers.js';

const logger = createLogger({ level: 'silent' });

async function failure(p: Promise<unknown>): Promise<WeftError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWeftError(e)) throw new Error(`expected a WeftError, got ${String(e)}`);
  return e;
}

const config = {
  identityProviderId: 'idp1',
  isDeactivated: false,
  issuer: 'https://idp1.example',
  jwksUrl: 'https://idp1.example/jwks',
  audience: '',
};

describe('identity provider config service', () => {
  let service: ServiceImpl;
  const call = (method: string, req: object, claims: Claims = WILDCARD_CLAIMS) =>
    (service.handlers[method]! as (r: object, c: CallContext) => Promise<object>)(req, {
      claims,
      signal: new AbortController().signal,
      correlationId: 'c',
      traceparent: undefined,
      logger,
    });

  beforeEach(async () => {
    const store = await UserStore.open(await openStorage({ kind: 'sqlite', path: ':memory:' }));
    service = identityProviderConfigService({ users: store });
  });

  it('serves every method of the proto service', () => {
    expect(Object.keys(service.handlers).sort()).toEqual(service.type.methods.map((m) => m.name).sort());
  });

  it('creates, reads, lists, updates and deletes configs', async () => {
    expect(await call('CreateIdentityProviderConfig', { identityProviderConfig: config })).toEqual({
      identityProviderConfig: config,
    });
    expect(await call('GetIdentityProviderConfig', { identityProviderId: 'idp1' })).toEqual({
      identityProviderConfig: config,
    });
    // Only the masked fields change; an empty issuer keeps the stored one.
    const updated = await call('UpdateIdentityProviderConfig', {
      identityProviderConfig: { ...config, issuer: '', audience: 'aud', isDeactivated: true },
      updateMask: { paths: ['issuer', 'audience'] },
    });
    expect(updated).toEqual({ identityProviderConfig: { ...config, audience: 'aud' } });
    expect(await call('ListIdentityProviderConfigs', {})).toEqual({
      identityProviderConfigs: [{ ...config, audience: 'aud' }],
    });
    await call('DeleteIdentityProviderConfig', { identityProviderId: 'idp1' });
    expect((await failure(call('GetIdentityProviderConfig', { identityProviderId: 'idp1' }))).code).toBe(
      IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND.code,
    );
  });

  it('validates requests', async () => {
    const cases: [string, object, string, RegExp][] = [
      [
        'CreateIdentityProviderConfig',
        {},
        RequestValidationErrors.MISSING_FIELD.code,
        /identity_provider_config/,
      ],
      [
        'CreateIdentityProviderConfig',
        { identityProviderConfig: { ...config, identityProviderId: '' } },
        RequestValidationErrors.MISSING_FIELD.code,
        /identity_provider_id/,
      ],
      [
        'CreateIdentityProviderConfig',
        { identityProviderConfig: { ...config, identityProviderId: 'no!' } },
        RequestValidationErrors.INVALID_FIELD.code,
        /not a valid identity provider id/,
      ],
      [
        'CreateIdentityProviderConfig',
        { identityProviderConfig: { ...config, jwksUrl: 'ftp://x' } },
        RequestValidationErrors.INVALID_FIELD.code,
        /jwks_url/,
      ],
      [
        'CreateIdentityProviderConfig',
        { identityProviderConfig: { ...config, issuer: '' } },
        RequestValidationErrors.MISSING_FIELD.code,
        /issuer/,
      ],
      [
        'UpdateIdentityProviderConfig',
        { identityProviderConfig: config, updateMask: { paths: ['rights'] } },
        IdentityProviderConfigErrors.INVALID_IDENTITY_PROVIDER_UPDATE_REQUEST.code,
        /unknown field/,
      ],
      [
        'UpdateIdentityProviderConfig',
        { identityProviderConfig: config },
        RequestValidationErrors.MISSING_FIELD.code,
        /update_mask/,
      ],
    ];
    for (const [method, req, code, message] of cases) {
      const e = await failure(call(method, req));
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
    }
  });

  it('is for participant admins only', async () => {
    const idpAdmin: Claims = { ...WILDCARD_CLAIMS, wildcard: false, userId: 'boss', participantAdmin: false };
    for (const method of Object.keys(service.handlers)) {
      const e = await failure(
        call(method, { identityProviderConfig: config, identityProviderId: 'idp1' }, idpAdmin),
      );
      expect(e.context.right).toBe('ParticipantAdmin');
    }
  });
});
