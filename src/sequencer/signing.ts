import {
  CryptoErrors,
  defineHashPurpose,
  Hash,
  type HashPurpose,
  HashPurpose as Purposes,
  type SigningPrivateKey,
  type SigningPublicKey,
} from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import type { SignedContent } from '../generated/weft/sequencer/v1/sequencing.js';

/**
 * What each signed message of the sequencer protocol is signed for; a signature never verifies as another. A member
 * signs the batch of requests it sends in one call, not each request (Canton's SubmissionRequestSignature), hence a
 * purpose of Weft's own.
 */
export const SignaturePurpose = {
  submissionBatch: defineHashPurpose(1003, 'SubmissionRequestBatchSignature'),
  acknowledgement: Purposes.AcknowledgementSignature,
} as const;

/** Signs the hash (multihash bytes) of `content` with `purpose`, keeping `content` exactly as given. */
export function signContent(
  key: SigningPrivateKey,
  purpose: HashPurpose,
  content: Uint8Array,
): SignedContent {
  return {
    content,
    signature: key.sign(Hash.digest(purpose, content).toMultihash()),
    signedBy: key.publicKey.fingerprint.value,
  };
}

/**
 * Verifies `signed` under the key among `keys` that it names; throws SIGNATURE_INVALID naming `what` when the key
 * is not among them or the signature does not verify.
 */
export function verifyContent(
  signed: SignedContent,
  purpose: HashPurpose,
  keys: readonly SigningPublicKey[],
  what: string,
): void {
  const key = keys.find((k) => k.fingerprint.value === signed.signedBy);
  if (!key) {
    throw new WeftError(
      CryptoErrors.SIGNATURE_INVALID,
      `${what} is signed by key ${signed.signedBy || '(none)'}, which is not a current signing key (${
        keys.map((k) => k.fingerprint.value).join(', ') || 'no keys registered'
      })`,
    );
  }
  key.verifyOrThrow(Hash.digest(purpose, signed.content).toMultihash(), signed.signature, what);
}

/**
 * What a member signs to authenticate: the challenge nonce bound to the synchronizer, the sequencer (so that one
 * sequencer cannot relay another's challenge) and the member.
 */
export function authenticationHash(
  nonce: Uint8Array,
  synchronizerId: string,
  sequencerId: string,
  member: string,
): Uint8Array {
  return Hash.build(Purposes.AuthenticationToken)
    .addBytes(nonce)
    .addString(synchronizerId)
    .addString(sequencerId)
    .addString(member)
    .finish()
    .toMultihash();
}
