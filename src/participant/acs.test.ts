import { beforeAll, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import { type FatContract, showIdentifier, TransactionDecoder } from '../daml/index.js';
import { NodeMetrics } from '../observability/index.js';
import { describeBackends } from '../storage/testing.js';
import { ActiveContracts } from './acs.js';
import { encodeContract } from './contracts.js';
import { ParticipantMetrics } from './metrics.js';
import { emptyBatch, ParticipantStore } from './store.js';
import { ModelLedger, tokenCommands } from './testing.js';

const NOW = 1_750_000_000_000_000n;
const SYNC = 'sync::1220aa';
const admin = 'admin::1220aa';
const alice = 'alice::1220aa';

let decoder: TransactionDecoder;
/** Five token holdings of alice. */
let tokens: FatContract[];

beforeAll(async () => {
  const engine = loadEngine(TOKEN_DAR);
  decoder = new TransactionDecoder(engine.types);
  const ledger = new ModelLedger(engine, NOW);
  await ledger.submit([admin], [tokenCommands.rules(admin)]);
  for (let i = 0; i < 5; i++)
    await ledger.submit([admin, alice], [tokenCommands.mint(admin, alice, `${i + 1}.0`)]);
  tokens = ledger.contracts.slice(1);
});

describeBackends('active contract set', (backend) => {
  async function open(capacity: number) {
    const store = await ParticipantStore.open(await backend.open());
    const metrics = new ParticipantMetrics(new NodeMetrics({ defaultMetrics: false }));
    return { store, metrics, acs: new ActiveContracts(store, decoder, capacity, metrics) };
  }

  /** Writes what the commit pipeline writes for created and archived contracts. */
  async function write(
    store: ParticipantStore,
    offset: bigint,
    created: FatContract[],
    archived: string[] = [],
  ) {
    const b = emptyBatch();
    for (const c of created) {
      b.contracts.push({
        contractId: c.contractId.coid,
        synchronizerId: SYNC,
        templateId: showIdentifier(c.templateId),
        contract: encodeContract(c),
        createdAt: c.createdAt!,
        createdOffset: offset,
      });
      for (const p of c.stakeholders)
        b.contractParties.push({ party: p, contractId: c.contractId.coid, stakeholder: true });
    }
    for (const id of archived) b.archivals.push({ contractId: id, offset });
    await store.write(b);
  }

  const ids = (cs: FatContract[]) => cs.map((c) => c.contractId.coid);

  it('keeps at most its capacity in memory and reads the rest from the database', async () => {
    const { store, metrics, acs } = await open(2);
    for (const c of tokens) acs.add(c, SYNC, c.stakeholders, c.stakeholders);
    // Not durable yet: every one is in memory, none in the cache.
    expect(acs.cached).toBe(0);
    await write(store, 1n, tokens);
    acs.durable(ids(tokens));
    expect(acs.cached).toBe(2);
    const states = await acs.fetch(ids(tokens));
    for (const c of tokens) {
      const known = states.get(c.contractId.coid);
      expect(known?.contract.contractId.coid).toBe(c.contractId.coid);
      expect(known?.synchronizerId).toBe(SYNC);
      expect([...(known?.readers ?? [])].sort()).toEqual([...c.stakeholders].sort());
    }
    expect(acs.cached).toBe(2);
    const lookups = await metrics.contractLookups.get();
    const bySource = Object.fromEntries(lookups.values.map((v) => [v.labels.source, v.value]));
    expect(bySource).toEqual({ memory: 2, database: 3 });
  });

  it('answers archived and unknown contracts as inactive, and archivals not yet durable from memory', async () => {
    const { store, acs } = await open(2);
    await write(store, 1n, tokens);
    const [a, b] = ids(tokens);
    acs.archive(a!);
    expect((await acs.fetch([a!, b!, 'unknown'])).get(a!)).toBeUndefined();
    await write(store, 2n, [], [a!]);
    acs.durable([a!]);
    const states = await acs.fetch([a!, b!, 'unknown']);
    expect(states.get(a!)).toBeUndefined();
    expect(states.get(b!)).toBeDefined();
    expect(states.get('unknown')).toBeUndefined();
  });

  it('reads again a contract whose archival became durable during its database read', async () => {
    const { store, acs } = await open(1);
    await write(store, 1n, tokens);
    const [a] = ids(tokens);
    const read = acs.fetch([a!]);
    acs.archive(a!);
    await write(store, 2n, [], [a!]);
    acs.durable([a!]);
    expect((await read).get(a!)).toBeUndefined();
  });

  it('keeps a change in memory until the last decision that made it is durable', async () => {
    const { store, acs } = await open(1);
    const [t] = tokens;
    const id = t!.contractId.coid;
    acs.add(t!, SYNC, t!.stakeholders, t!.stakeholders);
    acs.archive(id);
    await write(store, 1n, [t!]);
    // The creation is durable, its archival is not: still archived here.
    acs.durable([id]);
    expect((await acs.fetch([id])).get(id)).toBeUndefined();
    await write(store, 2n, [], [id]);
    acs.durable([id]);
    expect((await acs.fetch([id])).get(id)).toBeUndefined();
  });

  it('adds readers to a contract known only to the database', async () => {
    const { store, acs } = await open(1);
    await write(store, 1n, tokens);
    const [a, b] = ids(tokens);
    const states = await acs.fetch([a!]);
    await acs.fetch([b!]); // evicts a
    acs.add(tokens[0]!, SYNC, [], ['bob::1220aa'], states);
    const known = (await acs.fetch([a!])).get(a!);
    expect([...(known?.readers ?? [])].sort()).toEqual([...tokens[0]!.stakeholders, 'bob::1220aa'].sort());
    expect([...(known?.stakeholders ?? [])].sort()).toEqual([...tokens[0]!.stakeholders].sort());
  });
});
