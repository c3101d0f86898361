import { defineErrorCode } from '../errors/index.js';

/** Errors of the storage layer, mapped identically from SQLite and PostgreSQL. */
export const StorageErrors = {
  STORAGE_UNAVAILABLE: defineErrorCode(
    'STORAGE_UNAVAILABLE',
    'TransientServerFailure',
    'The database cannot be reached or opened (connection refused or lost, file not accessible, disk full, storage closed); check the storage configuration and retry.',
  ),
  STORAGE_CONTENTION: defineErrorCode(
    'STORAGE_CONTENTION',
    'ContentionOnSharedResources',
    'The database stayed locked by another writer beyond the busy timeout, or a deadlock or serialization conflict aborted the transaction; retry.',
  ),
  STORAGE_CONSTRAINT_VIOLATION: defineErrorCode(
    'STORAGE_CONSTRAINT_VIOLATION',
    'InvalidGivenCurrentSystemStateResourceExists',
    'A row with the same primary key or unique key exists already.',
  ),
  STORAGE_QUERY_FAILED: defineErrorCode(
    'STORAGE_QUERY_FAILED',
    'SystemInternalAssumptionViolated',
    'The database rejected a statement (syntax, types, NOT NULL, CHECK or foreign key) or the storage API was used wrongly; this is a bug.',
  ),
  MIGRATION_FAILED: defineErrorCode(
    'MIGRATION_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The database schema cannot be brought to the version this Weft expects (a migration failed, was changed after it was applied, or the database is newer).',
  ),
} as const;
