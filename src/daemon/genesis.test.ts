import { expect, it } from 'vitest';
import { genesisGroups, memberIdentityOf } from '../admin-api/index.js';
import { DeterministicRandom, KeyStore } from '../crypto/index.js';
import { isWeftError, type WeftError } from '../errors/index.js';
import { SignedTopologyTransaction as SignedProto } from '../generated/weft/topology/v1/topology.js';
import { identityTransactions, loadOrCreateIdentity, type NodeIdentity } from '../node/index.js';
import { describeBackend } from '../storage/testing.js';
import { TopologyErrors } from '../topology/index.js';
import { bootstrapSequencer, GenesisStore } from './genesis.js';

function rejection(run: () => unknown): WeftError {
  try {
    run();
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describeBackend('sqlite', 'bootstrapping a synchronizer with several sequencers', (backend) => {
  /** A node's identity as its daemon creates it, in a storage of its own. */
  async function identity(name: string, kind: 'sequencer' | 'mediator'): Promise<NodeIdentity> {
    const storage = await backend.open();
    const keys = await KeyStore.open(storage);
    return loadOrCreateIdentity(storage, keys, name, kind, new DeterministicRandom(name), () => 1n);
  }
  const exported = (node: NodeIdentity) => identityTransactions(node);
  const sequencer = (node: NodeIdentity) =>
    memberIdentityOf('sequencer', exported(node), String(node.member));
  const mediator = (node: NodeIdentity) => memberIdentityOf('mediator', exported(node));

  it('puts the other sequencers, by their own identity transactions, into the genesis with the threshold', async () => {
    const [a, b, c, m] = await Promise.all([
      identity('seq-a', 'sequencer'),
      identity('seq-b', 'sequencer'),
      identity('seq-c', 'sequencer'),
      identity('med', 'mediator'),
    ]);
    const store = await GenesisStore.open(await backend.open());
    const outcome = await bootstrapSequencer(
      store,
      a,
      {
        name: 'bft',
        sequencers: [sequencer(b), sequencer(c)],
        sequencerThreshold: 2,
        mediators: [mediator(m)],
      },
      10n,
    );
    expect(outcome.created).toBe(true);
    expect(genesisGroups(outcome.genesis)).toEqual({
      sequencers: [a, b, c].map((n) => String(n.member)),
      sequencerThreshold: 2,
      mediators: [String(m.member)],
    });
    // What another sequencer sharing the ordering storage finds, and a second bootstrap with the same name.
    expect(await store.load()).toEqual(outcome.genesis);
    const again = await bootstrapSequencer(store, b, { name: 'bft' }, 20n);
    expect(again).toEqual({ genesis: outcome.genesis, created: false });
  });

  it('refuses a bad signature, a threshold above the sequencers and a sequencer given twice; stores nothing', async () => {
    const [a, b] = await Promise.all([identity('seq-a', 'sequencer'), identity('seq-b', 'sequencer')]);
    const store = await GenesisStore.open(await backend.open());
    const boot = (request: Parameters<typeof bootstrapSequencer>[2]) =>
      bootstrapSequencer(store, a, request, 10n).then(
        () => {
          throw new Error('expected a rejection');
        },
        (e: WeftError) => e,
      );

    // B's key mapping with its signing key's signature (proof of possession) broken.
    const [delegation, keys] = exported(b) as [Uint8Array, Uint8Array];
    const proto = SignedProto.fromBinary(keys);
    const signatures = proto.signatures.map((s, i) => {
      const bytes = Uint8Array.from(s.signature);
      if (i === 1) bytes[0]! ^= 1;
      return { ...s, signature: bytes };
    });
    const forged = memberIdentityOf('sequencer', [
      delegation,
      SignedProto.toBinary({ ...proto, signatures }),
    ]);
    const bad = await boot({ name: 'bft', sequencers: [forged] });
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(
      new RegExp(
        `OwnerToKeyMapping\\(${b.member}\\) .*would be rejected: the signature by key .* does not verify`,
      ),
    );

    const threshold = await boot({ name: 'bft', sequencers: [sequencer(b)], sequencerThreshold: 3 });
    expect(threshold.code).toBe(TopologyErrors.TOPOLOGY_INVALID_MAPPING.code);
    expect(threshold.message).toContain(
      'threshold 3 must be between 1 and the number of active sequencers (2)',
    );

    const twice = await boot({ name: 'bft', sequencers: [sequencer(b), sequencer(b)] });
    expect(twice.code).toBe('INVALID_ARGUMENT');
    expect(twice.message).toBe(
      `${b.member} is given twice among the sequencers and mediators of the genesis`,
    );
    const itself = await boot({ name: 'bft', sequencers: [sequencer(a)] });
    expect(itself.message).toContain(`${a.member} is given twice`);
    expect(await store.load()).toBeUndefined();
  });

  it('accepts as a sequencer only the identity transactions of a sequencer', async () => {
    const [b, m] = await Promise.all([identity('seq-b', 'sequencer'), identity('med', 'mediator')]);
    const notSequencer = rejection(() => memberIdentityOf('sequencer', exported(m)));
    expect(notSequencer.code).toBe('INVALID_ARGUMENT');
    expect(notSequencer.message).toBe(
      `the identity transactions are those of ${m.member}, not of a sequencer (SEQ::…)`,
    );
    const other = rejection(() => memberIdentityOf('sequencer', exported(b), 'SEQ::other::1220ab'));
    expect(other.message).toBe(
      `the identity transactions are those of ${b.member}, not of SEQ::other::1220ab`,
    );
    const [, keys] = exported(b);
    const noDelegationOnly = rejection(() => memberIdentityOf('sequencer', [keys!, keys!]));
    expect(noDelegationOnly.message).toMatch(/exactly one OwnerToKeyMapping, not 2; .* on the sequencer$/);
    expect(String(memberIdentityOf('sequencer', exported(b)).id)).toBe(String(b.member));
  });
});
