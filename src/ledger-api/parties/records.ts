import { WeftError } from '../../errors/index.js';
import type { Migration, Queryable, Storage } from '../../storage/index.js';
import {
  annotationsBytes,
  MAX_ANNOTATIONS_BYTES,
  mergeAnnotations,
  validateAnnotations,
} from '../users/model.js';
import { PartyManagementErrors } from './errors.js';

/**
 * Participant-local data about parties (Canton's party records): the identity provider a party belongs to here and
 * its annotations. The party itself lives in the topology state; a record exists once something local was set.
 */
export const PARTY_RECORD_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'party records',
    up: [
      `CREATE TABLE ledger_api_party_records (
         party TEXT PRIMARY KEY NOT NULL,
         identity_provider_id TEXT NOT NULL,
         annotations TEXT NOT NULL,
         resource_version BIGINT NOT NULL
       )`,
    ],
  },
];

export interface PartyRecord {
  readonly party: string;
  /** '' for the participant's default identity provider. */
  readonly identityProviderId: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** Changes with every update (Canton's `resource_version`, opaque to clients). */
  readonly resourceVersion: string;
}

function checkSize(party: string, annotations: Readonly<Record<string, string>>): void {
  const bytes = annotationsBytes(annotations);
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    throw new WeftError(
      PartyManagementErrors.MAX_PARTY_DETAILS_ANNOTATIONS_SIZE_EXCEEDED,
      `the annotations of party ${party} would take ${bytes} bytes, more than ${MAX_ANNOTATIONS_BYTES}`,
      { party },
    );
  }
}

interface RawRecord {
  party: string;
  identity_provider_id: string;
  annotations: string;
  resource_version: bigint;
}

const recordOf = (r: RawRecord): PartyRecord => ({
  party: r.party,
  identityProviderId: r.identity_provider_id,
  annotations: JSON.parse(r.annotations) as Record<string, string>,
  resourceVersion: String(r.resource_version),
});

/** Parties per query: far below the bind-parameter limits of SQLite and PostgreSQL. */
const CHUNK = 500;

/** The party records in the participant's storage (table `ledger_api_party_records`). */
export class PartyRecords {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<PartyRecords> {
    await storage.migrate('ledger_api_parties', PARTY_RECORD_MIGRATIONS);
    return new PartyRecords(storage);
  }

  /** The records of those of `parties` that have one. */
  async get(parties: readonly string[]): Promise<Map<string, PartyRecord>> {
    const out = new Map<string, PartyRecord>();
    for (let i = 0; i < parties.length; i += CHUNK) {
      const chunk = parties.slice(i, i + CHUNK);
      const rows = await this.storage.query<RawRecord>(
        `SELECT * FROM ledger_api_party_records WHERE party IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
        chunk,
      );
      for (const r of rows) out.set(r.party, recordOf(r));
    }
    return out;
  }

  /**
   * Sets a party's record: its identity provider, and its annotations merged into the existing ones (an empty value
   * removes a key). With `resourceVersion`, fails with CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED unless the record
   * is still at that version (a party without a record is at version '').
   */
  async update(
    party: string,
    change: {
      readonly identityProviderId?: string;
      readonly annotations?: Readonly<Record<string, string>>;
      readonly resourceVersion?: string;
    },
  ): Promise<PartyRecord> {
    validateAnnotations(change.annotations ?? {}, true, 'local_metadata.annotations');
    return this.storage.transaction(async (tx) => {
      const current = await this.#read(tx, party);
      if (
        change.resourceVersion !== undefined &&
        change.resourceVersion !== (current?.resourceVersion ?? '')
      ) {
        throw new WeftError(
          PartyManagementErrors.CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED,
          `party ${party} is at resource version ${current?.resourceVersion || '(none)'}, not ${change.resourceVersion}`,
          { party },
        );
      }
      const annotations = mergeAnnotations(current?.annotations ?? {}, change.annotations ?? {});
      checkSize(party, annotations);
      const next = {
        party,
        identityProviderId: change.identityProviderId ?? current?.identityProviderId ?? '',
        annotations,
        resourceVersion: String(BigInt(current?.resourceVersion ?? '0') + 1n),
      };
      const params = [
        party,
        next.identityProviderId,
        JSON.stringify(annotations),
        BigInt(next.resourceVersion),
      ];
      // The version in the WHERE clause makes a concurrent writer on the same storage lose rather than overwrite.
      const written = current
        ? await tx.execute(
            `UPDATE ledger_api_party_records SET identity_provider_id = $2, annotations = $3, resource_version = $4
             WHERE party = $1 AND resource_version = $5`,
            [...params, BigInt(current.resourceVersion)],
          )
        : await tx.insertMany(
            'ledger_api_party_records',
            ['party', 'identity_provider_id', 'annotations', 'resource_version'],
            [params],
            { onConflict: 'ignore' },
          );
      if (written !== 1) {
        throw new WeftError(
          PartyManagementErrors.CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED,
          `party ${party} was updated concurrently`,
          { party },
        );
      }
      return next;
    });
  }

  async #read(tx: Queryable, party: string): Promise<PartyRecord | undefined> {
    const r = await tx.queryOne<RawRecord>('SELECT * FROM ledger_api_party_records WHERE party = $1', [
      party,
    ]);
    return r && recordOf(r);
  }
}
