/** Participant-local party data of the Ledger API: party records (identity provider, annotations). */
export { PartyManagementErrors } from './errors.js';
export { type PartyRecord, PartyRecords } from './records.js';
