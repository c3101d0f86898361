import { isLowerHex } from './text.js';

/**
 * A contract id, as its lowercase hex bytes split into the version, the locally derived part (V1: 32-byte
 * discriminator; V2: 5-byte time prefix + 7-byte seed part) and the suffix the synchronizer adds (empty while the
 * contract is local to the transaction being built). Hex of equal-width bytes orders like the bytes themselves.
 */
export interface ContractId {
  /** The whole id, lowercase hex (what Daml calls `coid`). */
  readonly coid: string;
  readonly version: 1 | 2;
  readonly local: string;
  readonly suffix: string;
}

const V1_LOCAL_HEX = 64;
const V1_MAX_SUFFIX_HEX = 94 * 2;
const V2_LOCAL_HEX = 24;
const V2_MAX_SUFFIX_HEX = 33 * 2;

/** Parses a hex contract id (V1 `00…` or V2 `01…`); undefined if malformed. */
export function parseContractId(coid: string): ContractId | undefined {
  if (!isLowerHex(coid)) return undefined;
  const prefix = coid.slice(0, 2);
  if (
    prefix === '00' &&
    coid.length >= 2 + V1_LOCAL_HEX &&
    coid.length <= 2 + V1_LOCAL_HEX + V1_MAX_SUFFIX_HEX
  ) {
    return { coid, version: 1, local: coid.slice(2, 2 + V1_LOCAL_HEX), suffix: coid.slice(2 + V1_LOCAL_HEX) };
  }
  if (
    prefix === '01' &&
    coid.length >= 2 + V2_LOCAL_HEX &&
    coid.length <= 2 + V2_LOCAL_HEX + V2_MAX_SUFFIX_HEX
  ) {
    return { coid, version: 2, local: coid.slice(2, 2 + V2_LOCAL_HEX), suffix: coid.slice(2 + V2_LOCAL_HEX) };
  }
  return undefined;
}

/** Local: not yet suffixed (created in the current transaction). */
export function isLocalContractId(cid: ContractId): boolean {
  return cid.suffix === '';
}

/** V1: any suffix; V2: a suffix whose first byte has its top bit set (relative suffixes have it clear). */
export function isAbsoluteContractId(cid: ContractId): boolean {
  if (cid.suffix === '') return false;
  return cid.version === 1 || Number.parseInt(cid.suffix.slice(0, 2), 16) >= 0x80;
}
