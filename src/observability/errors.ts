import { defineErrorCode } from '../errors/index.js';

export const ObservabilityErrors = {
  LOG_FILE_UNAVAILABLE: defineErrorCode(
    'LOG_FILE_UNAVAILABLE',
    'InvalidGivenCurrentSystemStateOther',
    'The log file or its directory cannot be created or opened for appending.',
    "Check that the directory of monitoring.logging.file exists or can be created and that the node's user may write to it.",
  ),
  HEALTH_SERVER_BIND_FAILED: defineErrorCode(
    'HEALTH_SERVER_BIND_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The health/metrics HTTP server cannot listen on the configured address and port (in use or not local).',
    "Choose a free port (or 0) for monitoring.http-server.port, or stop the process holding it; the address must be one of this host's.",
  ),
  LOG_READ_FAILED: defineErrorCode(
    'LOG_READ_FAILED',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'A log file given to weft logs cannot be opened for reading.',
    'Check the path (with rotation, the files are <name>.<n>.log) and that the user may read it.',
  ),
} as const;
