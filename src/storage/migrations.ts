import { createHash } from 'node:crypto';
import { WeftError } from '../errors/index.js';
import type { Clock } from '../time/index.js';
import type { Driver } from './driver.js';
import { StorageErrors } from './errors.js';
import { inTransaction } from './executor.js';
import type { Migration, MigrationResult } from './types.js';

const TABLE = `CREATE TABLE IF NOT EXISTS weft_schema_migrations (
  component TEXT NOT NULL,
  version BIGINT NOT NULL,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  PRIMARY KEY (component, version)
)`;

const COMPONENT = /^[a-z][a-z0-9_]*$/;

interface Applied {
  readonly version: bigint;
  readonly name: string;
  readonly checksum: string;
}

function failed(message: string, component: string, cause?: unknown): WeftError {
  return new WeftError(StorageErrors.MIGRATION_FAILED, message, { component }, { cause });
}

/** The statements of a SQL migration; `undefined` for a code step. */
function statementsOf(m: Migration): readonly string[] | undefined {
  if (typeof m.up === 'function') return undefined;
  return typeof m.up === 'string' ? [m.up] : m.up;
}

/**
 * Over the name and the exact statement texts: any edit of an applied SQL migration is caught, even whitespace. A
 * code step is checked by its name alone (a function's source text changes with builds and refactorings).
 */
function checksum(m: Migration): string {
  return createHash('sha256')
    .update(JSON.stringify([m.name, statementsOf(m) ?? 'code']))
    .digest('hex');
}

function validate(component: string, migrations: readonly Migration[]): void {
  if (!COMPONENT.test(component)) {
    throw failed(`component name '${component}' must be a lowercase identifier`, component);
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw failed(
        `migrations of ${component} must be numbered 1, 2, 3… in order; found ${m.version} at position ${i + 1}`,
        component,
      );
    }
    if (m.name.trim() === '' || statementsOf(m)?.length === 0) {
      throw failed(
        `migration ${component} v${m.version} needs a name and at least one statement or code`,
        component,
      );
    }
  });
}

/** Checks what the database holds against the migrations this code knows, before anything is applied. */
function verify(
  component: string,
  migrations: readonly Migration[],
  sums: readonly string[],
  applied: Applied[],
): void {
  applied.forEach((row, i) => {
    const version = Number(row.version);
    if (version > migrations.length) {
      throw failed(
        `the database has ${component} schema version ${applied.at(-1)?.version}, newer than version ${migrations.length} this Weft knows; run the Weft version that wrote it, or restore a matching backup`,
        component,
      );
    }
    if (version !== i + 1) {
      throw failed(
        `the database lacks ${component} migration v${i + 1} but has v${version}; restore a consistent backup`,
        component,
      );
    }
    if (row.checksum !== sums[i]) {
      throw failed(
        `migration ${component} v${version} ('${row.name}' when applied) was changed after it was applied; restore its original text and put the change in a new version`,
        component,
      );
    }
  });
}

/**
 * Applies the missing migrations of `component` in order, each in its own transaction together with its row in
 * weft_schema_migrations. Safe to run from several processes at once: PostgreSQL serialises them on an advisory
 * lock, SQLite on its write lock, and each step re-reads what is applied inside its transaction.
 */
export async function migrate(
  driver: Driver,
  component: string,
  migrations: readonly Migration[],
  clock: Clock,
): Promise<MigrationResult> {
  validate(component, migrations);
  const sums = migrations.map(checksum);
  return driver.withConnection((connection) =>
    driver.withMigrationLock(connection, async () => {
      await connection.script(TABLE);
      const applied: number[] = [];
      for (;;) {
        const version = await inTransaction(driver, connection, async (tx) => {
          const rows = await tx.query<Applied>(
            'SELECT version, name, checksum FROM weft_schema_migrations WHERE component = $1 ORDER BY version',
            [component],
          );
          verify(component, migrations, sums, rows);
          const next = migrations[rows.length];
          if (next === undefined) return undefined;
          try {
            if (typeof next.up === 'function') await next.up(tx);
            else for (const sql of statementsOf(next) ?? []) await tx.script(sql);
          } catch (e) {
            if (e instanceof WeftError && e.category === 'TransientServerFailure') throw e;
            const reason = e instanceof Error ? e.message : String(e);
            throw failed(
              `migration ${component} v${next.version} (${next.name}) failed and was rolled back: ${reason}`,
              component,
              e,
            );
          }
          await tx.execute(
            'INSERT INTO weft_schema_migrations (component, version, name, applied_at, checksum) VALUES ($1, $2, $3, $4, $5)',
            [component, next.version, next.name, clock.now(), sums[rows.length]!],
          );
          return next.version;
        });
        if (version === undefined) return { applied, version: migrations.length };
        applied.push(version);
      }
    }),
  );
}
