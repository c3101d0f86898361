import {
  type EncryptionKeyPair,
  Fingerprint,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type KeyRole,
  type KeyStore,
  type RandomSource,
  type SigningKeyPair,
} from '../crypto/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import {
  MediatorId,
  type Member,
  Namespace,
  ParticipantId,
  SequencerId,
  UniqueIdentifier,
} from '../identity/index.js';
import type { Migration, Storage } from '../storage/index.js';

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

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'node identity',
    up: `CREATE TABLE node_identity (
           id BIGINT PRIMARY KEY NOT NULL,
           identifier TEXT NOT NULL,
           kind TEXT NOT NULL,
           namespace_key TEXT NOT NULL,
           signing_key TEXT NOT NULL,
           encryption_key TEXT NOT NULL
         )`,
  },
];

interface IdentityRow {
  identifier: string;
  kind: string;
  namespace_key: string;
  signing_key: string;
  encryption_key: string;
}

const SELECT_IDENTITY =
  'SELECT identifier, kind, namespace_key, signing_key, encryption_key FROM node_identity WHERE id = 1';

/**
 * Loads the node's identity from its storage, creating it on first start. The identity is one row naming the
 * node's keys, so nodes that share a database share the identity: the HA sequencer nodes of one sequencer (the
 * first node to start names it). Racing first starts are safe: both insert, the first row wins, both read it.
 * The namespace key is kept apart from the signing key (as in Canton) so the operational key can be rotated
 * without changing the node's id.
 */
export async function loadOrCreateIdentity(
  storage: Storage,
  keys: KeyStore,
  name: string,
  kind: NodeKind,
  random: RandomSource,
  now: () => bigint,
): Promise<NodeIdentity> {
  await storage.migrate('node', MIGRATIONS);
  let row = await storage.queryOne<IdentityRow>(SELECT_IDENTITY);
  if (!row) {
    const add = async (pair: SigningKeyPair | EncryptionKeyPair, role: KeyRole) =>
      (await keys.add(pair, role, `${name}-${role}`, now())).fingerprint.value;
    const namespaceKey = await add(generateSigningKeyPair(random), 'namespace');
    const signingKey = await add(generateSigningKeyPair(random), 'signing');
    const encryptionKey = await add(generateEncryptionKeyPair(random), 'encryption');
    await storage.execute(
      `INSERT INTO node_identity (id, identifier, kind, namespace_key, signing_key, encryption_key)
       VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [name, kind, namespaceKey, signingKey, encryptionKey],
    );
    row = (await storage.queryOne<IdentityRow>(SELECT_IDENTITY))!;
  }
  if (row.kind !== kind) {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `the storage of ${kind} node ${name} holds the identity of a ${row.kind} node (${row.identifier}); ` +
        'each node needs its own database or schema',
    );
  }
  const key = async (fp: string) => (await keys.get(Fingerprint.parse(fp))).record;
  const namespaceKey = (await key(row.namespace_key)).toSigningKeyPair();
  const namespace = Namespace.fromRootKey(namespaceKey.publicKey);
  const uid = UniqueIdentifier.create(row.identifier, namespace);
  return {
    uid,
    namespace,
    member: memberOf(kind, uid),
    namespaceKey,
    signingKey: (await key(row.signing_key)).toSigningKeyPair(),
    encryptionKey: (await key(row.encryption_key)).toEncryptionKeyPair(),
  };
}
