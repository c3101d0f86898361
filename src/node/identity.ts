import {
  type EncryptionKeyPair,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type KeyRecord,
  type KeyRole,
  type KeyStore,
  type RandomSource,
  type SigningKeyPair,
} from '../crypto/index.js';
import {
  MediatorId,
  type Member,
  Namespace,
  ParticipantId,
  SequencerId,
  UniqueIdentifier,
} from '../identity/index.js';

export type NodeKind = 'participant' | 'sequencer' | 'mediator' | 'topology';

/**
 * A node's identity: its root namespace key (whose fingerprint is the namespace), its unique identifier
 * `name::namespace`, and the signing and encryption keys it publishes in its OwnerToKeyMapping.
 */
export interface NodeIdentity {
  readonly uid: UniqueIdentifier;
  readonly namespace: Namespace;
  /** The member id the synchronizer knows the node by (`PAR::`, `SEQ::`, `MED::`); none for a topology owner. */
  readonly member: Member | undefined;
  readonly namespaceKey: SigningKeyPair;
  readonly signingKey: SigningKeyPair;
  readonly encryptionKey: EncryptionKeyPair;
}

/** The member id of a node of `kind` with unique identifier `uid`. */
export function memberOf(kind: NodeKind, uid: UniqueIdentifier): Member | undefined {
  switch (kind) {
    case 'participant':
      return new ParticipantId(uid);
    case 'sequencer':
      return new SequencerId(uid);
    case 'mediator':
      return new MediatorId(uid);
    case 'topology':
      return undefined;
  }
}

/**
 * Loads the node's identity from its key store, creating the keys on first start. The namespace key is kept apart
 * from the signing key (as in Canton) so that the operational key can be rotated without changing the node's id.
 */
export async function loadOrCreateIdentity(
  keys: KeyStore,
  name: string,
  kind: NodeKind,
  random: RandomSource,
  now: () => bigint,
): Promise<NodeIdentity> {
  const ensure = async (role: KeyRole, make: () => SigningKeyPair | EncryptionKeyPair): Promise<KeyRecord> =>
    ((await keys.current(role)) ?? (await keys.add(make(), role, `${name}-${role}`, now()))).record;
  const namespaceKey = (await ensure('namespace', () => generateSigningKeyPair(random))).toSigningKeyPair();
  const signingKey = (await ensure('signing', () => generateSigningKeyPair(random))).toSigningKeyPair();
  const encryptionKey = (
    await ensure('encryption', () => generateEncryptionKeyPair(random))
  ).toEncryptionKeyPair();
  const namespace = Namespace.fromRootKey(namespaceKey.publicKey);
  const uid = UniqueIdentifier.create(name, namespace);
  return { uid, namespace, member: memberOf(kind, uid), namespaceKey, signingKey, encryptionKey };
}
