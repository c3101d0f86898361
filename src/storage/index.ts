export { StorageErrors } from './errors.js';
export {
  GROUP_COMMIT_MAX_DELAY_MS,
  type GroupCommitSettings,
  GroupCommitWindow,
  groupCommitOf,
} from './group-commit.js';
export {
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  type LeaseAttempt,
  type LeaseHeld,
  type LeaseOptions,
  type StorageLease,
  tryAcquireLease,
} from './lease.js';
export { openStorage, storageCounts } from './storage.js';
export {
  DEFAULT_STORAGE_RETRY,
  isTransientStorageError,
  retryTransient,
  type StorageRetryOptions,
  type StorageRetryPolicy,
  storageRetryPolicy,
} from './transient.js';
export type {
  InsertManyOptions,
  Migration,
  MigrationCode,
  MigrationResult,
  PoolStats,
  PostgresConfig,
  Queryable,
  Row,
  SqliteConfig,
  SqlValue,
  Storage,
  StorageConfig,
  StorageKind,
} from './types.js';
