import type { RandomSource } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import type { Clock } from '../time/index.js';
import { SequencerErrors } from './errors.js';
import { authenticationHash } from './signing.js';
import type { SequencerTopology } from './topology.js';

const NONCE_LENGTH = 32;
const TOKEN_LENGTH = 32;

export interface AuthSettings {
  readonly tokenTtlMs: number;
  readonly nonceTtlMs: number;
  /** Outstanding challenges per member and in all (see the `sequencer.authentication` config section). */
  readonly maxChallengesPerMember: number;
  readonly maxChallenges: number;
  /** Live tokens per member; a new one beyond it logs out the member's oldest. */
  readonly maxTokensPerMember: number;
}

export interface Token {
  readonly member: string;
  /** µs since the epoch. */
  readonly expiresAt: bigint;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Challenge-response authentication of members. Nonces and tokens live in this node's memory: a member
 * authenticates with each node (endpoint) it uses, as with Canton's sequencer nodes.
 */
export class MemberAuthenticator {
  /** Outstanding challenges by hex nonce, in the order issued, which is the order they expire in. */
  readonly #nonces = new Map<string, { member: string; expiresAt: bigint }>();
  /** How many of {@link #nonces} each member has. */
  readonly #noncesOf = new Map<string, number>();
  readonly #tokens = new Map<string, Token>();
  /** The hex tokens of each member, oldest first. */
  readonly #tokensOf = new Map<string, Set<string>>();
  readonly #logoutListeners = new Set<(token: string) => void>();

  constructor(
    private readonly topology: SequencerTopology,
    private readonly synchronizerId: string,
    private readonly sequencerId: string,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly settings: AuthSettings,
  ) {}

  /** Fails with SEQUENCER_MEMBER_NOT_ACTIVE unless the topology has `member` active now. */
  requireActive(member: string): void {
    const status = this.topology.isMemberActive(member, this.clock.now());
    if (!status.active) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE,
        `member ${member} is not active on synchronizer ${this.synchronizerId}: ${status.reason ?? 'unknown member'}`,
        { member },
      );
    }
  }

  async challenge(member: string): Promise<{ nonce: Uint8Array; fingerprints: string[] }> {
    this.requireActive(member);
    const keys = this.topology.signingKeys(member, this.clock.now());
    if (keys.length === 0) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_AUTHENTICATION_FAILED,
        `member ${member} has no signing key in the topology state; publish an OwnerToKeyMapping first`,
        { member },
      );
    }
    this.#expire();
    // Refused rather than evicting older ones: a flood must not be able to cancel a member's challenge in flight.
    const outstanding = this.#noncesOf.get(member) ?? 0;
    if (
      outstanding >= this.settings.maxChallengesPerMember ||
      this.#nonces.size >= this.settings.maxChallenges
    ) {
      const perMember = outstanding >= this.settings.maxChallengesPerMember;
      throw new WeftError(
        SequencerErrors.SEQUENCER_TOO_MANY_CHALLENGES,
        perMember
          ? `member ${member} has ${outstanding} outstanding challenges, the most this node allows; answer one or retry after ${this.settings.nonceTtlMs} ms`
          : `this node has ${this.#nonces.size} outstanding challenges, the most it allows; retry after ${this.settings.nonceTtlMs} ms`,
        { member },
      );
    }
    const nonce = this.random.bytes(NONCE_LENGTH);
    this.#nonces.set(hex(nonce), {
      member,
      expiresAt: this.clock.now() + BigInt(this.settings.nonceTtlMs) * 1000n,
    });
    this.#noncesOf.set(member, outstanding + 1);
    return { nonce, fingerprints: keys.map((k) => k.fingerprint.value) };
  }

  async authenticate(
    member: string,
    nonce: Uint8Array,
    signature: Uint8Array,
    signedBy: string,
  ): Promise<{ token: Uint8Array; expiresAt: bigint }> {
    const challenge = this.#takeNonce(hex(nonce));
    const now = this.clock.now();
    if (!challenge || challenge.member !== member || challenge.expiresAt < now) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_AUTHENTICATION_FAILED,
        `no outstanding challenge for ${member} with this nonce (expired, already used, or issued by another sequencer node); request a new challenge`,
        { member },
      );
    }
    this.requireActive(member);
    const keys = this.topology.signingKeys(member, now);
    const signer = keys.find((k) => k.fingerprint.value === signedBy);
    if (
      !signer?.verify(authenticationHash(nonce, this.synchronizerId, this.sequencerId, member), signature)
    ) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_AUTHENTICATION_FAILED,
        signer
          ? `the challenge signature of ${member} does not verify under key ${signedBy}`
          : `key ${signedBy} is not a signing key of ${member}`,
        { member },
      );
    }
    const token = this.random.bytes(TOKEN_LENGTH);
    const expiresAt = now + BigInt(this.settings.tokenTtlMs) * 1000n;
    this.#issue(hex(token), { member, expiresAt });
    return { token, expiresAt };
  }

  /** The token's grant, after checking it belongs to `member` and has not expired. */
  check(token: Uint8Array | undefined, member: string): Token {
    const grant = token && this.#tokens.get(hex(token));
    if (!grant || grant.member !== member) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_TOKEN_INVALID,
        `no valid token for ${member || '(no member id)'} on this sequencer node; authenticate first`,
        { member },
      );
    }
    if (grant.expiresAt <= this.clock.now()) {
      this.#revoke(hex(token));
      throw new WeftError(
        SequencerErrors.SEQUENCER_TOKEN_INVALID,
        `the token of ${member} expired; authenticate again`,
        { member },
      );
    }
    return grant;
  }

  logout(token: Uint8Array): void {
    const key = hex(token);
    if (!this.#revoke(key)) return;
    for (const listener of this.#logoutListeners) listener(key);
  }

  /**
   * Keeps a new token, logging out the member's oldest one when it holds as many as allowed: only the member itself
   * can obtain tokens (it signs the challenge), so a member re-authenticating in a loop bounds only its own.
   */
  #issue(key: string, grant: Token): void {
    let mine = this.#tokensOf.get(grant.member);
    if (!mine) {
      mine = new Set();
      this.#tokensOf.set(grant.member, mine);
    }
    if (mine.size >= this.settings.maxTokensPerMember) {
      const oldest = mine.values().next().value!;
      this.#revoke(oldest);
      for (const listener of this.#logoutListeners) listener(oldest);
    }
    this.#tokens.set(key, grant);
    mine.add(key);
  }

  /** Forgets a token; false if it was not known. */
  #revoke(key: string): boolean {
    const grant = this.#tokens.get(key);
    if (!grant) return false;
    this.#tokens.delete(key);
    const mine = this.#tokensOf.get(grant.member)!;
    mine.delete(key);
    if (mine.size === 0) this.#tokensOf.delete(grant.member);
    return true;
  }

  /** Calls `listener` with the hex token whenever a token is logged out; returns the unsubscribe function. */
  onLogout(listener: (token: string) => void): () => void {
    this.#logoutListeners.add(listener);
    return () => this.#logoutListeners.delete(listener);
  }

  /** Removes the challenge of `key` (answered or expired) and returns it. */
  #takeNonce(key: string): { member: string; expiresAt: bigint } | undefined {
    const challenge = this.#nonces.get(key);
    if (challenge === undefined) return undefined;
    this.#nonces.delete(key);
    const left = this.#noncesOf.get(challenge.member)! - 1;
    if (left === 0) this.#noncesOf.delete(challenge.member);
    else this.#noncesOf.set(challenge.member, left);
    return challenge;
  }

  #expire(): void {
    const now = this.clock.now();
    // Challenges expire in the order issued: stop at the first still outstanding.
    for (const [k, v] of this.#nonces) {
      if (v.expiresAt >= now) break;
      this.#takeNonce(k);
    }
    for (const [k, v] of this.#tokens) if (v.expiresAt <= now) this.#revoke(k);
  }
}
