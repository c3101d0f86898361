import { Hash, type SigningPrivateKey, type SigningPublicKey } from '../crypto/index.js';
import type { Signature } from '../generated/weft/protocol/v1/confirmation_request.js';
import { ConfirmationResponses } from '../generated/weft/protocol/v1/confirmation_response.js';
import { ConfirmationResultMessage } from '../generated/weft/protocol/v1/confirmation_result.js';
import type { SignedProtocolMessage } from '../generated/weft/protocol/v1/protocol_message.js';
import { signContent, verifyContent } from '../sequencer/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { decodeStrict } from './codec.js';
import { ProtocolHashPurpose } from './purposes.js';

/**
 * Signing and opening the signed messages of the confirmation protocol. A signature covers the purpose-tagged hash
 * of the exact bytes carried; `open*` decodes those same bytes, so what is checked is what is read.
 */

function rootHashDigest(rootHash: Hash): Uint8Array {
  return Hash.build(ProtocolHashPurpose.RootHashSignature)
    .addRaw(rootHash.toMultihash())
    .finish()
    .toMultihash();
}

/** The submitting participant's signature of a request's root hash, for its InformeeMessage. */
export function signRootHash(key: SigningPrivateKey, rootHash: Hash): Signature {
  return { signature: key.sign(rootHashDigest(rootHash)), signedBy: key.publicKey.fingerprint.value };
}

/** Throws SIGNATURE_INVALID unless `signature` is by one of `keys` over `rootHash`. */
export function verifyRootHashSignature(
  signature: Signature,
  rootHash: Hash,
  keys: readonly SigningPublicKey[],
  what: string,
): void {
  verifyContent(
    { content: rootHash.toMultihash(), signature: signature.signature, signedBy: signature.signedBy },
    ProtocolHashPurpose.RootHashSignature,
    keys,
    what,
  );
}

/** Encodes and signs a participant's responses (Phase 4). */
export function signConfirmationResponses(
  key: SigningPrivateKey,
  responses: ConfirmationResponses,
): SignedProtocolMessage {
  return signContent(
    key,
    ProtocolHashPurpose.ConfirmationResponsesSignature,
    ConfirmationResponses.toBinary(responses, FAST_WRITE_OPTIONS),
  );
}

/** Decodes signed responses without checking the signature (the signer's keys depend on the decoded sender). */
export function decodeConfirmationResponses(signed: SignedProtocolMessage): ConfirmationResponses {
  return decodeStrict(ConfirmationResponses, signed.content, 'confirmation responses');
}

/** Throws SIGNATURE_INVALID unless the responses are signed by one of the sender's `keys`. */
export function verifyConfirmationResponses(
  signed: SignedProtocolMessage,
  keys: readonly SigningPublicKey[],
  what: string,
): void {
  verifyContent(signed, ProtocolHashPurpose.ConfirmationResponsesSignature, keys, what);
}

/** Encodes and signs a mediator's verdict (Phase 6). */
export function signConfirmationResult(
  key: SigningPrivateKey,
  result: ConfirmationResultMessage,
): SignedProtocolMessage {
  return signContent(
    key,
    ProtocolHashPurpose.ConfirmationResultSignature,
    ConfirmationResultMessage.toBinary(result, FAST_WRITE_OPTIONS),
  );
}

/**
 * Verifies a verdict's signature against the mediators' `keys` and decodes it; throws SIGNATURE_INVALID or
 * PROTOCOL_MESSAGE_MALFORMED.
 */
export function openConfirmationResult(
  signed: SignedProtocolMessage,
  keys: readonly SigningPublicKey[],
): ConfirmationResultMessage {
  verifyContent(signed, ProtocolHashPurpose.ConfirmationResultSignature, keys, 'confirmation result');
  return decodeStrict(ConfirmationResultMessage, signed.content, 'confirmation result');
}
