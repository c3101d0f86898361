/**
 * Canton-style identities: namespaces (root key fingerprints), unique identifiers `<identifier>::<namespace>`,
 * parties, synchronizers and members (`PAR::`, `MED::`, `SEQ::`), each parsed with clear errors and printed back
 * to the same string.
 */
export { Fingerprint } from '../crypto/index.js';
export { IdentityErrors } from './errors.js';
export {
  MAX_IDENTIFIER_LENGTH,
  MediatorId,
  type Member,
  type MemberCode,
  Namespace,
  ParticipantId,
  PartyId,
  parseMember,
  SequencerId,
  SynchronizerId,
  UniqueIdentifier,
} from './identifiers.js';
