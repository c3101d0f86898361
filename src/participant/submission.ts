import {
  type EncryptionPublicKey,
  type Hash,
  type RandomSource,
  randomUuid,
  type SigningPrivateKey,
} from '../crypto/index.js';
import type { FatContract, NodeId, Transaction } from '../daml/index.js';
import { WeftError } from '../errors/index.js';
import {
  type ParticipantMetadata,
  type SubmitterMetadata,
  TransactionTree,
} from '../generated/weft/protocol/v1/transaction_tree.js';
import type { Envelope } from '../generated/weft/sequencer/v1/sequencing.js';
import { ParticipantId, PartyId } from '../identity/index.js';
import {
  blindTree,
  buildTransactionTree,
  confirmationRequestEnvelopes,
  encryptView,
  hashTree,
  informeeTree,
  type SessionKeyStore,
  signRootHash,
  type ViewPosition,
  viewPositionKey,
} from '../protocol/index.js';
import type { TopologySnapshot } from '../topology/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { ParticipantErrors } from './errors.js';
import type { OpenedRequest } from './validation.js';
import {
  assembleViews,
  flattenViews,
  type PlannedView,
  planViews,
  receivedViewOf,
  viewInputs,
} from './views.js';

export interface RequestInput {
  /** The transaction with absolute contract ids. */
  readonly transaction: Transaction;
  readonly seeds: ReadonlyMap<NodeId, Uint8Array>;
  /** The contracts it uses and does not create. */
  readonly inputs: readonly FatContract[];
  readonly ledgerTime: bigint;
  readonly preparationTime: bigint;
  readonly workflowId: string;
  readonly submitter: SubmitterMetadata;
}

export interface RequestContext {
  readonly synchronizerId: string;
  readonly mediatorGroup: number;
  /** The topology the request is addressed with (the submitter's current one). */
  readonly snapshot: TopologySnapshot;
  readonly signingKey: SigningPrivateKey;
  readonly sessionKeys: SessionKeyStore;
  readonly random: RandomSource;
}

export interface ConfirmationRequestBatch {
  readonly envelopes: Envelope[];
  readonly rootHash: Hash;
  /**
   * The request as the submitting participant opens it when it is delivered back (the views addressed to it, see
   * `openRequest`), taken from what was built instead of decrypted and decoded; undefined when no view is addressed
   * to it.
   */
  readonly own: OpenedRequest | undefined;
  readonly informeeParticipants: readonly string[];
}

/**
 * Phase 1: splits the transaction into views, addresses each view to the participants hosting its informees or
 * those of its ancestor views, checks that every informee is hosted (and every confirming party can confirm) and
 * that every recipient vetted the view's packages, builds the salted Merkle tree, encrypts each view once for its
 * recipients and frames the batch: the informee tree to the mediator group, a root hash message per informee
 * participant, the encrypted views.
 */
export function buildConfirmationRequest(ctx: RequestContext, input: RequestInput): ConfirmationRequestBatch {
  const { snapshot } = ctx;
  const views = planViews(input.transaction, input.seeds, input.inputs, input.ledgerTime);
  const hosts = new Map<string, { all: ParticipantId[]; confirming: ParticipantId[] }>();
  const hostsOf = (party: string) => {
    let h = hosts.get(party);
    if (!h) {
      const hosting = snapshot.partyHosting(PartyId.parse(party));
      const all = hosting?.participants ?? [];
      h = {
        all: all.map((p) => p.participant),
        confirming: all.filter((p) => p.permission !== 'Observation').map((p) => p.participant),
      };
      hosts.set(party, h);
    }
    return h;
  };
  const recipients = new Map<string, string[]>();
  const informeeParticipants = new Set<string>();
  const address = (v: PlannedView, above: ReadonlySet<string>) => {
    const mine = new Set(above);
    for (const party of v.informees) {
      const h = hostsOf(party);
      if (h.all.length === 0) {
        throw new WeftError(
          ParticipantErrors.INFORMEES_NOT_HOSTED,
          `party ${party} must be informed of the transaction but is hosted by no participant of ${ctx.synchronizerId}`,
          { party },
        );
      }
      for (const p of h.all) mine.add(String(p));
    }
    for (const party of v.confirmingParties) {
      if (hostsOf(party).confirming.length === 0) {
        throw new WeftError(
          ParticipantErrors.INFORMEES_NOT_HOSTED,
          `party ${party} must confirm the transaction but is hosted by no participant with confirmation permission`,
          { party },
        );
      }
    }
    const list = [...mine].sort();
    for (const pid of list) {
      informeeParticipants.add(pid);
      const participant = ParticipantId.parse(pid);
      for (const pkg of v.data.packages) {
        if (!snapshot.isPackageVetted(participant, pkg, input.ledgerTime)) {
          throw new WeftError(
            ParticipantErrors.PACKAGE_NOT_VETTED_BY_RECIPIENTS,
            `participant ${pid} has not vetted package ${pkg}, which the transaction uses`,
            { participant: pid, packageId: pkg },
          );
        }
      }
    }
    recipients.set(viewPositionKey(v.position), list);
    for (const sub of v.subviews) address(sub, mine);
  };
  for (const v of views) address(v, new Set());

  const participantMetadata: ParticipantMetadata = {
    ledgerTime: input.ledgerTime,
    preparationTime: input.preparationTime,
    workflowId: input.workflowId,
  };
  const tree = buildTransactionTree(
    {
      submitterMetadata: input.submitter,
      commonMetadata: {
        synchronizerId: ctx.synchronizerId,
        mediatorGroup: ctx.mediatorGroup,
        requestUuid: randomUuid(ctx.random),
      },
      participantMetadata,
      views: viewInputs(views),
    },
    ctx.random,
  );
  const hashed = hashTree(tree);
  const encryptionKeys = new Map<string, EncryptionPublicKey[]>();
  const keysOf = (pid: string) => {
    let keys = encryptionKeys.get(pid);
    if (!keys) {
      const participant = ParticipantId.parse(pid);
      keys = [...(snapshot.memberKeys(participant)?.encryption ?? [])];
      encryptionKeys.set(pid, keys);
    }
    return keys;
  };
  const flat = flattenViews(views);
  const encrypted = flat.map((v, i) => {
    const node = hashed.views[i]!;
    const plaintext = TransactionTree.toBinary(
      blindTree(
        tree,
        {
          // The submitter's metadata goes with the root views only: the views that the submitters are informees of.
          submitterMetadata: v.position.length === 1,
          commonMetadata: true,
          participantMetadata: true,
          view: (q) => disclosure(q, v.position),
        },
        hashed,
      ),
      FAST_WRITE_OPTIONS,
    );
    const to = recipients.get(viewPositionKey(v.position))!;
    return {
      message: encryptView({
        plaintext,
        viewHash: node.hash,
        synchronizerId: ctx.synchronizerId,
        recipients: to.flatMap(keysOf),
        sessionKeys: ctx.sessionKeys,
        random: ctx.random,
      }),
      recipients: to,
    };
  });
  const informees = [...informeeParticipants].sort();
  const envelopes = confirmationRequestEnvelopes({
    informeeMessage: {
      informeeTree: informeeTree(tree, hashed),
      submittingParticipantSignature: signRootHash(ctx.signingKey, hashed.rootHash),
    },
    rootHash: hashed.rootHash,
    synchronizerId: ctx.synchronizerId,
    mediatorGroup: ctx.mediatorGroup,
    informeeParticipants: informees,
    views: encrypted,
  });
  const self = input.submitter.submittingParticipant;
  const ownViews = flat
    .filter((v) => recipients.get(viewPositionKey(v.position))!.includes(self))
    .map(receivedViewOf);
  return {
    envelopes,
    rootHash: hashed.rootHash,
    own:
      ownViews.length === 0
        ? undefined
        : {
            rootHash: hashed.rootHash,
            synchronizerId: ctx.synchronizerId,
            mediatorGroup: ctx.mediatorGroup,
            participantMetadata,
            // Revealed with the root views only, as in the trees the views travel in.
            submitter: ownViews.some((v) => v.position.length === 1) ? input.submitter : undefined,
            assembled: assembleViews(ownViews),
            views: ownViews,
          },
    informeeParticipants: informees,
  };
}

/** What the tree sent with the view at `own` reveals of the view at `q`: itself, the path to it, nothing else. */
function disclosure(q: ViewPosition, own: ViewPosition): 'full' | 'structure' | 'hidden' {
  if (q.length === own.length && q.every((x, i) => x === own[i])) return 'full';
  if (q.length < own.length && q.every((x, i) => x === own[i])) return 'structure';
  return 'hidden';
}
