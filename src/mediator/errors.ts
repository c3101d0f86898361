import { defineErrorCode } from '../errors/index.js';

/** Errors of the mediator node itself; the reasons in its verdicts are in `ProtocolErrors`. */
export const MediatorErrors = {
  MEDIATOR_TOPOLOGY_UNINITIALIZED: defineErrorCode(
    'MEDIATOR_TOPOLOGY_UNINITIALIZED',
    'InvalidGivenCurrentSystemStateOther',
    "The mediator's topology store is empty: it has neither the synchronizer's genesis nor an onboarding snapshot.",
    "Onboard the mediator (weft admin mediators add against the owner's sequencer node, or name it at bootstrap) before it processes requests.",
  ),
  MEDIATOR_FAILED: defineErrorCode(
    'MEDIATOR_FAILED',
    'SystemInternalAssumptionViolated',
    'The mediator stopped processing after an internal failure (e.g. its database).',
    'Restart the mediator: it resumes from its last persisted state. If it fails again, check its database and log.',
  ),
} as const;
