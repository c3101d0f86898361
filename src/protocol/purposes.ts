import { defineHashPurpose } from '../crypto/index.js';

/**
 * Weft's hash purposes for the confirmation protocol (ids 1100–1119 are reserved for it). Each signed message kind
 * has its own purpose, so a signature on one kind never verifies as another.
 */
export const ProtocolHashPurpose = {
  ConfirmationResponsesSignature: defineHashPurpose(1100, 'ConfirmationResponsesSignature'),
  ConfirmationResultSignature: defineHashPurpose(1101, 'ConfirmationResultSignature'),
  /** The submitting participant's signature of a request's root hash (in the InformeeMessage). */
  RootHashSignature: defineHashPurpose(1102, 'RootHashSignature'),
} as const;
