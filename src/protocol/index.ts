/**
 * The confirmation protocol's messages (`weft.protocol.v1`) and the helpers both the participant and the mediator
 * use: the request's Merkle tree (salted leaves, blinding, root and view hashes), envelope framing, signing and
 * opening responses and verdicts, and view encryption.
 */
export { decodeStrict } from './codec.js';
export { decryptView, type EncryptViewOptions, encryptView } from './encryption.js';
export { ProtocolErrors } from './errors.js';
export { type ConfirmationRequest, decodeLeaf, parseInformeeMessage, type RequestView } from './informee.js';
export {
  type BlindingPolicy,
  blindedLeaf,
  blindTree,
  buildTransactionTree,
  type HashedTree,
  type HashedView,
  hashTree,
  informeeTree,
  LeafPurpose,
  leaf,
  leafHash,
  MAX_VIEW_DEPTH,
  newSalt,
  nodeHash,
  SALT_LENGTH,
  type TreeInput,
  type ViewDisclosure,
  type ViewInput,
  type ViewPosition,
  viewNodeHash,
  viewPositionKey,
} from './merkle.js';
export {
  type ConfirmationRequestEnvelopes,
  confirmationRequestEnvelopes,
  confirmationResponsesEnvelope,
  confirmationResultEnvelopes,
  decodeProtocolMessage,
  mediatorGroupRecipient,
  memberRecipient,
  type ProtocolMessageBody,
  protocolEnvelope,
} from './messages.js';
export { ProtocolHashPurpose } from './purposes.js';
export { type SessionKeySettings, SessionKeyStore } from './session-keys.js';
export {
  decodeConfirmationResponses,
  openConfirmationResult,
  signConfirmationResponses,
  signConfirmationResult,
  signRootHash,
  verifyConfirmationResponses,
  verifyRootHashSignature,
} from './signing.js';
export {
  approveVerdict,
  localAbstain,
  localApprove,
  localReject,
  mediatorRejectVerdict,
  summarizeLocalVerdict,
  summarizeVerdict,
  type VerdictKind,
  type VerdictSummary,
} from './verdict.js';
