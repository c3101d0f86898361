import type { Hash } from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import type { InformeeMessage, Signature } from '../generated/weft/protocol/v1/confirmation_request.js';
import {
  type BlindableNode,
  CommonMetadata,
  SubmitterMetadata,
  ViewCommonData,
} from '../generated/weft/protocol/v1/transaction_tree.js';
import { ParticipantId, PartyId, SynchronizerId } from '../identity/index.js';
import { decodeStrict, malformed } from './codec.js';
import { hashTree, type ViewPosition, viewPositionKey } from './merkle.js';

/** One view of a request as the mediator sees it: who is informed, who must confirm, and how many must. */
export interface RequestView {
  readonly position: ViewPosition;
  /** {@link viewPositionKey} of the position, e.g. `0.1`. */
  readonly key: string;
  readonly hash: Hash;
  readonly informees: readonly PartyId[];
  readonly confirmingParties: readonly PartyId[];
  readonly threshold: number;
}

/** A decoded, well-formed InformeeMessage. Topology checks (hosting, activity) are the mediator's. */
export interface ConfirmationRequest {
  readonly rootHash: Hash;
  readonly synchronizerId: SynchronizerId;
  readonly mediatorGroup: number;
  readonly requestUuid: string;
  readonly submitterMetadata: SubmitterMetadata;
  readonly submittingParticipant: ParticipantId;
  readonly signature: Signature;
  /** Every view, parents before children. */
  readonly views: readonly RequestView[];
}

/**
 * Decodes and checks an InformeeMessage: a full informee tree (submitter and common metadata and every view's common
 * data unblinded; participant metadata and every view's participant data blinded), leaves that decode strictly
 * (unknown fields are refused: everything hashed must be understood), valid ids, and per view informees without
 * duplicates, confirming parties among them and 1 ≤ threshold ≤ confirming parties. Throws
 * PROTOCOL_MESSAGE_MALFORMED saying what is wrong.
 */
export function parseInformeeMessage(message: InformeeMessage): ConfirmationRequest {
  const tree = message.informeeTree;
  if (!tree) malformed('the informee message has no informee tree');
  const signature = message.submittingParticipantSignature;
  if (!signature || signature.signedBy === '') malformed('the informee message has no submitter signature');
  const hashed = hashTree(tree);
  if (tree.participantMetadata?.node.oneofKind !== 'blindedHash') {
    malformed('the participant metadata of an informee tree must be blinded');
  }
  const submitterMetadata = decodeLeaf(tree.submitterMetadata, SubmitterMetadata, 'the submitter metadata');
  const common = decodeLeaf(tree.commonMetadata, CommonMetadata, 'the common metadata');
  const synchronizerId = parseId(() => SynchronizerId.parse(common.synchronizerId), 'synchronizer id');
  const submittingParticipant = parseId(
    () => ParticipantId.parse(submitterMetadata.submittingParticipant),
    'submitting participant',
  );
  if (common.requestUuid === '') malformed('the common metadata has no request uuid');
  const views = hashed.views.map(({ position, hash, view }): RequestView => {
    const key = viewPositionKey(position);
    if (!view) return malformed(`view ${key} of an informee tree must not be blinded`);
    if (view.participantData?.node.oneofKind !== 'blindedHash') {
      malformed(`the participant data of view ${key} must be blinded in an informee tree`);
    }
    const data = decodeLeaf(view.commonData, ViewCommonData, `the common data of view ${key}`);
    const informees = parties(data.informees, `informee of view ${key}`);
    const confirmingParties = parties(data.confirmingParties, `confirming party of view ${key}`);
    if (informees.length === 0) malformed(`view ${key} has no informees`);
    const informeeSet = new Set(data.informees);
    const outsider = data.confirmingParties.find((p) => !informeeSet.has(p));
    if (outsider !== undefined) malformed(`confirming party ${outsider} of view ${key} is no informee`);
    if (data.threshold < 1 || data.threshold > confirmingParties.length) {
      malformed(
        `view ${key} has threshold ${data.threshold}; it must be between 1 and its ${confirmingParties.length} confirming parties`,
      );
    }
    return { position, key, hash, informees, confirmingParties, threshold: data.threshold };
  });
  return {
    rootHash: hashed.rootHash,
    synchronizerId,
    mediatorGroup: common.mediatorGroup,
    requestUuid: common.requestUuid,
    submitterMetadata,
    submittingParticipant,
    signature,
    views,
  };
}

/** Decodes an unblinded leaf strictly. */
export function decodeLeaf<T>(
  node: BlindableNode | undefined,
  codec: Parameters<typeof decodeStrict<T>>[0],
  what: string,
): T {
  const body = node?.node;
  if (body?.oneofKind !== 'unblinded') return malformed(`${what} must be unblinded`);
  return decodeStrict(codec, body.unblinded.content, what);
}

function parseId<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (e) {
    if (isWeftError(e)) malformed(`invalid ${what}: ${e.message}`);
    throw e;
  }
}

function parties(ids: readonly string[], what: string): PartyId[] {
  const seen = new Set<string>();
  return ids.map((id) => {
    if (seen.has(id)) malformed(`${what} ${id} is listed twice`);
    seen.add(id);
    return parseId(() => PartyId.parse(id), what);
  });
}
