import { beforeAll, describe, expect, it } from 'vitest';
import { DeterministicRandom } from '../crypto/index.js';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import {
  type Engine,
  type Node,
  suffixTransaction,
  type Transaction,
  TransactionDecoder,
} from '../daml/index.js';
import { parseContractId } from '../daml/values/index.js';
import { WeftError } from '../errors/index.js';
import type {
  EncryptedViewMessage,
  RootHashMessage,
} from '../generated/weft/protocol/v1/confirmation_request.js';
import { type ParticipantId, PartyId, UniqueIdentifier } from '../identity/index.js';
import { NodeMetrics } from '../observability/index.js';
import { decodeProtocolMessage, SessionKeyStore } from '../protocol/index.js';
import { openStorage } from '../storage/index.js';
import { ManualClock } from '../time/index.js';
import { TopologyEngine, type TopologySnapshot } from '../topology/index.js';
import { onboardingTransactions, signed, type TestNode, testSynchronizer } from '../topology/testing.js';
import { ActiveContracts } from './acs.js';
import { DEFAULT_PARTICIPANT_SETTINGS, sessionKeySettings } from './config.js';
import { absolutizeTransaction } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import { ParticipantMetrics } from './metrics.js';
import { ParticipantStore } from './store.js';
import { buildConfirmationRequest, type ConfirmationRequestBatch } from './submission.js';
import { ModelLedger, type ModelSubmission, tokenCommands } from './testing.js';
import {
  checkConflicts,
  checkConformance,
  checkRequest,
  type OpenedRequest,
  type OpenResult,
  openRequest,
  usedContracts,
  ViewRejections,
} from './validation.js';

/**
 * Validation of real confirmation requests between two participants of an in-memory topology: p1 hosts the token
 * admin and alice, p2 hosts bob. Honest requests pass every check; a dishonest submitter is caught.
 */

const NOW = 1_750_000_000_000_000n;
const random = new DeterministicRandom('participant-validation');
const sync = testSynchronizer({ seed: 'participant-validation' });
// One store for every node, as each participant has one for sending and receiving: the keys are reused throughout.
const sessionKeys = new SessionKeyStore(
  sessionKeySettings(DEFAULT_PARTICIPANT_SETTINGS),
  new ManualClock(NOW),
);
const p1 = sync.participant('p1');
const p2 = sync.participant('p2');
const party = (name: string, p: TestNode<ParticipantId>) =>
  String(new PartyId(UniqueIdentifier.create(name, p.id.namespace)));
const admin = party('admin', p1);
const alice = party('alice', p1);
const bob = party('bob', p2);

let engine: Engine;
let decoder: TransactionDecoder;
let snapshot: TopologySnapshot;
let ledger: ModelLedger;
let rules: string;
let offer: ModelSubmission;
let token: string;

beforeAll(async () => {
  engine = loadEngine(TOKEN_DAR);
  decoder = new TransactionDecoder(engine.types);
  const topology = new TopologyEngine(sync.synchronizerId);
  topology.apply(1n, sync.genesis.batch);
  topology.apply(2n, [
    ...onboardingTransactions(p1, sync.synchronizerId),
    ...onboardingTransactions(p2, sync.synchronizerId),
  ]);
  const host = (name: string, p: TestNode<ParticipantId>) =>
    signed(
      {
        kind: 'PartyToParticipant',
        party: PartyId.parse(name),
        threshold: 1,
        participants: [{ participant: p.id, permission: 'Submission' }],
      },
      [p.namespaceKey],
    );
  const packages = engine.packages.packages().map((p) => ({ packageId: p.id }));
  topology.apply(3n, [
    host(admin, p1),
    host(alice, p1),
    host(bob, p2),
    ...[p1, p2].map((p) => signed({ kind: 'VettedPackages', participant: p.id, packages }, [p.namespaceKey])),
  ]);
  snapshot = topology.snapshot(10_000_000n);
  ledger = new ModelLedger(engine, NOW);
  rules = (await ledger.submit([admin], [tokenCommands.rules(admin)])).created(0);
  token = (await ledger.submit([admin, alice], [tokenCommands.mint(admin, alice, '100.0')])).created(0);
  offer = await ledger.submit(
    [alice],
    [tokenCommands.offer({ rules, admin, sender: alice, receiver: bob, amount: '30.0', inputs: [token] })],
  );
});

/** The confirmation request of `s`, as p1 would send it (the submitter metadata may lie). */
function request(
  s: { tx: Transaction; metadata: ModelSubmission['metadata'] },
  o: { actAs?: string[]; submitting?: TestNode<ParticipantId>; ledgerTime?: bigint } = {},
): ConfirmationRequestBatch {
  return buildConfirmationRequest(
    {
      synchronizerId: String(sync.synchronizerId),
      mediatorGroup: 0,
      snapshot,
      signingKey: p1.signingKey,
      sessionKeys,
      random,
    },
    {
      transaction: s.tx,
      seeds: s.metadata.nodeSeeds,
      inputs: s.metadata.inputContracts,
      ledgerTime: o.ledgerTime ?? NOW,
      preparationTime: s.metadata.preparationTime,
      workflowId: '',
      submitter: {
        actAs: o.actAs ?? [alice],
        userId: 'u',
        commandId: 'c',
        submissionId: '',
        submittingParticipant: String((o.submitting ?? p1).id),
        maxSequencingTime: NOW + 60_000_000n,
      },
    },
  );
}

/** What `p` receives of a batch and makes of it. */
function open(
  built: ConfirmationRequestBatch,
  p: TestNode<ParticipantId>,
  o: {
    tamper?: (views: EncryptedViewMessage[]) => EncryptedViewMessage[];
    rootHash?: RootHashMessage;
    packages?: (ids: readonly string[]) => void;
  } = {},
): OpenResult {
  const mine = built.envelopes.filter((e) =>
    e.recipients.some((r) => r.recipient.oneofKind === 'member' && r.recipient.member === String(p.id)),
  );
  const messages = mine.map(decodeProtocolMessage);
  const rootHash = messages.find((m) => m.oneofKind === 'rootHashMessage');
  const views = messages.flatMap((m) =>
    m.oneofKind === 'encryptedViewMessage' ? [m.encryptedViewMessage] : [],
  );
  return openRequest({
    rootHashMessage:
      o.rootHash ?? (rootHash as Extract<typeof rootHash, { oneofKind: 'rootHashMessage' }>)!.rootHashMessage,
    viewMessages: o.tamper ? o.tamper(views) : views,
    synchronizerId: String(sync.synchronizerId),
    encryptionKey: p.encryptionKey.privateKey,
    sessionKeys,
    decoder,
    checkPackages: o.packages ?? (() => {}),
  });
}

function opened(r: OpenResult): OpenedRequest {
  if (r.kind !== 'opened') throw new Error(`rejected: ${r.rejection.code.code}: ${r.rejection.reason}`);
  return r.request;
}

/** Runs every check of Phase 3 on an opened request; the rejections by view. */
async function validate(
  request: OpenedRequest,
  o: { requestId?: bigint; acs?: ActiveContracts; hosted?: readonly string[] } = {},
): Promise<Record<string, string>> {
  const rejections = new ViewRejections();
  checkRequest(request, o.requestId ?? NOW, snapshot, rejections);
  const acs = o.acs ?? (await activeSet());
  checkConflicts(
    request,
    String(sync.synchronizerId),
    await acs.activeness(usedContracts(request)),
    (p) => (o.hosted ?? [admin, alice]).includes(p),
    rejections,
  );
  await checkConformance(engine, request, rejections);
  return Object.fromEntries(
    request.views.flatMap((v) => {
      const r = rejections.get(v.key);
      return r ? [[v.key, r.code.code]] : [];
    }),
  );
}

/** p1's active contracts: the rules and alice's token (decided, not written: its database is empty). */
async function activeSet(
  without: string[] = [],
  synchronizerId = String(sync.synchronizerId),
): Promise<ActiveContracts> {
  const store = await ParticipantStore.open(await openStorage({ kind: 'sqlite', path: ':memory:' }));
  const metrics = new ParticipantMetrics(new NodeMetrics({ defaultMetrics: false }));
  const acs = new ActiveContracts(store, decoder, 10, metrics);
  for (const c of ledger.contracts) {
    if (without.includes(c.contractId.coid)) continue;
    acs.add(c, synchronizerId, c.stakeholders, c.stakeholders);
  }
  return acs;
}

describe('validation of an honest request', () => {
  it('opens the views each participant may see, and approves them', async () => {
    const built = request(offer);
    const atP1 = opened(open(built, p1));
    expect(atP1.views.map((v) => v.key)).toEqual(['0', '0.0']);
    expect(atP1.submitter?.actAs).toEqual([alice]);
    expect(await validate(atP1)).toEqual({});
    const atP2 = opened(open(built, p2));
    expect(atP2.views.map((v) => v.key)).toEqual(['0.0']);
    // p2 sees the offer only: no submitter metadata, no root view.
    expect(atP2.submitter).toBeUndefined();
    expect(await validate(atP2, { hosted: [bob] })).toEqual({});
  });
});

describe("the submitter's own request", () => {
  it('is, as built, what the submitting participant opens when it is delivered back', async () => {
    const built = request(offer);
    expect(built.own).toEqual(opened(open(built, p1)));
    expect(await validate(built.own!)).toEqual({});
  });

  it('holds only the views addressed to the submitting participant', async () => {
    expect(request(offer, { submitting: p2 }).own?.views.map((v) => v.key)).toEqual(['0.0']);
    // A mint to alice that p2 (hosting neither admin nor alice) submits: no view goes to p2.
    const minted = await ledger.submit([admin, alice], [tokenCommands.mint(admin, alice, '1.0')]);
    expect(request(minted, { actAs: [admin, alice], submitting: p2 }).own).toBeUndefined();
  });
});

describe('a request is rejected', () => {
  it('when a view does not decrypt or is not the one announced (malformed)', () => {
    const built = request(offer);
    const flipped = open(built, p1, {
      tamper: (views) =>
        views.map((v, i) => {
          if (i > 0) return v;
          const ciphertext = Uint8Array.from(v.ciphertext);
          ciphertext[10]! ^= 1;
          return { ...v, ciphertext };
        }),
    });
    expect(flipped).toMatchObject({
      kind: 'rejected',
      rejection: { code: ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST },
    });
    const swapped = open(built, p1, {
      tamper: (views) => views.map((v) => ({ ...v, viewHash: views[0]!.viewHash })),
    });
    expect(swapped).toMatchObject({ kind: 'rejected' });
    const other = request(offer)
      .envelopes.map(decodeProtocolMessage)
      .find((m) => m.oneofKind === 'rootHashMessage')!;
    const foreignRoot = open(built, p1, {
      rootHash: (other as Extract<typeof other, { oneofKind: 'rootHashMessage' }>).rootHashMessage,
    });
    expect(foreignRoot.kind === 'rejected' && foreignRoot.rejection.reason).toMatch(/another root hash/);
  });

  it('when the participant lacks a package of a view', () => {
    const r = open(request(offer), p2, {
      packages: () => {
        throw new WeftError(ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED, 'no token package');
      },
    });
    expect(r).toMatchObject({
      kind: 'rejected',
      rejection: { code: ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED },
    });
  });

  it('when the submitter changed what Daml computes (model conformance)', async () => {
    // alice's change (node 3) claims 90 instead of 70; the tree and the ids are made consistent with the lie.
    const nodes = new Map(offer.tx.nodes);
    const change = nodes.get(3) as Extract<Node, { tag: 'Create' }>;
    const arg = change.arg as Extract<typeof change.arg, { kind: 'Record' }>;
    const holding = arg.values[0] as Extract<typeof change.arg, { kind: 'Record' }>;
    const amount = holding.values[2] as Extract<typeof change.arg, { kind: 'Numeric' }>;
    const richer = { ...amount, unscaled: amount.unscaled + 20n * 10n ** 10n };
    nodes.set(3, {
      ...change,
      arg: {
        ...arg,
        values: [
          { ...holding, values: holding.values.map((v, i) => (i === 2 ? richer : v)) },
          ...arg.values.slice(1),
        ],
      },
    });
    const tampered = reAbsolutized({ ...offer.tx, nodes });
    const atP1 = opened(open(request({ tx: tampered, metadata: offer.metadata }), p1));
    const code = ParticipantErrors.LOCAL_VERDICT_FAILED_MODEL_CONFORMANCE_CHECK.code;
    expect(await validate(atP1)).toEqual({ '0': code, '0.0': code });
  });

  it('when the submitters lack authority, or are not hosted by the submitting participant', async () => {
    const minted = await ledger.submit([admin, alice], [tokenCommands.mint(admin, alice, '1.0')]);
    const onlyAlice = opened(open(request(minted, { actAs: [alice] }), p1));
    expect(await validate(onlyAlice)).toEqual({ '0': ParticipantErrors.LOCAL_VERDICT_UNAUTHORIZED.code });
    const viaP2 = opened(open(request(minted, { actAs: [admin, alice], submitting: p2 }), p1));
    expect(await validate(viaP2)).toEqual({ '0': ParticipantErrors.LOCAL_VERDICT_UNAUTHORIZED.code });
  });

  it('when the ledger time is too far from the record time', async () => {
    const atP1 = opened(open(request(offer), p1));
    const tolerance = snapshot.synchronizerParameters().ledgerTimeRecordTimeTolerance;
    const code = ParticipantErrors.LOCAL_VERDICT_LEDGER_TIME_OUT_OF_BOUND.code;
    expect(await validate(atP1, { requestId: NOW + tolerance + 1n })).toEqual({ '0': code, '0.0': code });
    expect(await validate(atP1, { requestId: NOW - tolerance })).toEqual({});
  });

  it('when an input is not active here, or locked by another request', async () => {
    const atP1 = opened(open(request(offer), p1));
    expect(await validate(atP1, { acs: await activeSet([token]) })).toEqual({
      '0': ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS.code,
    });
    const acs = await activeSet();
    const rejections = new ViewRejections();
    const activeness = await acs.activeness(usedContracts(atP1));
    expect(checkConflicts(atP1, String(sync.synchronizerId), activeness, () => true, rejections)).toEqual([
      token,
    ]);
    acs.lock(token, 1n);
    expect(await validate(atP1, { acs })).toEqual({
      '0': ParticipantErrors.LOCAL_VERDICT_LOCKED_CONTRACTS.code,
    });
    // Contracts are used only on the synchronizer they are assigned to (there is no reassignment).
    const elsewhere = await activeSet([], 'other::1220aa');
    expect(await validate(atP1, { acs: elsewhere })).toEqual({
      '0': ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS.code,
    });
    // A participant hosting no stakeholder of the token does not check it.
    expect(
      await validate(opened(open(request(offer), p2)), { acs: await activeSet([token]), hosted: [bob] }),
    ).toEqual({});
  });
});

/** Gives the contracts a (tampered) transaction creates ids consistent with their content again. */
function reAbsolutized(tx: Transaction): Transaction {
  const created = new Set(
    [...tx.nodes.values()].flatMap((n) => (n.tag === 'Create' ? [n.contractId.coid] : [])),
  );
  const local = suffixTransaction(tx, (cid) =>
    created.has(cid.coid) ? parseContractId(`${cid.coid.slice(0, 2)}${cid.local}`)! : cid,
  );
  return absolutizeTransaction(local, NOW);
}
