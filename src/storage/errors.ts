import { defineErrorCode } from '../errors/index.js';

/** Errors of the storage layer, mapped identically from SQLite and PostgreSQL. */
export const StorageErrors = {
  STORAGE_UNAVAILABLE: defineErrorCode(
    'STORAGE_UNAVAILABLE',
    'TransientServerFailure',
    'The database cannot be reached or opened (connection refused or lost, file not accessible, disk full, storage closed).',
    'Check the storage configuration (URL, credentials, file path), that the database is up and the disk has space; the node retries or can be restarted.',
  ),
  STORAGE_CONTENTION: defineErrorCode(
    'STORAGE_CONTENTION',
    'ContentionOnSharedResources',
    'The database stayed locked by another writer beyond the busy timeout, or a deadlock or serialization conflict aborted the transaction.',
    'Retry; if it persists, look for another process holding the database, such as a second node on one SQLite file.',
  ),
  STORAGE_CONSTRAINT_VIOLATION: defineErrorCode(
    'STORAGE_CONSTRAINT_VIOLATION',
    'InvalidGivenCurrentSystemStateResourceExists',
    'A row with the same primary key or unique key exists already.',
    "If you created the row, nothing to do; otherwise the node's state is inconsistent: report it with the log.",
  ),
  STORAGE_QUERY_FAILED: defineErrorCode(
    'STORAGE_QUERY_FAILED',
    'SystemInternalAssumptionViolated',
    'The database rejected a statement (syntax, types, NOT NULL, CHECK or foreign key) or the storage API was used wrongly; this is a bug.',
    "Report it with the node's log; check that no one altered the node's tables by hand.",
  ),
  MIGRATION_FAILED: defineErrorCode(
    'MIGRATION_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The database schema cannot be brought to the version this Weft expects (a migration failed, was changed after it was applied, or the database is newer).',
    'Run the Weft version that wrote the database (or newer), restore a changed migration, or point the node at a fresh schema; never edit applied migrations.',
  ),
} as const;
