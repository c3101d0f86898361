import { defineErrorCode } from '../../errors/index.js';

/** Codes of the participant-local party records (Canton's PartyManagementServiceErrors). */
export const PartyManagementErrors = {
  PARTY_NOT_FOUND: defineErrorCode(
    'PARTY_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The party is not known to the participant, or not in the identity provider the request names.',
    'Check the party id (ListKnownParties) and the identity provider id of the request.',
  ),
  INVALID_PARTY_DETAILS_UPDATE_REQUEST: defineErrorCode(
    'INVALID_PARTY_DETAILS_UPDATE_REQUEST',
    'InvalidIndependentOfSystemState',
    'The party details update asks for a change of a field that cannot be changed, or its update mask is empty or names an unknown field.',
    "Update only 'local_metadata' (or its 'annotations'); name the fields in the update mask; give 'is_local' and the identity provider id as the participant has them.",
  ),
  MAX_PARTY_DETAILS_ANNOTATIONS_SIZE_EXCEEDED: defineErrorCode(
    'MAX_PARTY_DETAILS_ANNOTATIONS_SIZE_EXCEEDED',
    'InvalidGivenCurrentSystemStateOther',
    "The party's annotations, keys and values together, would exceed 256 KiB.",
    'Store less in the annotations (remove some by updating them to the empty string).',
  ),
  CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED: defineErrorCode(
    'CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED',
    'ContentionOnSharedResources',
    'The party details changed since the resource version the update names was read.',
    'Read the party details again (GetParties) and retry the update with their current resource version.',
  ),
} as const;
