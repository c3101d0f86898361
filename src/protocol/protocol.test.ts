import { describe, expect, it } from 'vitest';
import {
  CryptoErrors,
  DeterministicRandom,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  Hash,
  HashPurpose,
} from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import { ConfirmationResultMessage } from '../generated/weft/protocol/v1/confirmation_result.js';
import {
  SubmitterMetadata,
  TransactionTree,
  ViewCommonData,
  ViewType,
} from '../generated/weft/protocol/v1/transaction_tree.js';
import { EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { Namespace, ParticipantId, PartyId, SynchronizerId, UniqueIdentifier } from '../identity/index.js';
import { ManualClock } from '../time/index.js';
import {
  approveVerdict,
  blindTree,
  buildTransactionTree,
  confirmationRequestEnvelopes,
  confirmationResponsesEnvelope,
  confirmationResultEnvelopes,
  decodeConfirmationResponses,
  decodeProtocolMessage,
  decryptView,
  encryptView,
  hashTree,
  informeeTree,
  leaf,
  localReject,
  openConfirmationResult,
  ProtocolErrors,
  parseInformeeMessage,
  SessionKeyStore,
  signConfirmationResponses,
  signConfirmationResult,
  signRootHash,
  summarizeVerdict,
  type ViewInput,
  verifyConfirmationResponses,
  verifyRootHashSignature,
  viewNodeHash,
} from './index.js';

const random = new DeterministicRandom('protocol-test');
const key = generateSigningKeyPair(random);
const other = generateSigningKeyPair(random);
const ns = Namespace.fromRootKey(key.publicKey);
const synchronizerId = String(new SynchronizerId(UniqueIdentifier.create('sync', ns)));
const participant = String(new ParticipantId(UniqueIdentifier.create('p1', ns)));
const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) =>
  String(new PartyId(UniqueIdentifier.create(n, ns))),
);

function view(
  informees: string[],
  confirming: string[],
  threshold: number,
  subviews: ViewInput[] = [],
): ViewInput {
  return {
    informees,
    confirmingParties: confirming,
    threshold,
    participantData: Buffer.from('data'),
    subviews,
  };
}

function tree(
  views: ViewInput[] = [view([alice!, bob!], [alice!], 1, [view([bob!, carol!], [bob!, carol!], 2)])],
) {
  return buildTransactionTree(
    {
      submitterMetadata: {
        actAs: [alice!],
        userId: 'u',
        commandId: 'c',
        submissionId: 's',
        submittingParticipant: participant,
        maxSequencingTime: 1n,
      },
      commonMetadata: { synchronizerId, mediatorGroup: 0, requestUuid: 'uuid-1' },
      participantMetadata: { ledgerTime: 1n, preparationTime: 1n, workflowId: '' },
      views,
    },
    random,
  );
}

function expectMalformed(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isWeftError(e, ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected PROTOCOL_MESSAGE_MALFORMED');
}

/** A copy of `t` with the common data of view 0 replaced. */
function withRootViewCommonData(t: TransactionTree, data: ViewCommonData): TransactionTree {
  const node = t.rootViews[0]!.node;
  if (node.oneofKind !== 'view') throw new Error('blinded');
  return {
    ...t,
    rootViews: [
      {
        node: {
          oneofKind: 'view',
          view: { ...node.view, commonData: leaf(ViewCommonData.toBinary(data), random) },
        },
      },
    ],
  };
}

describe('Merkle tree', () => {
  it('keeps the root hash under any blinding, and lists views parents first', () => {
    const full = tree();
    const hashed = hashTree(full);
    expect(hashed.views.map((v) => v.position)).toEqual([[0], [0, 0]]);
    const informee = informeeTree(full);
    expect(hashTree(informee).rootHash.equals(hashed.rootHash)).toBe(true);
    const hidden = blindTree(full, {
      submitterMetadata: false,
      commonMetadata: true,
      participantMetadata: false,
      view: (p) => (p.length === 1 ? 'structure' : 'hidden'),
    });
    const h = hashTree(hidden);
    expect(h.rootHash.equals(hashed.rootHash)).toBe(true);
    expect(h.views[1]!.view).toBeUndefined();
    expect(h.views[1]!.hash.equals(hashed.views[1]!.hash)).toBe(true);
    expect(viewNodeHash(full.rootViews[0]!).equals(hashed.views[0]!.hash)).toBe(true);
    // Blinding with the hashes already computed gives the same trees, byte for byte.
    const bytes = (t: TransactionTree) => Buffer.from(TransactionTree.toBinary(t)).toString('hex');
    expect(bytes(informeeTree(full, hashed))).toBe(bytes(informee));
    const policy = {
      submitterMetadata: false,
      commonMetadata: true,
      participantMetadata: false,
      view: (p: readonly number[]) => (p.length === 1 ? 'structure' : 'hidden') as 'structure' | 'hidden',
    };
    expect(bytes(blindTree(full, policy, hashed))).toBe(bytes(hidden));
  });

  it('changes the root hash with any leaf byte or salt', () => {
    const full = tree();
    const root = hashTree(full).rootHash;
    const node = full.submitterMetadata!.node;
    if (node.oneofKind !== 'unblinded') throw new Error('blinded');
    const salt = Uint8Array.from(node.unblinded.salt);
    salt[0]! ^= 1;
    const resalted = {
      ...full,
      submitterMetadata: { node: { ...node, unblinded: { ...node.unblinded, salt } } },
    };
    expect(hashTree(resalted).rootHash.equals(root)).toBe(false);
    // Same content, new salts: a different tree.
    expect(hashTree(tree()).rootHash.equals(root)).toBe(false);
  });

  it('refuses missing nodes, bad hashes and salts, and duplicate hashes', () => {
    const full = tree();
    expectMalformed(() => hashTree({ ...full, rootViews: [] }), /no views/);
    expectMalformed(() => hashTree({ ...full, commonMetadata: undefined }), /common metadata is missing/);
    expectMalformed(
      () =>
        hashTree({
          ...full,
          participantMetadata: { node: { oneofKind: 'blindedHash', blindedHash: new Uint8Array(3) } },
        }),
      /blinded hash of the participant metadata/,
    );
    expectMalformed(
      () =>
        hashTree({
          ...full,
          participantMetadata: {
            node: {
              oneofKind: 'unblinded',
              unblinded: { salt: new Uint8Array(4), content: new Uint8Array() },
            },
          },
        }),
      /salt must be 32 bytes/,
    );
    expectMalformed(
      () => hashTree({ ...full, rootViews: [full.rootViews[0]!, full.rootViews[0]!] }),
      /occurs twice/,
    );
  });
});

describe('InformeeMessage', () => {
  const sign = (t: TransactionTree) => signRootHash(key.privateKey, hashTree(t).rootHash);

  it('parses a full informee tree into views with informees and thresholds', () => {
    const full = tree();
    const informee = informeeTree(full);
    const parsed = parseInformeeMessage({
      informeeTree: informee,
      submittingParticipantSignature: sign(informee),
    });
    expect(parsed.rootHash.equals(hashTree(full).rootHash)).toBe(true);
    expect(String(parsed.submittingParticipant)).toBe(participant);
    expect(String(parsed.synchronizerId)).toBe(synchronizerId);
    expect(parsed.requestUuid).toBe('uuid-1');
    expect(
      parsed.views.map((v) => [v.key, v.informees.map(String), v.confirmingParties.map(String), v.threshold]),
    ).toEqual([
      ['0', [alice, bob], [alice], 1],
      ['0.0', [bob, carol], [bob, carol], 2],
    ]);
    verifyRootHashSignature(parsed.signature, parsed.rootHash, [key.publicKey], 'request');
    expect(() =>
      verifyRootHashSignature(parsed.signature, parsed.rootHash, [other.publicKey], 'request'),
    ).toThrow(/not a current signing key/);
  });

  it('refuses trees that reveal too much or too little, and bad view data', () => {
    const full = tree();
    const message = (t: TransactionTree) => ({ informeeTree: t, submittingParticipantSignature: sign(t) });
    expectMalformed(
      () => parseInformeeMessage(message(full)),
      /participant metadata of an informee tree must be blinded/,
    );
    const blindedView = blindTree(full, {
      submitterMetadata: true,
      commonMetadata: true,
      participantMetadata: false,
      view: (p) => (p.length === 1 ? 'informee' : 'hidden'),
    });
    expectMalformed(
      () => parseInformeeMessage(message(blindedView)),
      /view 0.0 of an informee tree must not be blinded/,
    );
    const noSubmitter = blindTree(full, {
      submitterMetadata: false,
      commonMetadata: true,
      participantMetadata: false,
      view: () => 'informee',
    });
    expectMalformed(() => parseInformeeMessage(message(noSubmitter)), /submitter metadata must be unblinded/);
    expectMalformed(
      () => parseInformeeMessage({ informeeTree: informeeTree(full) }),
      /no submitter signature/,
    );
    const cases: [ViewCommonData, RegExp][] = [
      [{ informees: [alice!, alice!], confirmingParties: [alice!], threshold: 1 }, /listed twice/],
      [{ informees: [alice!], confirmingParties: [bob!], threshold: 1 }, /is no informee/],
      [{ informees: [alice!], confirmingParties: [alice!], threshold: 2 }, /threshold 2/],
      [{ informees: [alice!], confirmingParties: [alice!], threshold: 0 }, /threshold 0/],
      [{ informees: [], confirmingParties: [], threshold: 1 }, /no informees|threshold/],
      [{ informees: ['not a party'], confirmingParties: [], threshold: 1 }, /invalid informee/],
    ];
    for (const [data, error] of cases) {
      expectMalformed(
        () => parseInformeeMessage(message(informeeTree(withRootViewCommonData(full, data)))),
        error,
      );
    }
    // Leaves decode strictly: an unknown field in a hashed leaf is refused.
    const unknownField = Buffer.concat([
      SubmitterMetadata.toBinary(SubmitterMetadata.create({ submittingParticipant: participant })),
      Buffer.from([0xf8, 0x3e, 0x01]),
    ]);
    const strange = informeeTree({ ...full, submitterMetadata: leaf(unknownField, random) });
    expectMalformed(() => parseInformeeMessage(message(strange)), /submitter metadata cannot be decoded/);
  });
});

describe('signed messages and envelopes', () => {
  it('signs responses and verdicts over their exact bytes, each with its own purpose', () => {
    const responses = {
      requestId: 5n,
      rootHash: Hash.digest(HashPurpose.MerkleTreeInnerNode, new Uint8Array([1])).toMultihash(),
      synchronizerId,
      sender: participant,
      responses: [
        { viewPosition: [0], localVerdict: localReject('X', 'no', false), confirmingParties: [alice!] },
      ],
    };
    const signed = signConfirmationResponses(key.privateKey, responses);
    expect(decodeConfirmationResponses(signed)).toEqual(responses);
    verifyConfirmationResponses(signed, [key.publicKey], 'responses');
    expect(() => verifyConfirmationResponses(signed, [other.publicKey], 'responses')).toThrow(
      /not a current/,
    );
    const tampered = { ...signed, content: Uint8Array.from(signed.content) };
    tampered.content[3]! ^= 1;
    expect(() => verifyConfirmationResponses(tampered, [key.publicKey], 'responses')).toThrow(
      /does not verify/,
    );
    // A response signature never opens as a verdict.
    expect(() => openConfirmationResult(signed, [key.publicKey])).toThrow(/does not verify/);

    const result = {
      synchronizerId,
      viewType: ViewType.TRANSACTION,
      requestId: 5n,
      rootHash: responses.rootHash,
      verdict: approveVerdict(),
    };
    const verdict = signConfirmationResult(key.privateKey, result);
    expect(ConfirmationResultMessage.toJson(openConfirmationResult(verdict, [key.publicKey]))).toEqual(
      ConfirmationResultMessage.toJson(result),
    );
    expect(summarizeVerdict(result.verdict)).toEqual({ kind: 'approve' });

    const [toParticipant] = confirmationResultEnvelopes(verdict, [participant]);
    const decoded = decodeProtocolMessage(toParticipant!);
    expect(decoded.oneofKind).toBe('confirmationResult');
    const env = confirmationResponsesEnvelope(signed, 0);
    expect(env.recipients).toEqual([{ recipient: { oneofKind: 'mediatorGroup', mediatorGroup: 0 } }]);
    expectMalformed(
      () => decodeProtocolMessage({ content: new Uint8Array(), recipients: [], kind: EnvelopeKind.PROTOCOL }),
      /empty/,
    );
    expectMalformed(
      () =>
        decodeProtocolMessage({ content: Buffer.from('junk'), recipients: [], kind: EnvelopeKind.PROTOCOL }),
      /cannot be decoded/,
    );
  });

  it('frames a request: informee message to the group, one root hash message per participant, the views', () => {
    const full = tree();
    const informee = informeeTree(full);
    const rootHash = hashTree(full).rootHash;
    const envelopes = confirmationRequestEnvelopes({
      informeeMessage: {
        informeeTree: informee,
        submittingParticipantSignature: signRootHash(key.privateKey, rootHash),
      },
      rootHash,
      synchronizerId,
      mediatorGroup: 0,
      informeeParticipants: ['PAR::a', 'PAR::b'],
      views: [],
    });
    expect(envelopes.map((e) => [decodeProtocolMessage(e).oneofKind, e.recipients.length])).toEqual([
      ['informeeMessage', 1],
      ['rootHashMessage', 2],
      ['rootHashMessage', 2],
    ]);
  });

  it('encrypts a view once and wraps its key for every recipient', () => {
    const a = generateEncryptionKeyPair(random);
    const b = generateEncryptionKeyPair(random);
    const outsider = generateEncryptionKeyPair(random);
    const viewHash = Hash.digest(HashPurpose.ViewCommonData, Buffer.from('v'));
    const clock = new ManualClock(0n);
    const receiver = new SessionKeyStore({ ttlMs: 10_000, maxUses: 10, cacheSize: 10 }, clock);
    const message = encryptView({
      plaintext: Buffer.from('secret view'),
      viewHash,
      synchronizerId,
      recipients: [a.publicKey, b.publicKey],
      sessionKeys: new SessionKeyStore({ ttlMs: 10_000, maxUses: 10, cacheSize: 10 }, clock),
      random,
    });
    expect(message.sessionKeys.map((k) => k.keyFingerprint)).toEqual([
      a.publicKey.fingerprint.value,
      b.publicKey.fingerprint.value,
    ]);
    for (const k of [a, b])
      expect(Buffer.from(decryptView(message, k.privateKey, viewHash, receiver)).toString()).toBe(
        'secret view',
      );
    expectMalformed(() => decryptView(message, outsider.privateKey, viewHash, receiver), /no session key/);
    // Bound to the view hash: the same ciphertext does not open as another view.
    const otherHash = Hash.digest(HashPurpose.ViewCommonData, Buffer.from('w'));
    try {
      decryptView(message, a.privateKey, otherHash, receiver);
      throw new Error('expected a decryption failure');
    } catch (e) {
      expect(isWeftError(e, CryptoErrors.DECRYPTION_FAILED)).toBe(true);
    }
  });
});
