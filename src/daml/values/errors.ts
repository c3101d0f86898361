import { defineErrorCode, WeftError } from '../../errors/index.js';

/** Error codes of the Daml value model, the builtins and the interpreter. */
export const DamlRuntimeErrors = {
  DAML_INTERPRETATION_ERROR: defineErrorCode(
    'DAML_INTERPRETATION_ERROR',
    'InvalidGivenCurrentSystemStateOther',
    'Daml code failed at run time: an `error` call, `failWithStatus`, an unhandled exception, a failed precondition, an invalid comparison or a ledger check.',
    'Read the Daml error in the message (the failing template, choice or precondition) and change the command or the model.',
  ),
  DAML_STEP_BUDGET_EXCEEDED: defineErrorCode(
    'DAML_STEP_BUDGET_EXCEEDED',
    'InvalidGivenCurrentSystemStateOther',
    'Daml evaluation used more machine steps than its configured budget; the computation is too long or does not terminate.',
    'Change the command or the model so that it does less work, or so that it terminates.',
  ),
  DAML_INTERPRETER_CRASH: defineErrorCode(
    'DAML_INTERPRETER_CRASH',
    'SystemInternalAssumptionViolated',
    'The interpreter met an ill-typed program or a reference to a missing definition; the package set is inconsistent.',
    'Re-upload the package set with all dependencies (weft dar inspect checks a DAR); if it persists, report it with the DAR.',
  ),
} as const;

/** Canton's numeric ids of the two failure categories Daml code may raise with `failWithStatus`. */
export const FAILURE_CATEGORY_IDS = {
  InvalidIndependentOfSystemState: 8,
  InvalidGivenCurrentSystemStateOther: 9,
} as const;

/** What went wrong, in the shape of Daml's `interpretation.Error` (the subset LF 2.1/2.2 can raise). */
export type DamlErrorDetail =
  | { readonly kind: 'UserError'; readonly message: string }
  /** `failWithStatus`, and unhandled exceptions (`errorId` = `UNHANDLED_EXCEPTION/Module:Name`). */
  | {
      readonly kind: 'FailureStatus';
      readonly errorId: string;
      readonly categoryId: number;
      readonly message: string;
      readonly metadata: ReadonlyMap<string, string>;
    }
  | { readonly kind: 'ContractIdComparability'; readonly contractId: string }
  | { readonly kind: 'NonComparableValues' }
  | {
      readonly kind: 'Crypto';
      readonly reason: 'MalformedByteEncoding' | 'MalformedKey' | 'MalformedSignature';
      readonly value: string;
      readonly cause: string;
    }
  | { readonly kind: 'TemplatePreconditionViolated'; readonly templateId: string }
  | {
      readonly kind: 'WronglyTypedContract';
      readonly contractId: string;
      readonly expected: string;
      readonly actual: string;
    }
  | {
      readonly kind: 'ContractDoesNotImplementInterface';
      readonly contractId: string;
      readonly interfaceId: string;
      readonly templateId: string;
    }
  | {
      readonly kind: 'ContractDoesNotImplementRequiringInterface';
      readonly contractId: string;
      readonly requiredInterfaceId: string;
      readonly requiringInterfaceId: string;
      readonly templateId: string;
    }
  /**
   * A contract read through another version of its package name (smart-contract upgrades) does not fit the
   * target version's type: a set field the target lacks, a constructor it does not have.
   */
  | { readonly kind: 'Upgrade'; readonly contractId: string; readonly message: string }
  /** Raised by the ledger host (contract archived, unknown, authorization failure…). */
  | { readonly kind: 'Ledger'; readonly reason: string; readonly message: string };

/** A Daml run-time failure that Daml code cannot catch (everything except thrown exceptions). */
export class DamlInterpretationError extends WeftError {
  readonly detail: DamlErrorDetail;

  constructor(detail: DamlErrorDetail, message: string) {
    super(DamlRuntimeErrors.DAML_INTERPRETATION_ERROR, message, { kind: detail.kind });
    this.detail = detail;
  }
}

/** A broken invariant of the program (ill-typed code, missing definition): a bug in the packages or in Weft. */
export function crash(message: string): never {
  throw new WeftError(DamlRuntimeErrors.DAML_INTERPRETER_CRASH, message);
}

export function interpretationError(detail: DamlErrorDetail, message: string): never {
  throw new DamlInterpretationError(detail, message);
}
