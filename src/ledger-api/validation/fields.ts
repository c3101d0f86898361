import { WeftError } from '../../errors/index.js';
import { PartyId } from '../../identity/index.js';
import { RequestValidationErrors } from './errors.js';

/** A mandatory field is unset (Canton: `The submitted command is missing a mandatory field: <name>`). */
export function missingField(field: string): WeftError {
  return new WeftError(
    RequestValidationErrors.MISSING_FIELD,
    `The submitted command is missing a mandatory field: ${field}`,
    { field_name: field },
  );
}

/** A field holds an invalid value. */
export function invalidField(field: string, message: string): WeftError {
  return new WeftError(
    RequestValidationErrors.INVALID_FIELD,
    `The submitted command has a field with invalid value: Invalid field ${field}: ${message}`,
    { field_name: field },
  );
}

/** A party id field: `hint::fingerprint` as Canton's `PartyId` (INVALID_FIELD naming the field otherwise). */
export function requireParty(party: string, field: string): string {
  if (party === '') throw missingField(field);
  try {
    PartyId.parse(party);
  } catch (e) {
    throw invalidField(field, e instanceof Error ? e.message : String(e));
  }
  return party;
}

/** An offset that may be 0 (the ledger begin): `begin_exclusive`. */
export function requireNonNegativeOffset(offset: bigint, field: string): bigint {
  if (offset < 0n) {
    throw new WeftError(
      RequestValidationErrors.NEGATIVE_OFFSET,
      `Offset ${offset} in ${field} is a negative integer: the offset in ${field} field has to be a non-negative integer (>=0)`,
      { field_name: field, offset_value: offset },
    );
  }
  return offset;
}

/** An offset that must name an update: `end_inclusive`, `offset`. */
export function requirePositiveOffset(offset: bigint, field: string): bigint {
  if (offset <= 0n) {
    throw new WeftError(
      RequestValidationErrors.NON_POSITIVE_OFFSET,
      `Offset ${offset} in ${field} is not a positive integer: the offset has to be a positive integer (>0)`,
      { field_name: field, offset_value: offset },
    );
  }
  return offset;
}

/** Canton's check that a requested offset is not beyond the ledger end (`what` = Begin, End, ACS…). */
export function requireOffsetAtMostEnd(what: string, offset: bigint, ledgerEnd: bigint): void {
  if (offset > ledgerEnd) {
    throw new WeftError(
      RequestValidationErrors.OFFSET_AFTER_LEDGER_END,
      `${what} offset (${offset}) is after ledger end (${ledgerEnd})`,
      { offset_type: what, requested_offset: offset, ledger_end: ledgerEnd },
    );
  }
}
