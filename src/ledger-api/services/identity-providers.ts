import { WeftError } from '../../errors/index.js';
import {
  type CreateIdentityProviderConfigRequest,
  type CreateIdentityProviderConfigResponse,
  type DeleteIdentityProviderConfigRequest,
  type DeleteIdentityProviderConfigResponse,
  type GetIdentityProviderConfigRequest,
  type GetIdentityProviderConfigResponse,
  type IdentityProviderConfig as IdentityProviderConfigProto,
  IdentityProviderConfigService,
  type ListIdentityProviderConfigsRequest,
  type ListIdentityProviderConfigsResponse,
  type UpdateIdentityProviderConfigRequest,
  type UpdateIdentityProviderConfigResponse,
} from '../../generated/com/daml/ledger/api/v2/admin/identity_provider_config_service.js';
import { requireAdmin } from '../auth/index.js';
import type { ServiceImpl, UnaryHandler } from '../service.js';
import {
  type IdentityProviderConfig,
  IdentityProviderConfigErrors,
  requireIdentityProviderId,
  UpdateMask,
  type UserStore,
} from '../users/index.js';
import { invalidField, missingField } from '../validation/index.js';

/** What the identity provider config service needs. */
export interface IdentityProviderServiceDeps {
  readonly users: Pick<
    UserStore,
    | 'createIdentityProvider'
    | 'getIdentityProvider'
    | 'updateIdentityProvider'
    | 'listIdentityProviders'
    | 'deleteIdentityProvider'
  >;
}

const IDP_FIELDS = ['identity_provider_id', 'is_deactivated', 'jwks_url', 'issuer', 'audience'];

function toProto(c: IdentityProviderConfig): IdentityProviderConfigProto {
  return { ...c };
}

function required(s: string, field: string): string {
  if (s === '') throw missingField(field);
  return s;
}

/** A JWKS URL: an absolute http(s) URL. */
function jwksUrl(s: string): string {
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw invalidField('jwks_url', `'${s.slice(0, 255)}' is not a valid http(s) URL`);
  }
  return s;
}

/**
 * Canton's admin.IdentityProviderConfigService over the participant's store. Only participant admins manage
 * identity providers.
 */
export function identityProviderConfigService(deps: IdentityProviderServiceDeps): ServiceImpl {
  const { users } = deps;

  const create: UnaryHandler<
    CreateIdentityProviderConfigRequest,
    CreateIdentityProviderConfigResponse
  > = async (req, ctx) => {
    requireAdmin(ctx.claims);
    const c = req.identityProviderConfig;
    if (c === undefined) throw missingField('identity_provider_config');
    const config: IdentityProviderConfig = {
      identityProviderId: requireIdentityProviderId(c.identityProviderId, 'identity_provider_id'),
      jwksUrl: jwksUrl(required(c.jwksUrl, 'jwks_url')),
      issuer: required(c.issuer, 'issuer'),
      isDeactivated: c.isDeactivated,
      audience: c.audience,
    };
    return { identityProviderConfig: toProto(await users.createIdentityProvider(config)) };
  };

  const get: UnaryHandler<GetIdentityProviderConfigRequest, GetIdentityProviderConfigResponse> = async (
    req,
    ctx,
  ) => {
    requireAdmin(ctx.claims);
    const id = requireIdentityProviderId(req.identityProviderId, 'identity_provider_id');
    return { identityProviderConfig: toProto(await users.getIdentityProvider(id)) };
  };

  const update: UnaryHandler<
    UpdateIdentityProviderConfigRequest,
    UpdateIdentityProviderConfigResponse
  > = async (req, ctx) => {
    requireAdmin(ctx.claims);
    const c = req.identityProviderConfig;
    if (c === undefined) throw missingField('identity_provider_config');
    const id = requireIdentityProviderId(c.identityProviderId, 'identity_provider_id');
    const url = c.jwksUrl === '' ? undefined : jwksUrl(c.jwksUrl);
    if (req.updateMask === undefined) throw missingField('update_mask');
    const mask = UpdateMask.parse(req.updateMask.paths, IDP_FIELDS);
    if (typeof mask === 'string') {
      throw new WeftError(
        IdentityProviderConfigErrors.INVALID_IDENTITY_PROVIDER_UPDATE_REQUEST,
        `Update operation for identity provider config '${id}' failed due to an invalid update request: ${mask}`,
        { identityProviderId: id },
      );
    }
    // As Canton: named fields are set, except that an empty issuer or JWKS URL leaves the stored one.
    const exact = (field: string) => mask.match(field) === 'exact';
    const updated = await users.updateIdentityProvider({
      identityProviderId: id,
      isDeactivated: exact('is_deactivated') ? c.isDeactivated : undefined,
      jwksUrl: exact('jwks_url') ? url : undefined,
      issuer: exact('issuer') && c.issuer !== '' ? c.issuer : undefined,
      audience: exact('audience') ? c.audience : undefined,
    });
    return { identityProviderConfig: toProto(updated) };
  };

  const list: UnaryHandler<ListIdentityProviderConfigsRequest, ListIdentityProviderConfigsResponse> = async (
    _req,
    ctx,
  ) => {
    requireAdmin(ctx.claims);
    return { identityProviderConfigs: (await users.listIdentityProviders()).map(toProto) };
  };

  const remove: UnaryHandler<
    DeleteIdentityProviderConfigRequest,
    DeleteIdentityProviderConfigResponse
  > = async (req, ctx) => {
    requireAdmin(ctx.claims);
    await users.deleteIdentityProvider(
      requireIdentityProviderId(req.identityProviderId, 'identity_provider_id'),
    );
    return {};
  };

  return {
    type: IdentityProviderConfigService,
    handlers: {
      CreateIdentityProviderConfig: create,
      GetIdentityProviderConfig: get,
      UpdateIdentityProviderConfig: update,
      ListIdentityProviderConfigs: list,
      DeleteIdentityProviderConfig: remove,
    },
  };
}
