import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeterministicRandom } from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { ManualClock, systemClock } from '../time/index.js';
import { TopologyProcessor } from '../topology/index.js';
import { type AuthSettings, MemberAuthenticator } from './auth.js';
import { authenticationHash } from './signing.js';
import { type TestMember, testSynchronizer } from './testing.js';
import { sequencerTopologyOf } from './topology-adapter.js';

const NONCE_TTL_MS = 1000;
const sync = testSynchronizer({ seed: 'auth-bounds', participants: 4, now: systemClock.now() });
let storage: Storage;
let topology: TopologyProcessor;

beforeAll(async () => {
  storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
  topology = await TopologyProcessor.create({
    storage,
    synchronizerId: sync.synchronizerIdObject,
    storeId: 'auth',
  });
  await topology.process(sync.genesisTs, sync.genesis);
});
afterAll(() => storage.close());

function authenticator(
  bounds: Pick<AuthSettings, 'maxChallengesPerMember' | 'maxChallenges'> &
    Partial<Pick<AuthSettings, 'maxTokensPerMember'>>,
) {
  const clock = new ManualClock(systemClock.now());
  const auth = new MemberAuthenticator(
    sequencerTopologyOf(topology),
    sync.synchronizerId,
    sync.sequencer.id,
    clock,
    new DeterministicRandom('auth-bounds'),
    { tokenTtlMs: 60_000, nonceTtlMs: NONCE_TTL_MS, maxTokensPerMember: 64, ...bounds },
  );
  return { auth, clock };
}

/** The challenges of `count` requests for `member` that the node issued, and the error codes of those it refused. */
async function flood(auth: MemberAuthenticator, member: TestMember, count: number) {
  const issued: Uint8Array[] = [];
  const refused = new Set<string>();
  for (let i = 0; i < count; i++) {
    try {
      issued.push((await auth.challenge(member.id)).nonce);
    } catch (e) {
      if (!isWeftError(e)) throw e;
      refused.add(e.code);
    }
  }
  return { issued, refused };
}

/** A member's whole challenge-response, as its sequencer client does it. */
async function authenticate(auth: MemberAuthenticator, member: TestMember): Promise<Uint8Array> {
  const { nonce, fingerprints } = await auth.challenge(member.id);
  const signature = member.key.sign(
    authenticationHash(nonce, sync.synchronizerId, sync.sequencer.id, member.id),
  );
  const { token } = await auth.authenticate(member.id, nonce, signature, fingerprints[0]!);
  expect(auth.check(token, member.id).member).toBe(member.id);
  return token;
}

describe('sequencer authentication challenges', () => {
  it('are bounded per member, while other members still authenticate and the member does once they expire', async () => {
    const { auth, clock } = authenticator({ maxChallengesPerMember: 16, maxChallenges: 10_000 });
    const [target, legitimate] = sync.participants;
    const { issued, refused } = await flood(auth, target!, 3000);
    expect(issued).toHaveLength(16);
    expect([...refused]).toEqual(['SEQUENCER_TOO_MANY_CHALLENGES']);
    await expect(auth.challenge(target!.id)).rejects.toThrow(
      `member ${target!.id} has 16 outstanding challenges, the most this node allows`,
    );
    await authenticate(auth, legitimate!);
    // An answered challenge frees its slot; expired ones are dropped.
    await authenticate(auth, legitimate!);
    clock.advance(NONCE_TTL_MS + 1);
    await authenticate(auth, target!);
    expect((await flood(auth, target!, 100)).issued).toHaveLength(16);
  });

  it('are bounded in all, and a slot frees when a challenge is answered', async () => {
    const { auth } = authenticator({ maxChallengesPerMember: 16, maxChallenges: 40 });
    const [a, b, c, d] = sync.participants;
    const issued = [
      ...(await flood(auth, a!, 16)).issued,
      ...(await flood(auth, b!, 16)).issued,
      ...(await flood(auth, c!, 100)).issued,
    ];
    expect(issued).toHaveLength(40);
    await expect(auth.challenge(d!.id)).rejects.toThrow('this node has 40 outstanding challenges');
    const nonce = issued[0]!;
    const signature = a!.key.sign(authenticationHash(nonce, sync.synchronizerId, sync.sequencer.id, a!.id));
    await auth.authenticate(a!.id, nonce, signature, a!.key.publicKey.fingerprint.value);
    await authenticate(auth, d!);
  });
});

describe('sequencer authentication tokens', () => {
  it('are bounded per member: a new one beyond the bound logs out the oldest, and other members keep theirs', async () => {
    const { auth } = authenticator({
      maxChallengesPerMember: 16,
      maxChallenges: 10_000,
      maxTokensPerMember: 3,
    });
    const [looping, other] = sync.participants;
    const loggedOut: string[] = [];
    auth.onLogout((t) => loggedOut.push(t));
    const kept = await authenticate(auth, other!);
    const tokens: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) tokens.push(await authenticate(auth, looping!));
    expect(loggedOut).toEqual(tokens.slice(0, 47).map((t) => Buffer.from(t).toString('hex')));
    for (const t of tokens.slice(47)) expect(auth.check(t, looping!.id).member).toBe(looping!.id);
    expect(() => auth.check(tokens[46], looping!.id)).toThrow('no valid token');
    expect(auth.check(kept, other!.id).member).toBe(other!.id);
  });
});
