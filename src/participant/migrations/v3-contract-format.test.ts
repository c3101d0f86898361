import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../daml/dar/testing.js';
import { loadEngine } from '../../daml/engine/testing.js';
import { type FatContract, showIdentifier, TransactionDecoder } from '../../daml/index.js';
import { isWeftError } from '../../errors/index.js';
import { type Storage, StorageErrors } from '../../storage/index.js';
import { describeBackends } from '../../storage/testing.js';
import { decodeContract, encodeContract } from '../contracts.js';
import { PARTICIPANT_MIGRATIONS, ParticipantStore } from '../store.js';
import { ModelLedger, tokenCommands } from '../testing.js';

const NOW = 1_750_000_000_000_000n;
const admin = 'admin::1220aa';
const alice = 'alice::1220aa';

/** The contracts below as the code before v3 stored them (see the file's `producedBy`). */
const PRE_V3: { contractId: string; contract: string }[] = JSON.parse(
  readFileSync(new URL('pre-v3-contracts.json', import.meta.url), 'utf8'),
).contracts;

let decoder: TransactionDecoder;
/** The token rules and two holdings of alice, the fixture's contracts. */
let contracts: FatContract[];
/** A holding stored by a Weft that had the new codec before v3 existed. */
let written: FatContract;

beforeAll(async () => {
  const engine = loadEngine(TOKEN_DAR);
  decoder = new TransactionDecoder(engine.types);
  const ledger = new ModelLedger(engine, NOW);
  await ledger.submit([admin], [tokenCommands.rules(admin)]);
  for (let i = 0; i < 3; i++)
    await ledger.submit([admin, alice], [tokenCommands.mint(admin, alice, `${i + 1}.0`)]);
  contracts = ledger.contracts.slice(0, 3);
  written = ledger.contracts[3]!;
});

/** A participant database at v2 holding `rows` (contract, stored bytes), created at offset 1. */
async function atV2(storage: Storage, rows: readonly [FatContract, Uint8Array, string?][]): Promise<void> {
  await storage.migrate('participant', PARTICIPANT_MIGRATIONS.slice(0, 2));
  await storage.insertMany(
    'participant_contracts',
    ['contract_id', 'synchronizer_id', 'template_id', 'contract', 'created_at', 'created_offset'],
    rows.map(([c, bytes, id]) => [
      id ?? c.contractId.coid,
      'sync',
      showIdentifier(c.templateId),
      bytes,
      c.createdAt!,
      1n,
    ]),
  );
  await storage.insertMany(
    'participant_contract_parties',
    ['party', 'contract_id', 'stakeholder'],
    rows.flatMap(([c, , id]) => c.stakeholders.map((p) => [p, id ?? c.contractId.coid, true])),
  );
}

const LATEST = PARTICIPANT_MIGRATIONS.at(-1)!.version;

const version = async (storage: Storage) =>
  (await storage.queryOne<{ v: bigint }>(
    "SELECT MAX(version) AS v FROM weft_schema_migrations WHERE component = 'participant'",
  ))!.v;

describeBackends('participant migration v3 (contracts as SerializedContract)', (backend) => {
  it('re-encodes the contracts stored before v3, which the participant then serves', async () => {
    const config = backend.freshConfig();
    const old = await backend.open(config);
    expect(PRE_V3.map((f) => f.contractId)).toEqual(contracts.map((c) => c.contractId.coid));
    await atV2(old, [
      ...contracts.map((c, i): [FatContract, Uint8Array] => [c, Buffer.from(PRE_V3[i]!.contract, 'hex')]),
      [written, encodeContract(written)],
    ]);
    await old.close();

    const storage = await backend.open(config);
    const store = await ParticipantStore.open(storage);
    // v3 and every migration after it.
    expect(await version(storage)).toBe(BigInt(LATEST));
    const ids = [...contracts, written].map((c) => c.contractId.coid);
    const stored = await store.contracts(ids);
    expect(stored.map((s) => decodeContract(s.row.contract, decoder))).toEqual(
      [...contracts, written].sort((a, b) => a.contractId.coid.localeCompare(b.contractId.coid)),
    );
    for (const s of stored) {
      const c = [...contracts, written].find((x) => x.contractId.coid === s.row.contractId)!;
      expect(Buffer.from(s.row.contract)).toEqual(Buffer.from(encodeContract(c)));
    }

    // The contracts the participant serves as alice's active contracts (test parties are not Canton party ids, so
    // this reads the store below ParticipantReads' party check).
    const active = (await store.activeContractsOf(alice, 1n)).map((s) =>
      decodeContract(s.row.contract, decoder),
    );
    expect(active).toEqual(
      [contracts[1]!, contracts[2]!, written].sort((a, b) =>
        a.contractId.coid.localeCompare(b.contractId.coid),
      ),
    );
    // Applied once: a restart finds nothing to do.
    expect(await storage.migrate('participant', PARTICIPANT_MIGRATIONS)).toEqual({
      applied: [],
      version: LATEST,
    });
  });

  it('pages through a table larger than one page', async () => {
    const storage = await backend.open();
    const bytes = Buffer.from(PRE_V3[1]!.contract, 'hex');
    const copies = Array.from({ length: 1_203 }, (_, i): [FatContract, Uint8Array, string] => [
      contracts[1]!,
      bytes,
      `copy-${String(i).padStart(4, '0')}`,
    ]);
    await atV2(storage, copies);
    await ParticipantStore.open(storage);
    const rows = await storage.query<{ contract: Uint8Array }>('SELECT contract FROM participant_contracts');
    expect(rows).toHaveLength(copies.length);
    const expected = Buffer.from(encodeContract(contracts[1]!));
    for (const r of rows) expect(Buffer.from(r.contract)).toEqual(expected);
  });

  it('refuses a row in neither format and leaves the database at v2', async () => {
    const storage = await backend.open();
    const truncated = Buffer.from(PRE_V3[0]!.contract, 'hex').subarray(0, 40);
    await atV2(storage, [
      [contracts[1]!, Buffer.from(PRE_V3[1]!.contract, 'hex')],
      [contracts[0]!, truncated],
    ]);
    const error = await ParticipantStore.open(storage).catch((e) => e);
    expect(isWeftError(error, StorageErrors.MIGRATION_FAILED)).toBe(true);
    expect((error as Error).message).toContain(
      `stored contract ${contracts[0]!.contractId.coid} is in neither the framing before v3`,
    );
    expect(await version(storage)).toBe(2n);
    const row = await storage.queryOne<{ contract: Uint8Array }>(
      'SELECT contract FROM participant_contracts WHERE contract_id = $1',
      [contracts[1]!.contractId.coid],
    );
    expect(Buffer.from(row!.contract).toString('hex')).toBe(PRE_V3[1]!.contract);
  });
});
