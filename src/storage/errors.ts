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
  STORAGE_LEASE_HELD: defineErrorCode(
    'STORAGE_LEASE_HELD',
    'InvalidGivenCurrentSystemStateOther',
    "Another live node holds the exclusive lease on this node's storage (a PostgreSQL advisory lock on the schema, or the lock on the SQLite file's .lease companion): two nodes on one storage would act under one identity.",
    'Stop the other node, give this node a storage of its own, or run it as a passive replica of the active one (replication.enabled = true, participants and mediators).',
  ),
  STORAGE_LEASE_LOST: defineErrorCode(
    'STORAGE_LEASE_LOST',
    'TransientServerFailure',
    "The node lost the exclusive lease on its storage (its lock connection dropped, or a replica took over): it refuses further storage access, stops and exits so that it cannot write over the new holder's work.",
    'Let the process supervisor restart the node (it comes back passive if a replica took over); clients retry against the active node. If it recurs, check the network and the database between the node and its storage.',
  ),
  MIGRATION_FAILED: defineErrorCode(
    'MIGRATION_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The database schema cannot be brought to the version this Weft expects (a migration failed, was changed after it was applied, or the database is newer).',
    'Run the Weft version that wrote the database (or newer), restore a changed migration, or point the node at a fresh schema; never edit applied migrations.',
  ),
} as const;
