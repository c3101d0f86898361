import { BinaryReader, BinaryWriter, WireType } from '@protobuf-ts/runtime';
import { CommonErrors, WeftError } from '../../errors/index.js';
import {
  type CreateUserRequest,
  type CreateUserResponse,
  type DeleteUserRequest,
  type DeleteUserResponse,
  type GetUserRequest,
  type GetUserResponse,
  type GrantUserRightsRequest,
  type GrantUserRightsResponse,
  type ListUserRightsRequest,
  type ListUserRightsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type RevokeUserRightsRequest,
  type RevokeUserRightsResponse,
  type Right,
  type UpdateUserIdentityProviderIdRequest,
  type UpdateUserIdentityProviderIdResponse,
  type UpdateUserRequest,
  type UpdateUserResponse,
  UserManagementService,
  type User as UserProto,
} from '../../generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import {
  matchIdentityProviderId,
  requireAdmin,
  requireAdminOrIdpAdmin,
  requireIdpAdmin,
  userForUserManagement,
} from '../auth/index.js';
import type { CallContext, ServiceImpl, UnaryHandler } from '../service.js';
import {
  isUserId,
  MAX_USERS_PAGE_SIZE,
  optionalIdentityProviderId,
  requireUserId,
  UpdateMask,
  type User,
  UserManagementErrors,
  type UserRight,
  type UserStore,
  validateAnnotations,
} from '../users/index.js';
import { invalidField, missingField } from '../validation/index.js';

/** What the user management service needs. */
export interface UserServiceDeps {
  readonly users: Pick<
    UserStore,
    | 'getUser'
    | 'createUser'
    | 'updateUser'
    | 'deleteUser'
    | 'grantRights'
    | 'revokeRights'
    | 'listRights'
    | 'listUsers'
    | 'updateUserIdp'
    | 'identityProviderExists'
  >;
  /**
   * Of `parties`, those this participant knows (`identityProviderId` undefined: the caller is a participant admin)
   * or that have a party record in that identity provider (the caller is an identity provider admin).
   */
  knownParties(
    parties: readonly string[],
    identityProviderId: string | undefined,
  ): Promise<ReadonlySet<string>>;
}

/** Fields of `User` an update mask may name (Canton's update paths). */
const USER_FIELDS = [
  'id',
  'primary_party',
  'is_deactivated',
  'metadata.annotations',
  'metadata.resource_version',
  'identity_provider_id',
];

const PARTY = /^[a-zA-Z0-9:\-_ ]{1,255}$/;

/** A party of a right or a primary party (Canton answers INVALID_ARGUMENT here, not INVALID_FIELD). */
function party(s: string): string {
  if (!PARTY.test(s)) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `'${s.slice(0, 255)}' is not a valid party: at most 255 characters of ASCII letters, digits and ':-_ '`,
    );
  }
  return s;
}

function fromProtoRight(r: Right): UserRight {
  const k = r.kind;
  switch (k.oneofKind) {
    case 'participantAdmin':
      return { kind: 'ParticipantAdmin' };
    case 'identityProviderAdmin':
      return { kind: 'IdentityProviderAdmin' };
    case 'canReadAsAnyParty':
      return { kind: 'CanReadAsAnyParty' };
    case 'canExecuteAsAnyParty':
      return { kind: 'CanExecuteAsAnyParty' };
    case 'canActAs':
      return { kind: 'CanActAs', party: party(k.canActAs.party) };
    case 'canReadAs':
      return { kind: 'CanReadAs', party: party(k.canReadAs.party) };
    case 'canExecuteAs':
      return { kind: 'CanExecuteAs', party: party(k.canExecuteAs.party) };
    default:
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        'unknown kind of right - check that the Ledger API version of the server is recent enough',
      );
  }
}

function toProtoRight(r: UserRight): Right {
  switch (r.kind) {
    case 'ParticipantAdmin':
      return { kind: { oneofKind: 'participantAdmin', participantAdmin: {} } };
    case 'IdentityProviderAdmin':
      return { kind: { oneofKind: 'identityProviderAdmin', identityProviderAdmin: {} } };
    case 'CanReadAsAnyParty':
      return { kind: { oneofKind: 'canReadAsAnyParty', canReadAsAnyParty: {} } };
    case 'CanExecuteAsAnyParty':
      return { kind: { oneofKind: 'canExecuteAsAnyParty', canExecuteAsAnyParty: {} } };
    case 'CanActAs':
      return { kind: { oneofKind: 'canActAs', canActAs: { party: r.party } } };
    case 'CanReadAs':
      return { kind: { oneofKind: 'canReadAs', canReadAs: { party: r.party } } };
    case 'CanExecuteAs':
      return { kind: { oneofKind: 'canExecuteAs', canExecuteAs: { party: r.party } } };
  }
}

function toProtoUser(u: User): UserProto {
  return {
    id: u.id,
    primaryParty: u.primaryParty,
    isDeactivated: u.isDeactivated,
    metadata: { resourceVersion: u.resourceVersion.toString(), annotations: { ...u.annotations } },
    identityProviderId: u.identityProviderId,
  };
}

const grantsParticipantAdmin = (rights: readonly Right[]) =>
  rights.some((r) => r.kind.oneofKind === 'participantAdmin');

/** Canton's page token: the base64url of a protobuf message whose field 1 is the last user id of the page. */
export function encodePageToken(lastUserId: string): string {
  const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).string(lastUserId).finish();
  return Buffer.from(bytes).toString('base64url');
}

export function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  let id: string | undefined;
  try {
    const reader = new BinaryReader(Buffer.from(token, 'base64url'));
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) id = reader.string();
    if (reader.pos !== reader.len) id = undefined;
  } catch {
    id = undefined;
  }
  if (id === undefined || !isUserId(id))
    throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'Invalid page token');
  return id;
}

/**
 * Canton's admin.UserManagementService over the participant's user store, with Canton's authorization: a
 * participant admin manages every user; an identity provider admin the users of its provider, without granting
 * ParticipantAdmin; any user may read itself.
 */
export function userManagementService(deps: UserServiceDeps): ServiceImpl {
  const { users } = deps;

  const idpMustExist = async (idp: string) => {
    if (!(await users.identityProviderExists(idp))) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `Provided identity_provider_id ${idp} has not been found.`,
      );
    }
  };

  /** Rights may only name parties the caller could see: all known ones for an admin, its provider's otherwise. */
  const partiesMustExist = async (ctx: CallContext, rights: readonly UserRight[], idp: string) => {
    const parties = [
      ...new Set(rights.flatMap((r) => (r.kind === 'CanActAs' || r.kind === 'CanReadAs' ? [r.party] : []))),
    ];
    if (parties.length === 0) return;
    const admin = ctx.claims.wildcard || ctx.claims.participantAdmin;
    const known = await deps.knownParties(parties, admin ? undefined : idp);
    const unknown = parties.filter((p) => !known.has(p));
    if (unknown.length > 0) {
      throw new WeftError(
        UserManagementErrors.UNKNOWN_RESOURCE,
        `The submitted request refers to a non-existing party: Provided parties have not been found in identity_provider_id=\`${idp}\`: [${unknown.join(',')}].`,
        { parties: unknown.join(',') },
      );
    }
  };

  const createUser: UnaryHandler<CreateUserRequest, CreateUserResponse> = async (req, ctx) => {
    if (grantsParticipantAdmin(req.rights)) requireAdmin(ctx.claims);
    const idp = requireIdpAdmin(ctx.claims, req.user?.identityProviderId ?? '');
    const u = req.user;
    if (u === undefined) throw missingField('user');
    const id = requireUserId(u.id, 'id');
    if ((u.metadata?.resourceVersion ?? '') !== '') {
      throw invalidField('user.metadata.resource_version', 'must be empty');
    }
    const annotations = validateAnnotations(
      u.metadata?.annotations ?? {},
      false,
      'user.metadata.annotations',
    );
    const primaryParty = u.primaryParty === '' ? '' : party(u.primaryParty);
    const rights = req.rights.map(fromProtoRight);
    optionalIdentityProviderId(idp, 'identity_provider_id');
    await idpMustExist(idp);
    await partiesMustExist(ctx, rights, idp);
    const created = await users.createUser(
      { id, primaryParty, isDeactivated: u.isDeactivated, annotations, identityProviderId: idp },
      rights,
    );
    return { user: toProtoUser(created) };
  };

  const getUser: UnaryHandler<GetUserRequest, GetUserResponse> = async (req, ctx) => {
    const userId = userForUserManagement(ctx.claims, req.userId);
    const idp = matchIdentityProviderId(ctx.claims, req.identityProviderId);
    requireUserId(userId, 'user_id');
    optionalIdentityProviderId(idp, 'identity_provider_id');
    return { user: toProtoUser(await users.getUser(userId, idp)) };
  };

  const updateUser: UnaryHandler<UpdateUserRequest, UpdateUserResponse> = async (req, ctx) => {
    const u = req.user;
    if (u === undefined) {
      // Canton asks for an admin before it finds the user missing.
      requireAdminOrIdpAdmin(ctx.claims);
      throw missingField('user');
    }
    const idp = requireIdpAdmin(ctx.claims, u.identityProviderId);
    const id = requireUserId(u.id, 'user.id');
    if (req.updateMask === undefined) {
      throw missingField('update_mask');
    }
    const primaryParty = u.primaryParty === '' ? '' : party(u.primaryParty);
    optionalIdentityProviderId(idp, 'identity_provider_id');
    const rawVersion = u.metadata?.resourceVersion ?? '';
    if (rawVersion !== '' && !/^-?\d{1,19}$/.test(rawVersion)) {
      throw invalidField('user.metadata.resource_version', 'Invalid resource version number');
    }
    const annotations = validateAnnotations(u.metadata?.annotations ?? {}, true, 'user.metadata.annotations');
    const mask = UpdateMask.parse(req.updateMask.paths, USER_FIELDS);
    if (typeof mask === 'string') {
      throw new WeftError(
        UserManagementErrors.INVALID_USER_UPDATE_REQUEST,
        `Update operation for user id '${id}' failed due to an invalid update request: ${mask}`,
        { userId: id },
      );
    }
    const isDeactivated = mask.value('is_deactivated', u.isDeactivated, !u.isDeactivated);
    await idpMustExist(idp);
    if (ctx.claims.userId === id && isDeactivated === true) {
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'Requesting user cannot self-deactivate');
    }
    const updated = await users.updateUser({
      id,
      identityProviderId: idp,
      primaryParty: mask.value('primary_party', primaryParty, primaryParty === ''),
      isDeactivated,
      annotations: mask.value('metadata.annotations', annotations, Object.keys(annotations).length === 0),
      resourceVersion: rawVersion === '' ? undefined : BigInt(rawVersion),
    });
    return { user: toProtoUser(updated) };
  };

  const deleteUser: UnaryHandler<DeleteUserRequest, DeleteUserResponse> = async (req, ctx) => {
    const idp = requireIdpAdmin(ctx.claims, req.identityProviderId);
    const id = requireUserId(req.userId, 'user_id');
    optionalIdentityProviderId(idp, 'identity_provider_id');
    await users.deleteUser(id, idp);
    return {};
  };

  const listUsers: UnaryHandler<ListUsersRequest, ListUsersResponse> = async (req, ctx) => {
    const idp = requireIdpAdmin(ctx.claims, req.identityProviderId);
    const after = decodePageToken(req.pageToken);
    if (req.pageSize < 0)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'Max page size must be non-negative');
    optionalIdentityProviderId(idp, 'identity_provider_id');
    const pageSize = req.pageSize === 0 ? MAX_USERS_PAGE_SIZE : Math.min(req.pageSize, MAX_USERS_PAGE_SIZE);
    const page = await users.listUsers(after, pageSize, idp);
    const last = page.at(-1);
    return {
      users: page.map(toProtoUser),
      nextPageToken: page.length < pageSize || last === undefined ? '' : encodePageToken(last.id),
    };
  };

  const grantUserRights: UnaryHandler<GrantUserRightsRequest, GrantUserRightsResponse> = async (req, ctx) => {
    if (grantsParticipantAdmin(req.rights)) requireAdmin(ctx.claims);
    const idp = requireIdpAdmin(ctx.claims, req.identityProviderId);
    const id = requireUserId(req.userId, 'user_id');
    const rights = req.rights.map(fromProtoRight);
    optionalIdentityProviderId(idp, 'identity_provider_id');
    await partiesMustExist(ctx, rights, idp);
    return { newlyGrantedRights: (await users.grantRights(id, rights, idp)).map(toProtoRight) };
  };

  const revokeUserRights: UnaryHandler<RevokeUserRightsRequest, RevokeUserRightsResponse> = async (
    req,
    ctx,
  ) => {
    if (grantsParticipantAdmin(req.rights)) requireAdmin(ctx.claims);
    const idp = requireIdpAdmin(ctx.claims, req.identityProviderId);
    const id = requireUserId(req.userId, 'user_id');
    const rights = req.rights.map(fromProtoRight);
    optionalIdentityProviderId(idp, 'identity_provider_id');
    await partiesMustExist(ctx, rights, idp);
    return { newlyRevokedRights: (await users.revokeRights(id, rights, idp)).map(toProtoRight) };
  };

  const listUserRights: UnaryHandler<ListUserRightsRequest, ListUserRightsResponse> = async (req, ctx) => {
    const userId = userForUserManagement(ctx.claims, req.userId);
    const idp = matchIdentityProviderId(ctx.claims, req.identityProviderId);
    requireUserId(userId, 'user_id');
    optionalIdentityProviderId(idp, 'identity_provider_id');
    return { rights: (await users.listRights(userId, idp)).map(toProtoRight) };
  };

  const updateUserIdentityProviderId: UnaryHandler<
    UpdateUserIdentityProviderIdRequest,
    UpdateUserIdentityProviderIdResponse
  > = async (req, ctx) => {
    requireAdmin(ctx.claims);
    const id = requireUserId(req.userId, 'user_id');
    const source = optionalIdentityProviderId(req.sourceIdentityProviderId, 'source_identity_provider_id');
    const target = optionalIdentityProviderId(req.targetIdentityProviderId, 'target_identity_provider_id');
    await idpMustExist(source);
    await idpMustExist(target);
    await users.updateUserIdp(id, source, target);
    return {};
  };

  return {
    type: UserManagementService,
    handlers: {
      CreateUser: createUser,
      GetUser: getUser,
      UpdateUser: updateUser,
      DeleteUser: deleteUser,
      ListUsers: listUsers,
      GrantUserRights: grantUserRights,
      RevokeUserRights: revokeUserRights,
      ListUserRights: listUserRights,
      UpdateUserIdentityProviderId: updateUserIdentityProviderId,
    },
  };
}
