import { WeftError } from '../../errors/index.js';
import { SerializedContract } from '../../generated/weft/protocol/v1/transaction_tree.js';
import { decodeStrict } from '../../protocol/index.js';
import { type MigrationCode, StorageErrors } from '../../storage/index.js';

/** Contracts re-encoded per page: bounds what the migration holds in memory whatever the table's size. */
const PAGE = 500;

/**
 * The framing of stored contracts in databases written before v3 (the participant's former hand-written codec):
 * the creation time as a zig-zag LEB128 64-bit integer, then the engine's canonical encoding of the create node,
 * prefixed by its LEB128 length, up to the end. Only this migration reads it. `undefined` when `bytes` are not in it.
 */
function readPreV3(bytes: Uint8Array): SerializedContract | undefined {
  let pos = 0;
  const varint = (maxBytes: number): bigint | undefined => {
    let value = 0n;
    for (let i = 0; i < maxBytes && pos < bytes.length; i++) {
      const b = bytes[pos++]!;
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return value;
    }
    return undefined;
  };
  const zigzag = varint(10);
  const length = varint(8);
  if (zigzag === undefined || length === undefined || pos + Number(length) !== bytes.length) return undefined;
  return { createdAt: zigzag & 1n ? -((zigzag + 1n) >> 1n) : zigzag >> 1n, createNode: bytes.subarray(pos) };
}

function isSerializedContract(bytes: Uint8Array, createdAt: bigint): boolean {
  try {
    return decodeStrict(SerializedContract, bytes, 'stored contract').createdAt === createdAt;
  } catch {
    return false;
  }
}

/**
 * Migration v3: the stored contracts go from the framing before v3 to the generated `SerializedContract`. Rows are
 * told apart by the creation time each format holds, which must equal the row's `created_at`: a row already in the
 * new format (written by a Weft that had the new codec before this migration) is left alone, and no real create
 * node makes one row pass both checks. A row in neither format fails the migration, which then rolls back whole.
 */
export const reencodeContracts: MigrationCode = async (tx) => {
  let after = '';
  for (;;) {
    const rows = await tx.query<{ contract_id: string; contract: Uint8Array; created_at: bigint }>(
      `SELECT contract_id, contract, created_at FROM participant_contracts WHERE contract_id > $1
       ORDER BY contract_id LIMIT $2`,
      [after, PAGE],
    );
    for (const r of rows) {
      if (isSerializedContract(r.contract, r.created_at)) continue;
      const old = readPreV3(r.contract);
      if (old?.createdAt !== r.created_at) {
        throw new WeftError(
          StorageErrors.MIGRATION_FAILED,
          `stored contract ${r.contract_id} is in neither the framing before v3 nor SerializedContract`,
        );
      }
      await tx.execute('UPDATE participant_contracts SET contract = $1 WHERE contract_id = $2', [
        SerializedContract.toBinary(old),
        r.contract_id,
      ]);
    }
    if (rows.length < PAGE) return;
    after = rows.at(-1)!.contract_id;
  }
};
