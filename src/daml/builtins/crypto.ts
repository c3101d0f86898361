import { createHash } from 'node:crypto';
import { DER } from '@noble/curves/abstract/weierstrass';
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { interpretationError } from '../values/errors.js';
import { bytesToHex, hexToBytes, isLowerHex, utf8Decode, utf8Encode } from '../values/text.js';

/**
 * The hashing, hex and secp256k1 builtins. Inputs are lowercase hex (Daml's HexString; empty allowed); anything
 * else is a `MalformedByteEncoding` crypto error. Public keys are DER `SubjectPublicKeyInfo` (X.509), signatures DER
 * ECDSA, verified over the message bytes as given (Java's `NONEwithECDSA`), with no low-S requirement.
 */

function decodeHex(value: string, cause: string): Uint8Array {
  if (!isLowerHex(value)) {
    return interpretationError(
      { kind: 'Crypto', reason: 'MalformedByteEncoding', value, cause },
      `malformed byte encoding: ${cause}`,
    );
  }
  return hexToBytes(value);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256Text(s: string): string {
  return sha256(utf8Encode(s));
}

export function sha256Hex(hex: string): string {
  return sha256(decodeHex(hex, 'can not parse hex string'));
}

export function keccak256Hex(hex: string): string {
  return bytesToHex(keccak_256(decodeHex(hex, 'can not parse hex string')));
}

export function hexToText(hex: string): string {
  return utf8Decode(decodeHex(hex, 'can not parse hex string argument'));
}

export function textToHex(s: string): string {
  return bytesToHex(utf8Encode(s));
}

// ---------------------------------------------------------------------------------------------------------------
// secp256k1

const OID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1
const OID_SECP256K1 = '2b8104000a'; // 1.3.132.0.10

interface Tlv {
  readonly tag: number;
  readonly body: Uint8Array;
  readonly end: number;
}

/** Reads one DER tag-length-value at `pos` (definite lengths only). */
function readTlv(bytes: Uint8Array, pos: number): Tlv {
  if (pos + 2 > bytes.length) throw new Error('truncated DER');
  const tag = bytes[pos]!;
  let len = bytes[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > bytes.length) throw new Error('invalid DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i]!;
    start += n;
  }
  if (start + len > bytes.length) throw new Error('truncated DER');
  return { tag, body: bytes.subarray(start, start + len), end: start + len };
}

function malformedKey(value: string, cause: string): never {
  return interpretationError(
    { kind: 'Crypto', reason: 'MalformedKey', value, cause },
    `malformed key: ${cause}`,
  );
}

/** The EC point of a DER `SubjectPublicKeyInfo` for secp256k1, or why it is not one (in Java's words). */
function parseSpki(bytes: Uint8Array): Uint8Array | string {
  let keyType: Tlv;
  let curve: Tlv;
  let bitString: Tlv;
  try {
    const spki = readTlv(bytes, 0);
    if (spki.tag !== 0x30 || spki.end !== bytes.length) throw new Error('not a DER sequence');
    const algorithm = readTlv(spki.body, 0);
    bitString = readTlv(spki.body, algorithm.end);
    if (algorithm.tag !== 0x30 || bitString.tag !== 0x03 || bitString.end !== spki.body.length) {
      throw new Error('not a SubjectPublicKeyInfo');
    }
    keyType = readTlv(algorithm.body, 0);
    curve = readTlv(algorithm.body, keyType.end);
  } catch (e) {
    return `java.security.spec.InvalidKeySpecException: ${(e as Error).message}`;
  }
  if (keyType.tag !== 0x06 || bytesToHex(keyType.body) !== OID_EC_PUBLIC_KEY) {
    return 'java.security.InvalidKeyException: not an EC public key';
  }
  if (curve.tag !== 0x06 || bytesToHex(curve.body) !== OID_SECP256K1) {
    return 'java.security.InvalidKeyException: the key is not on curve secp256k1';
  }
  if (bitString.body[0] !== 0) return 'java.security.spec.InvalidKeySpecException: unused bits in the key';
  return bitString.body.subarray(1);
}

/** Decodes a DER `SubjectPublicKeyInfo` holding a secp256k1 point; the point must lie on the curve. */
function decodePublicKey(hex: string) {
  const parsed = parseSpki(decodeHex(hex, 'can not parse DER encoded public key hex string'));
  if (typeof parsed === 'string') return malformedKey(hex, parsed);
  try {
    return secp256k1.Point.fromBytes(parsed);
  } catch {
    return malformedKey(hex, 'java.security.spec.InvalidKeySpecException: invalid point encoding');
  }
}

const N = secp256k1.Point.Fn.ORDER;

/** `SECP256K1_WITH_ECDSA_BOOL`: verifies a DER signature over the (already hashed) message bytes. */
export function secp256k1VerifyDigest(
  signatureHex: string,
  messageHex: string,
  publicKeyHex: string,
): boolean {
  const signature = decodeHex(signatureHex, 'can not parse signature hex string');
  const message = decodeHex(messageHex, 'can not parse message hex string');
  const publicKey = decodePublicKey(publicKeyHex);
  let r: bigint;
  let s: bigint;
  try {
    ({ r, s } = DER.toSig(signature));
  } catch {
    return interpretationError(
      {
        kind: 'Crypto',
        reason: 'MalformedSignature',
        value: signatureHex,
        cause: 'error decoding signature bytes.',
      },
      'malformed signature: error decoding signature bytes.',
    );
  }
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const compact = new Uint8Array(64);
  compact.set(secp256k1.Point.Fn.toBytes(r), 0);
  compact.set(secp256k1.Point.Fn.toBytes(s), 32);
  // ECDSA reads the leftmost bits of the message up to the order's size: longer messages are truncated.
  return secp256k1.verify(compact, message.subarray(0, 32), publicKey.toBytes(false), {
    prehash: false,
    lowS: false,
    format: 'compact',
  });
}

/** `SECP256K1_BOOL`: as above, over the SHA-256 of the message bytes. */
export function secp256k1VerifyMessage(
  signatureHex: string,
  messageHex: string,
  publicKeyHex: string,
): boolean {
  const digest = sha256(decodeHex(messageHex, 'can not parse message hex string'));
  return secp256k1VerifyDigest(signatureHex, digest, publicKeyHex);
}

/** `SECP256K1_VALIDATE_KEY`: whether the DER key is a valid secp256k1 point (decoding already rejects others). */
export function secp256k1ValidateKey(publicKeyHex: string): boolean {
  const point = decodePublicKey(publicKeyHex);
  point.assertValidity();
  return !point.equals(secp256k1.Point.ZERO);
}
