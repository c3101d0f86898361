import type { RandomSource } from '../../crypto/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import type { ObjectMeta } from '../../generated/com/daml/ledger/api/v2/admin/object_meta.js';
import {
  type AllocatePartyRequest,
  type AllocatePartyResponse,
  type GetParticipantIdResponse,
  type GetPartiesRequest,
  type GetPartiesResponse,
  type ListKnownPartiesRequest,
  type ListKnownPartiesResponse,
  type PartyDetails,
  PartyManagementService,
  type UpdatePartyDetailsRequest,
  type UpdatePartyDetailsResponse,
  type UpdatePartyIdentityProviderIdRequest,
} from '../../generated/com/daml/ledger/api/v2/admin/party_management_service.js';
import {
  matchIdentityProviderId,
  requireAdmin,
  requireAdminOrIdpAdmin,
  requireAdminOrOperateAs,
  requireAdminOrSelf,
  requireAuthenticated,
  requireIdpAdmin,
} from '../auth/index.js';
import { PartyManagementErrors } from '../parties/errors.js';
import type { PartyRecord, PartyRecords } from '../parties/records.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { IdentityProviderConfigErrors } from '../users/errors.js';
import { UpdateMask, validateAnnotations } from '../users/model.js';
import { invalidField, missingField, requireParty } from '../validation/index.js';

/** The most ListKnownParties returns at once (VersionService advertises it), and its default. */
export const MAX_PARTIES_PAGE_SIZE = 10_000;

export interface PartyServiceDeps {
  readonly participantId: string;
  readonly records: PartyRecords;
  readonly random: RandomSource;
  /** Allocates `hint::<participant namespace>` hosted here, on the synchronizer named or the only one. */
  allocateParty(hint: string, o: { synchronizerId?: string }): Promise<string>;
  /** The parties known on the connected synchronizers, sorted, with whether this participant hosts them. */
  knownParties(): { party: string; local: boolean }[];
  /** Whether `idp` is the default identity provider ('') or a configured one. */
  identityProviderExists(idp: string): Promise<boolean>;
  /** Gives a user CanActAs `party` (AllocateParty's `user_id`); USER_NOT_FOUND when the user does not exist. */
  grantActAs(userId: string, party: string, identityProviderId: string): Promise<void>;
}

/** The update paths of PartyDetails (Canton's): only the annotations may change. */
const UPDATE_FIELDS = [
  'party',
  'is_local',
  'identity_provider_id',
  'local_metadata.annotations',
  'local_metadata.resource_version',
];

function invalidUpdate(message: string): WeftError {
  return new WeftError(PartyManagementErrors.INVALID_PARTY_DETAILS_UPDATE_REQUEST, message);
}

async function requireIdentityProvider(deps: PartyServiceDeps, idp: string): Promise<void> {
  if (!(await deps.identityProviderExists(idp))) {
    throw new WeftError(
      IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND,
      `Identity provider config with id ${idp} not found`,
      { identity_provider_id: idp },
    );
  }
}

function partyNotFound(party: string): WeftError {
  return new WeftError(PartyManagementErrors.PARTY_NOT_FOUND, `Party ${party} not found`, { party });
}

/**
 * A party as a caller of identity provider `idp` sees it (Canton's blinding): the local data of a party hosted
 * here that belongs to another identity provider stays hidden.
 */
function details(party: string, local: boolean, record: PartyRecord | undefined, idp: string): PartyDetails {
  const recordIdp = record?.identityProviderId ?? '';
  if (!local || recordIdp !== idp) {
    return {
      party,
      isLocal: false,
      localMetadata: { resourceVersion: '', annotations: {} },
      identityProviderId: '',
    };
  }
  return {
    party,
    isLocal: true,
    localMetadata: {
      resourceVersion: record?.resourceVersion ?? '',
      annotations: { ...record?.annotations },
    },
    identityProviderId: recordIdp,
  };
}

function requestAnnotations(meta: ObjectMeta | undefined, allowEmpty: boolean): Record<string, string> {
  return { ...validateAnnotations(meta?.annotations ?? {}, allowEmpty, 'local_metadata.annotations') };
}

/**
 * The Ledger API's admin PartyManagementService: the participant's id, party allocation, and the parties known on
 * its synchronizers with their participant-local data (identity provider, annotations). Authorized per method as
 * Canton's PartyManagementServiceAuthorization; external parties answer UNSUPPORTED_OPERATION until they exist.
 */
export function partyService(deps: PartyServiceDeps): ServiceImpl {
  const known = (party: string) => deps.knownParties().find((p) => p.party === party);
  const unsupported = async (): Promise<never> => {
    throw new WeftError(
      CommonErrors.UNSUPPORTED_OPERATION,
      'The request exercised an unsupported operation: external parties (signing their own transactions) are not supported yet',
    );
  };
  return {
    type: PartyManagementService,
    handlers: {
      GetParticipantId: async (_r: object, ctx: CallContext): Promise<GetParticipantIdResponse> => {
        requireAuthenticated(ctx.claims);
        return { participantId: deps.participantId };
      },
      GetParties: async (r: GetPartiesRequest, ctx: CallContext): Promise<GetPartiesResponse> => {
        requireAdminOrOperateAs(ctx.claims, r.parties);
        const idp = matchIdentityProviderId(ctx.claims, r.identityProviderId);
        if (r.parties.length === 0) throw missingField('parties');
        for (const [i, p] of r.parties.entries()) requireParty(p, `parties[${i}]`);
        const all = new Map(deps.knownParties().map((p) => [p.party, p.local]));
        const wanted = [...new Set(r.parties)].filter((p) => all.has(p));
        const records = await deps.records.get(wanted);
        return { partyDetails: wanted.map((p) => details(p, all.get(p)!, records.get(p), idp)) };
      },
      ListKnownParties: async (
        r: ListKnownPartiesRequest,
        ctx: CallContext,
      ): Promise<ListKnownPartiesResponse> => {
        const idp = requireIdpAdmin(ctx.claims, r.identityProviderId);
        if (r.pageSize < 0) throw invalidField('page_size', 'the page size must not be negative');
        if (r.pageSize > MAX_PARTIES_PAGE_SIZE) {
          throw invalidField('page_size', `the page size may be at most ${MAX_PARTIES_PAGE_SIZE}`);
        }
        const size = r.pageSize === 0 ? MAX_PARTIES_PAGE_SIZE : r.pageSize;
        const after = r.pageToken === '' ? undefined : Buffer.from(r.pageToken, 'base64url').toString('utf8');
        const page = deps
          .knownParties()
          .filter((p) => (after === undefined || p.party > after) && p.party.startsWith(r.filterParty))
          .slice(0, size + 1);
        const shown = page.slice(0, size);
        const records = await deps.records.get(shown.map((p) => p.party));
        return {
          partyDetails: shown.map((p) => details(p.party, p.local, records.get(p.party), idp)),
          nextPageToken:
            page.length > size ? Buffer.from(shown.at(-1)!.party, 'utf8').toString('base64url') : '',
        };
      },
      AllocateParty: async (r: AllocatePartyRequest, ctx: CallContext): Promise<AllocatePartyResponse> => {
        if (r.userId !== '') requireAdminOrSelf(ctx.claims, r.userId);
        else requireAdminOrIdpAdmin(ctx.claims);
        const idp = matchIdentityProviderId(ctx.claims, r.identityProviderId);
        if (r.localMetadata && r.localMetadata.resourceVersion !== '') {
          throw invalidField('local_metadata.resource_version', 'must be empty when a party is allocated');
        }
        const annotations = requestAnnotations(r.localMetadata, false);
        await requireIdentityProvider(deps, idp);
        const hint =
          r.partyIdHint === ''
            ? `party-${Buffer.from(deps.random.bytes(16)).toString('hex')}`
            : r.partyIdHint;
        // The participant allocates in its own namespace: `hint::<namespace of its unique identifier>`.
        const namespace = deps.participantId.slice(deps.participantId.indexOf('::') + 2);
        if (known(`${hint}::${namespace}`)?.local) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `The submitted request has invalid arguments: Party already exists: party ${hint}::${namespace} is already allocated on this node`,
            { party: `${hint}::${namespace}` },
          );
        }
        let party: string;
        try {
          party = await deps.allocateParty(
            hint,
            r.synchronizerId === '' ? {} : { synchronizerId: r.synchronizerId },
          );
        } catch (e) {
          // A hint that is no valid party name is the request's fault, not the topology's.
          if (e instanceof WeftError && e.code === 'INVALID_IDENTIFIER')
            throw invalidField('party_id_hint', e.message);
          throw e;
        }
        const record = await deps.records.update(party, { identityProviderId: idp, annotations });
        if (r.userId !== '') await deps.grantActAs(r.userId, party, idp);
        return { partyDetails: details(party, true, record, idp) };
      },
      UpdatePartyDetails: async (
        r: UpdatePartyDetailsRequest,
        ctx: CallContext,
      ): Promise<UpdatePartyDetailsResponse> => {
        const pd = r.partyDetails;
        if (!pd) {
          requireAdminOrIdpAdmin(ctx.claims);
          throw missingField('party_details');
        }
        const idp = requireIdpAdmin(ctx.claims, pd.identityProviderId);
        if (pd.party === '') throw missingField('party_details.party');
        requireParty(pd.party, 'party_details.party');
        const mask = UpdateMask.parse(r.updateMask?.paths ?? [], UPDATE_FIELDS);
        if (typeof mask === 'string') throw invalidUpdate(mask);
        const party = known(pd.party);
        if (!party?.local) throw partyNotFound(pd.party);
        const current = (await deps.records.get([pd.party])).get(pd.party);
        if ((current?.identityProviderId ?? '') !== idp) throw partyNotFound(pd.party);
        if (mask.match('is_local') === 'exact' && !pd.isLocal) {
          throw invalidUpdate(`Update request attempted to modify not-modifiable 'is_local' attribute`);
        }
        const given = pd.localMetadata?.annotations ?? {};
        const annotations = mask.value('local_metadata.annotations', given, Object.keys(given).length === 0);
        // Annotations merge into the existing ones (an empty value removes its key); the annotations path with none
        // clears them all (Canton's replace with an empty map).
        const change =
          annotations === undefined
            ? {}
            : Object.keys(annotations).length === 0
              ? {
                  annotations: Object.fromEntries(
                    Object.keys(current?.annotations ?? {}).map((k) => [k, '']),
                  ),
                }
              : { annotations: requestAnnotations({ resourceVersion: '', annotations }, true) };
        const resourceVersion = pd.localMetadata?.resourceVersion ?? '';
        const record = await deps.records.update(pd.party, {
          ...change,
          ...(resourceVersion !== '' ? { resourceVersion } : {}),
        });
        return { partyDetails: details(pd.party, true, record, idp) };
      },
      UpdatePartyIdentityProviderId: async (
        r: UpdatePartyIdentityProviderIdRequest,
        ctx: CallContext,
      ): Promise<object> => {
        requireAdmin(ctx.claims);
        if (r.party === '') throw missingField('party');
        requireParty(r.party, 'party');
        if (!known(r.party)?.local) throw partyNotFound(r.party);
        const current = (await deps.records.get([r.party])).get(r.party);
        if ((current?.identityProviderId ?? '') !== r.sourceIdentityProviderId) throw partyNotFound(r.party);
        await requireIdentityProvider(deps, r.targetIdentityProviderId);
        await deps.records.update(r.party, { identityProviderId: r.targetIdentityProviderId });
        return {};
      },
      AllocateExternalParty: async (r: { identityProviderId: string }, ctx: CallContext): Promise<never> => {
        requireIdpAdmin(ctx.claims, r.identityProviderId);
        return unsupported();
      },
      GenerateExternalPartyTopology: async (_r: object, ctx: CallContext): Promise<never> => {
        requireAuthenticated(ctx.claims);
        return unsupported();
      },
    },
  };
}
