import { defineErrorCode } from '../errors/index.js';

/** Errors of the mediator node itself; the reasons in its verdicts are in `ProtocolErrors`. */
export const MediatorErrors = {
  MEDIATOR_TOPOLOGY_UNINITIALIZED: defineErrorCode(
    'MEDIATOR_TOPOLOGY_UNINITIALIZED',
    'InvalidGivenCurrentSystemStateOther',
    "The mediator's topology store is empty: initialise it with the synchronizer's genesis or an onboarding snapshot before starting the mediator.",
  ),
  MEDIATOR_FAILED: defineErrorCode(
    'MEDIATOR_FAILED',
    'SystemInternalAssumptionViolated',
    'The mediator stopped processing after an internal failure (e.g. its database); restart it: it resumes from its last persisted state.',
  ),
} as const;
