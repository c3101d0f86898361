import { defineErrorCode } from '../errors/index.js';

export const ObservabilityErrors = {
  LOG_FILE_UNAVAILABLE: defineErrorCode(
    'LOG_FILE_UNAVAILABLE',
    'InvalidGivenCurrentSystemStateOther',
    'The log file or its directory cannot be created or opened for appending; check the path and permissions.',
  ),
  HEALTH_SERVER_BIND_FAILED: defineErrorCode(
    'HEALTH_SERVER_BIND_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The health/metrics HTTP server cannot listen on the configured address and port (in use or not local).',
  ),
} as const;
