import { type EncryptionPrivateKey, Hash } from '../crypto/index.js';
import {
  type ActionNode,
  contractStoreOf,
  createdContract,
  type Engine,
  type FatContract,
  forEachNode,
  type NodeId,
  type Party,
  requiredAuthorizersOf,
  type TransactionDecoder,
} from '../daml/index.js';
import { type ErrorCode, isWeftError, WeftError } from '../errors/index.js';
import type {
  EncryptedViewMessage,
  RootHashMessage,
} from '../generated/weft/protocol/v1/confirmation_request.js';
import {
  CommonMetadata,
  ParticipantMetadata,
  SubmitterMetadata,
  TransactionTree,
  ViewCommonData,
} from '../generated/weft/protocol/v1/transaction_tree.js';
import { type ParticipantId, PartyId } from '../identity/index.js';
import {
  decodeLeaf,
  decodeStrict,
  decryptView,
  hashTree,
  ProtocolErrors,
  type SessionKeyStore,
  viewPositionKey,
} from '../protocol/index.js';
import type { TopologySnapshot } from '../topology/index.js';
import type { Activeness } from './acs.js';
import { isAuthentic } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import { type AssembledTransaction, assembleViews, decodeViewData, type ReceivedView } from './views.js';

/** Why a view (or the whole request) is rejected. */
export interface Rejection {
  readonly code: ErrorCode;
  readonly reason: string;
}

/** A confirmation request as this participant sees it once its views are decrypted and put together. */
export interface OpenedRequest {
  readonly rootHash: Hash;
  readonly synchronizerId: string;
  readonly mediatorGroup: number;
  readonly participantMetadata: ParticipantMetadata;
  /** Revealed with the root views only. */
  readonly submitter: SubmitterMetadata | undefined;
  readonly assembled: AssembledTransaction;
  /** Views in tree order. */
  readonly views: readonly ReceivedView[];
}

export type OpenResult =
  | { readonly kind: 'opened'; readonly request: OpenedRequest }
  | { readonly kind: 'rejected'; readonly rejection: Rejection };

export interface OpenContext {
  readonly rootHashMessage: RootHashMessage;
  readonly viewMessages: readonly EncryptedViewMessage[];
  readonly synchronizerId: string;
  readonly encryptionKey: EncryptionPrivateKey;
  readonly sessionKeys: SessionKeyStore;
  readonly decoder: TransactionDecoder;
  /** Throws LOCAL_VERDICT_PACKAGE_NOT_VETTED for a package this participant cannot use. */
  readonly checkPackages: (packageIds: readonly string[]) => void;
}

const reject = (code: ErrorCode, reason: string): OpenResult => ({
  kind: 'rejected',
  rejection: { code, reason },
});

/**
 * Phase 3, first steps: decrypts the views addressed to this participant, checks each against the root hash (the
 * tree it comes in must hash to the root of the root hash message, and hold exactly this view unblinded), decodes
 * them and puts them together (see {@link assembleViews}). Anything inconsistent makes the request malformed.
 */
export function openRequest(ctx: OpenContext): OpenResult {
  try {
    const rootHash = Hash.fromMultihash(ctx.rootHashMessage.rootHash);
    if (ctx.rootHashMessage.synchronizerId !== ctx.synchronizerId) {
      return reject(
        ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST,
        `the root hash message is for synchronizer ${ctx.rootHashMessage.synchronizerId}`,
      );
    }
    if (ctx.viewMessages.length === 0) {
      return reject(
        ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST,
        'the request holds no view for this participant',
      );
    }
    let metadata: { participant: ParticipantMetadata; common: CommonMetadata } | undefined;
    let submitter: SubmitterMetadata | undefined;
    const views: ReceivedView[] = [];
    for (const message of ctx.viewMessages) {
      const viewHash = Hash.fromMultihash(message.viewHash);
      if (message.synchronizerId !== ctx.synchronizerId)
        malformed(`view ${viewHash} is for another synchronizer`);
      const tree = decodeStrict(
        TransactionTree,
        decryptView(message, ctx.encryptionKey, viewHash, ctx.sessionKeys),
        'a view tree',
      );
      const hashed = hashTree(tree);
      if (!hashed.rootHash.equals(rootHash)) malformed(`the tree of view ${viewHash} has another root hash`);
      const disclosed = hashed.views.filter((v) => v.view?.participantData?.node.oneofKind === 'unblinded');
      if (disclosed.length !== 1 || !disclosed[0]!.hash.equals(viewHash)) {
        malformed(`the tree of view ${viewHash} does not disclose exactly that view`);
      }
      const { position, view } = disclosed[0]!;
      const key = viewPositionKey(position);
      const common = decodeLeaf(view!.commonData, ViewCommonData, `the common data of view ${key}`);
      if (common.threshold !== common.confirmingParties.length) {
        malformed(`view ${key} has threshold ${common.threshold}, not all its confirming parties`);
      }
      const participant = decodeLeaf(
        tree.participantMetadata,
        ParticipantMetadata,
        'the participant metadata',
      );
      const commonMetadata = decodeLeaf(tree.commonMetadata, CommonMetadata, 'the common metadata');
      if (commonMetadata.synchronizerId !== ctx.synchronizerId)
        malformed('the request is for another synchronizer');
      metadata ??= { participant, common: commonMetadata };
      if (position.length === 1) {
        submitter ??= decodeLeaf(tree.submitterMetadata, SubmitterMetadata, 'the submitter metadata');
      }
      const participantData = view!.participantData!.node;
      if (participantData.oneofKind !== 'unblinded') malformed(`view ${key} is blinded`);
      views.push({
        position,
        key,
        informees: common.informees,
        confirmingParties: common.confirmingParties,
        threshold: common.threshold,
        subviewCount: view!.subviews.length,
        data: decodeViewData(
          participantData.unblinded.content,
          ctx.decoder,
          ctx.checkPackages,
          `the participant data of view ${key}`,
        ),
      });
    }
    views.sort((a, b) => comparePositions(a.position, b.position));
    for (let i = 1; i < views.length; i++) {
      if (views[i]!.key === views[i - 1]!.key) malformed(`view ${views[i]!.key} was received twice`);
    }
    const assembled = assembleViews(views);
    return {
      kind: 'opened',
      request: {
        rootHash,
        synchronizerId: ctx.synchronizerId,
        mediatorGroup: metadata!.common.mediatorGroup,
        participantMetadata: metadata!.participant,
        submitter,
        assembled,
        views,
      },
    };
  } catch (e) {
    if (isWeftError(e, ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED)) {
      return reject(ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED, e.message);
    }
    if (isWeftError(e) && (e.category === 'MaliciousOrFaultyBehaviour' || e.code === 'DECRYPTION_FAILED')) {
      return reject(ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST, e.message);
    }
    if (isWeftError(e) && e.code === 'INVALID_HASH') {
      return reject(ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST, e.message);
    }
    throw e;
  }
}

function malformed(message: string): never {
  throw new WeftError(ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED, message);
}

function comparePositions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Per view, the first reason to reject it. */
export class ViewRejections {
  readonly #byView = new Map<string, Rejection>();

  add(viewKey: string, code: ErrorCode, reason: string): void {
    if (!this.#byView.has(viewKey)) this.#byView.set(viewKey, { code, reason });
  }

  addAll(views: readonly ReceivedView[], code: ErrorCode, reason: string): void {
    for (const v of views) this.add(v.key, code, reason);
  }

  get(viewKey: string): Rejection | undefined {
    return this.#byView.get(viewKey);
  }

  get size(): number {
    return this.#byView.size;
  }
}

/** The views of `views` in the subtree of `top` (itself included). */
export function subtreeOf(views: readonly ReceivedView[], top: ReceivedView): ReceivedView[] {
  return views.filter(
    (v) => v.position.length >= top.position.length && top.position.every((x, i) => v.position[i] === x),
  );
}

/**
 * The checks that need neither the engine nor the order of events: contract ids match the contracts they name,
 * the ledger time lies within the tolerance of the record time and after the creation of every input, and the
 * submitting participant hosts the acting parties with submission permission.
 */
export function checkRequest(
  request: OpenedRequest,
  requestId: bigint,
  snapshot: TopologySnapshot,
  rejections: ViewRejections,
): void {
  const { views } = request;
  const ledgerTime = request.participantMetadata.ledgerTime;
  for (const view of views) {
    for (const c of view.data.inputs) {
      if (!isAuthentic(c)) {
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST,
          `input contract ${c.contractId.coid} of view ${view.key} does not match its id`,
        );
      } else if (c.createdAt! > ledgerTime) {
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_LEDGER_TIME_OUT_OF_BOUND,
          `input contract ${c.contractId.coid} was created at ${c.createdAt}, after the ledger time ${ledgerTime}`,
        );
      }
    }
    for (const node of view.data.nodes.values()) {
      if (node.tag === 'Create' && !isAuthentic(createdContract(node, ledgerTime))) {
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST,
          `the id ${node.contractId.coid} of a contract view ${view.key} creates does not match the contract`,
        );
      }
    }
  }
  const tolerance = snapshot.synchronizerParameters().ledgerTimeRecordTimeTolerance;
  const skew = ledgerTime > requestId ? ledgerTime - requestId : requestId - ledgerTime;
  if (skew > tolerance) {
    rejections.addAll(
      views,
      ParticipantErrors.LOCAL_VERDICT_LEDGER_TIME_OUT_OF_BOUND,
      `the ledger time ${ledgerTime} is ${skew} µs away from the record time ${requestId}; the tolerance is ${tolerance} µs`,
    );
  }
  const submitter = request.submitter;
  const roots = views.filter((v) => v.position.length === 1);
  if (roots.length > 0 && submitter) {
    const submitting = submitter.submittingParticipant;
    for (const party of submitter.actAs) {
      const hosting = snapshot.partyHosting(PartyId.parse(party));
      const permission = hosting?.participants.find((p) => String(p.participant) === submitting)?.permission;
      if (permission !== 'Submission') {
        rejections.addAll(
          roots,
          ParticipantErrors.LOCAL_VERDICT_UNAUTHORIZED,
          `participant ${submitting} does not host ${party} with submission permission`,
        );
      }
    }
  }
}

/** A contract a view uses, and whether the view consumes it. */
interface Use {
  readonly contractId: string;
  readonly stakeholders: readonly Party[];
  readonly consumed: boolean;
}

function usesOf(view: ReceivedView): Use[] {
  const uses: Use[] = [];
  for (const node of view.data.nodes.values()) {
    if (node.tag === 'Fetch' || node.tag === 'Exercise') {
      uses.push({
        contractId: node.contractId.coid,
        stakeholders: node.stakeholders,
        consumed: node.tag === 'Exercise' && node.consuming,
      });
    }
  }
  return uses;
}

function createdBy(request: OpenedRequest): Set<string> {
  const created = new Set<string>();
  for (const node of request.assembled.transaction.nodes.values()) {
    if (node.tag === 'Create') created.add(node.contractId.coid);
  }
  return created;
}

/** The contracts conflict detection checks: those the views use that the request does not create itself. */
export function usedContracts(request: OpenedRequest): string[] {
  const created = createdBy(request);
  const used = request.views.flatMap((v) => usesOf(v).map((u) => u.contractId));
  return [...new Set(used)].filter((c) => !created.has(c));
}

/**
 * Conflict detection (in sequencer order): every contract the request uses that a hosted party is a stakeholder of
 * must be active here, assigned to the request's synchronizer and not locked by another request in flight, unless
 * the request creates it itself. Returns the contracts the request archives and this participant must lock.
 */
export function checkConflicts(
  request: OpenedRequest,
  synchronizerId: string,
  acs: Activeness,
  isHosted: (party: Party) => boolean,
  rejections: ViewRejections,
): string[] {
  const created = createdBy(request);
  const toLock = new Set<string>();
  for (const view of request.views) {
    for (const use of usesOf(view)) {
      if (created.has(use.contractId) || !use.stakeholders.some(isHosted)) continue;
      const known = acs.get(use.contractId);
      const lockedBy = acs.lockedBy(use.contractId);
      if (!known) {
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS,
          `contract ${use.contractId} is not active`,
        );
      } else if (known.synchronizerId !== synchronizerId) {
        // Without reassignment a contract is used only where it was created.
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS,
          `contract ${use.contractId} is assigned to synchronizer ${known.synchronizerId}, not ${synchronizerId}`,
        );
      } else if (lockedBy !== undefined) {
        rejections.add(
          view.key,
          ParticipantErrors.LOCAL_VERDICT_LOCKED_CONTRACTS,
          `contract ${use.contractId} is locked by request ${lockedBy}`,
        );
      } else if (use.consumed) toLock.add(use.contractId);
    }
  }
  return [...toLock];
}

/**
 * Model conformance: recomputes the action of every view whose parent this participant did not receive, with its
 * seed, its input contracts and the ledger time, and compares the result with the view's subtree. The root views
 * are recomputed with the authority of the submitters (so Daml's authorization rules are checked), the others with
 * that of their action's required authorizers.
 */
export async function checkConformance(
  engine: Engine,
  request: OpenedRequest,
  rejections: ViewRejections,
): Promise<void> {
  const { assembled, views } = request;
  const contracts: FatContract[] = views.flatMap((v) => v.data.inputs);
  forEachNode(assembled.transaction, (_id, node) => {
    if (node.tag === 'Create') contracts.push(createdContract(node, request.participantMetadata.ledgerTime));
  });
  const store = contractStoreOf(contracts);
  for (const top of assembled.topViews) {
    const subtree = subtreeOf(views, top);
    if (subtree.some((v) => rejections.get(v.key))) continue;
    const root = assembled.transaction.nodes.get(top.data.rootNode) as ActionNode;
    const authorizers =
      top.position.length === 1 && request.submitter
        ? [...request.submitter.actAs].sort()
        : requiredAuthorizersOf(root);
    const result = await engine.reinterpret(
      {
        transaction: assembled.transaction,
        nodeId: top.data.rootNode as NodeId,
        ...(top.data.rootSeed ? { nodeSeed: top.data.rootSeed } : {}),
        preparationTime: request.participantMetadata.preparationTime,
        ledgerTime: request.participantMetadata.ledgerTime,
        authorizers,
      },
      store,
    );
    if (!result.matches) {
      const code = /DAML_AUTHORIZATION_ERROR/.test(result.reason)
        ? ParticipantErrors.LOCAL_VERDICT_UNAUTHORIZED
        : ParticipantErrors.LOCAL_VERDICT_FAILED_MODEL_CONFORMANCE_CHECK;
      rejections.addAll(subtree, code, `view ${top.key}: ${result.reason}`);
    }
  }
}

/** The parties of `parties` this participant hosts with confirmation rights at `snapshot`. */
export function hostedConfirmers(
  snapshot: TopologySnapshot,
  participant: ParticipantId,
  parties: readonly Party[],
): Party[] {
  return parties.filter((p) => {
    const host = snapshot
      .partyHosting(PartyId.parse(p))
      ?.participants.find((h) => h.participant.equals(participant));
    return host !== undefined && host.permission !== 'Observation';
  });
}
