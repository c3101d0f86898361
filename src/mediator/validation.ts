import { CryptoErrors, Hash } from '../crypto/index.js';
import { type ErrorCode, isWeftError } from '../errors/index.js';
import type { InformeeMessage, RootHashMessage } from '../generated/weft/protocol/v1/confirmation_request.js';
import { ViewType } from '../generated/weft/protocol/v1/transaction_tree.js';
import type { Recipient } from '../generated/weft/sequencer/v1/sequencing.js';
import { type MediatorId, ParticipantId, type PartyId, type SynchronizerId } from '../identity/index.js';
import {
  type ConfirmationRequest,
  ProtocolErrors,
  parseInformeeMessage,
  verifyRootHashSignature,
} from '../protocol/index.js';
import type { TopologySnapshot } from '../topology/index.js';
import type { PartyConfirmers } from './aggregation.js';

/** The envelopes of one event that make up a confirmation request, as the mediator received them. */
export interface RequestEnvelopes {
  readonly informeeMessages: readonly {
    readonly message: InformeeMessage;
    readonly recipients: readonly Recipient[];
  }[];
  readonly rootHashMessages: readonly {
    readonly message: RootHashMessage;
    readonly recipients: readonly Recipient[];
  }[];
  /** The batch also carries a topology broadcast, which a confirmation request must not. */
  readonly withTopology: boolean;
}

export interface ValidRequest {
  readonly kind: 'valid';
  readonly request: ConfirmationRequest;
  /** Every participant hosting an informee, sorted: they get the verdict. */
  readonly informeeParticipants: readonly string[];
  /** Per confirming party, who may confirm for it. */
  readonly confirmers: ReadonlyMap<string, PartyConfirmers>;
}

export type RequestValidation =
  | ValidRequest
  | {
      readonly kind: 'reject';
      readonly rootHash: Hash;
      readonly request: ConfirmationRequest | undefined;
      /** Who gets the rejection: the participants the root hash messages went to. */
      readonly recipients: readonly string[];
      readonly code: ErrorCode;
      readonly reason: string;
    }
  | { readonly kind: 'discard'; readonly reason: string };

export interface ValidationContext {
  readonly requestId: bigint;
  readonly mediatorId: MediatorId;
  readonly synchronizerId: SynchronizerId;
  /** The topology at the request's sequencing time. */
  readonly snapshot: TopologySnapshot;
}

class Rejection extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const malformed = (reason: string) => new Rejection(ProtocolErrors.MEDIATOR_REQUEST_MALFORMED, reason);
const invalid = (reason: string) => new Rejection(ProtocolErrors.MEDIATOR_REQUEST_INVALID, reason);

const isGroup = (r: Recipient, group: number) =>
  r.recipient.oneofKind === 'mediatorGroup' && r.recipient.mediatorGroup === group;

/**
 * Phase 2: checks a confirmation request against the topology at its sequencing time, as Canton's mediator does.
 * A request that cannot be attributed (no or several informee messages, none parseable and no agreeing root hash
 * messages) or that is not for this mediator is discarded; a malformed or invalid one is rejected, to the
 * participants its root hash messages went to.
 */
export function validateRequest(ctx: ValidationContext, envelopes: RequestEnvelopes): RequestValidation {
  if (envelopes.informeeMessages.length > 1) {
    return {
      kind: 'discard',
      reason: `the batch holds ${envelopes.informeeMessages.length} informee messages`,
    };
  }
  const informee = envelopes.informeeMessages[0]!;
  const rootHashParticipants = [
    ...new Set(
      envelopes.rootHashMessages.flatMap((m) =>
        m.recipients.flatMap((r) => (r.recipient.oneofKind === 'member' ? [r.recipient.member] : [])),
      ),
    ),
  ].sort();
  let request: ConfirmationRequest;
  try {
    request = parseInformeeMessage(informee.message);
  } catch (e) {
    if (!isWeftError(e)) throw e;
    const hashes = new Set(
      envelopes.rootHashMessages.map((m) => Buffer.from(m.message.rootHash).toString('hex')),
    );
    const only = hashes.size === 1 ? envelopes.rootHashMessages[0]!.message.rootHash : undefined;
    const rootHash = only && parseRootHash(only);
    if (!rootHash)
      return { kind: 'discard', reason: `malformed informee message without one root hash: ${e.message}` };
    return {
      kind: 'reject',
      rootHash,
      request: undefined,
      recipients: rootHashParticipants,
      code: ProtocolErrors.MEDIATOR_REQUEST_MALFORMED,
      reason: `malformed informee message: ${e.message}`,
    };
  }
  const group = ctx.snapshot.mediatorGroup(request.mediatorGroup);
  const isMe = (m: MediatorId) => m.equals(ctx.mediatorId);
  // A passive mediator (an observer of the group) leaves the decision to the active ones.
  if (group?.observers.some(isMe) && !group.active.some(isMe)) {
    return {
      kind: 'discard',
      reason: `this mediator is an observer of mediator group ${request.mediatorGroup}`,
    };
  }
  try {
    checkRequest(ctx, request, informee.recipients, group?.active.some(isMe) ?? false);
    const informeeParticipants = checkRootHashMessages(ctx, request, envelopes);
    const confirmers = checkConfirmers(ctx, request);
    if (envelopes.withTopology) throw malformed('the request batch also carries a topology transaction');
    return { kind: 'valid', request, informeeParticipants, confirmers };
  } catch (e) {
    if (!(e instanceof Rejection)) throw e;
    return {
      kind: 'reject',
      rootHash: request.rootHash,
      request,
      recipients: rootHashParticipants,
      code: e.code,
      reason: e.reason,
    };
  }
}

function checkRequest(
  ctx: ValidationContext,
  request: ConfirmationRequest,
  recipients: readonly Recipient[],
  activeInGroup: boolean,
): void {
  if (!request.synchronizerId.equals(ctx.synchronizerId)) {
    throw malformed(`the request is for synchronizer ${request.synchronizerId}, not ${ctx.synchronizerId}`);
  }
  if (!activeInGroup) {
    throw malformed(
      `the request names mediator group ${request.mediatorGroup}, which this mediator is not active in`,
    );
  }
  if (recipients.length !== 1 || !isGroup(recipients[0]!, request.mediatorGroup)) {
    throw malformed(
      `the informee message must be addressed to exactly mediator group ${request.mediatorGroup}, the group its tree names`,
    );
  }
  const submitter = request.submittingParticipant;
  const activity = ctx.snapshot.isParticipantActive(submitter, ctx.requestId);
  if (!activity.active) throw invalid(`the submitting participant is not active: ${activity.reason}`);
  if (activity.permission !== 'Submission') {
    throw invalid(
      `the submitting participant ${submitter} has ${activity.permission} permission, not Submission`,
    );
  }
  try {
    verifyRootHashSignature(
      request.signature,
      request.rootHash,
      ctx.snapshot.memberKeys(submitter)?.signing ?? [],
      `the root hash signature of ${submitter}`,
    );
  } catch (e) {
    if (isWeftError(e, CryptoErrors.SIGNATURE_INVALID)) throw malformed(e.message);
    throw e;
  }
}

/** Checks the root hash messages and returns the informee participants (who must each have received one). */
function checkRootHashMessages(
  ctx: ValidationContext,
  request: ConfirmationRequest,
  envelopes: RequestEnvelopes,
): string[] {
  const received = new Set<string>();
  for (const { message, recipients } of envelopes.rootHashMessages) {
    const members = recipients.flatMap((r) =>
      r.recipient.oneofKind === 'member' ? [r.recipient.member] : [],
    );
    const member = members[0];
    if (
      recipients.length !== 2 ||
      members.length !== 1 ||
      !recipients.some((r) => isGroup(r, request.mediatorGroup))
    ) {
      throw malformed(
        `a root hash message must go to exactly one participant and mediator group ${request.mediatorGroup}`,
      );
    }
    if (!isParticipant(member!))
      throw malformed(`a root hash message goes to ${member}, which is no participant`);
    if (received.has(member!)) throw malformed(`several root hash messages for ${member}`);
    received.add(member!);
    const hash = parseRootHash(message.rootHash);
    if (!hash?.equals(request.rootHash)) {
      throw malformed(`the root hash message for ${member} names another root hash than the informee tree`);
    }
    if (message.viewType !== ViewType.TRANSACTION) {
      throw malformed(
        `the root hash message for ${member} has view type ${message.viewType}, not TRANSACTION`,
      );
    }
    if (message.synchronizerId !== String(ctx.synchronizerId)) {
      throw malformed(`the root hash message for ${member} is for synchronizer ${message.synchronizerId}`);
    }
  }
  const participants = new Set<string>();
  const unhosted = new Set<string>();
  for (const view of request.views) {
    for (const party of view.informees) {
      const hosting = ctx.snapshot.partyHosting(party);
      if (!hosting) unhosted.add(String(party));
      for (const h of hosting?.participants ?? []) participants.add(String(h.participant));
    }
  }
  if (unhosted.size > 0) {
    throw invalid(`informees not hosted by an active participant: ${[...unhosted].sort().join(', ')}`);
  }
  const missing = [...participants].filter((p) => !received.has(p)).sort();
  if (missing.length > 0)
    throw malformed(`informee participants without a root hash message: ${missing.join(', ')}`);
  const superfluous = [...received].filter((p) => !participants.has(p)).sort();
  if (superfluous.length > 0) {
    throw malformed(`root hash messages to participants hosting no informee: ${superfluous.join(', ')}`);
  }
  return [...participants].sort();
}

/** Who may confirm for each confirming party; rejects views whose authorized confirming parties miss the threshold. */
function checkConfirmers(ctx: ValidationContext, request: ConfirmationRequest): Map<string, PartyConfirmers> {
  const confirmers = new Map<string, PartyConfirmers>();
  const of = (party: PartyId): PartyConfirmers => {
    const key = String(party);
    let entry = confirmers.get(key);
    if (!entry) {
      const hosting = ctx.snapshot.partyHosting(party);
      entry = {
        threshold: hosting?.threshold ?? 1,
        participants: (hosting?.participants ?? [])
          .filter((h) => h.permission === 'Submission' || h.permission === 'Confirmation')
          .map((h) => String(h.participant)),
      };
      confirmers.set(key, entry);
    }
    return entry;
  };
  for (const view of request.views) {
    const authorized = view.confirmingParties.filter((p) => of(p).participants.length > 0);
    if (authorized.length < view.threshold) {
      const unauthorized = view.confirmingParties.filter((p) => of(p).participants.length === 0).map(String);
      throw invalid(
        `view ${view.key} needs ${view.threshold} confirming parties, but only ${authorized.length} are hosted with confirmation permission` +
          (unauthorized.length > 0 ? ` (not: ${unauthorized.join(', ')})` : ''),
      );
    }
  }
  return confirmers;
}

function parseRootHash(bytes: Uint8Array): Hash | undefined {
  try {
    return Hash.fromMultihash(bytes);
  } catch (e) {
    if (isWeftError(e)) return undefined;
    throw e;
  }
}

function isParticipant(member: string): boolean {
  try {
    ParticipantId.parse(member);
    return true;
  } catch (e) {
    if (isWeftError(e)) return false;
    throw e;
  }
}
