import { defineErrorCode } from '../errors/index.js';

/** Errors of the Ledger API server itself (transport, limits, configuration); each service has its own. */
export const LedgerApiErrors = {
  MAXIMUM_NUMBER_OF_STREAMS: defineErrorCode(
    'MAXIMUM_NUMBER_OF_STREAMS',
    'ContentionOnSharedResources',
    'The Ledger API serves as many streams as its limit (ledger-api.max-streams) allows; the new one was refused.',
    'Retry later with backoff, close streams the application no longer reads, or raise ledger-api.max-streams.',
  ),
  SERVICE_NOT_RUNNING: defineErrorCode(
    'SERVICE_NOT_RUNNING',
    'TransientServerFailure',
    'The Ledger API is shutting down (the participant stops): the call or stream was ended.',
    'Retry against the participant once it is back; a stream resumes from the offset of the last update it delivered.',
  ),
  LEDGER_API_AUTH_REQUIRED: defineErrorCode(
    'LEDGER_API_AUTH_REQUIRED',
    'InvalidIndependentOfSystemState',
    'The Ledger API is configured on a non-loopback address without authorization: anyone who can reach it could act as any party.',
    'Configure ledger-api.auth-services (a JWT verifier), or bind ledger-api.address to a loopback address.',
  ),
} as const;
