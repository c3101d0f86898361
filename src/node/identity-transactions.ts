import { CommonErrors, WeftError } from '../errors/index.js';
import { ParticipantId } from '../identity/index.js';
import { SignedTopologyTransaction, type TopologyMapping, TopologyTransaction } from '../topology/index.js';
import type { NodeIdentity } from './identity.js';

/**
 * A node's identity transactions, signed by its own keys: the root NamespaceDelegation of its namespace and its
 * OwnerToKeyMapping, which the signing key signs too (proof of possession). Only participants publish an
 * encryption key: sequencers and mediators never receive encrypted views.
 */
export function identityTransactions(identity: NodeIdentity): Uint8Array[] {
  const { namespace, namespaceKey, signingKey, encryptionKey, member } = identity;
  if (!member) {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `node ${identity.uid} is a topology owner, not a member: it has no identity transactions to onboard`,
    );
  }
  const sign = (mapping: TopologyMapping, signers: readonly (typeof namespaceKey.privateKey)[]) =>
    SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, mapping), signers).toBytes();
  return [
    sign(
      {
        kind: 'NamespaceDelegation',
        namespace,
        target: namespaceKey.publicKey,
        restriction: { kind: 'all' },
      },
      [namespaceKey.privateKey],
    ),
    sign(
      {
        kind: 'OwnerToKeyMapping',
        member,
        signingKeys: [signingKey.publicKey],
        encryptionKeys: member instanceof ParticipantId ? [encryptionKey.publicKey] : [],
      },
      [namespaceKey.privateKey, signingKey.privateKey],
    ),
  ];
}
