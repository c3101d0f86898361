/** The Ledger API's request validation: Canton's codes and the checks every service shares. */
export { RequestValidationErrors } from './errors.js';
export {
  invalidField,
  missingField,
  requireNonNegativeOffset,
  requireOffsetAtMostEnd,
  requireParty,
  requirePositiveOffset,
} from './fields.js';
