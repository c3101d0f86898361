import { CommonErrors, WeftError } from '../errors/index.js';
import { MediatorId, SequencerId } from '../identity/index.js';
import { isRootDelegation, type MemberIdentity, SignedTopologyTransaction } from '../topology/index.js';

/** The member kinds an owner onboards by their identity transactions: their code and what the CLI calls them. */
const ROLES = {
  mediator: { id: MediatorId, code: 'MED' },
  sequencer: { id: SequencerId, code: 'SEQ' },
} as const;

type Role = keyof typeof ROLES;
type MemberOf<R extends Role> = InstanceType<(typeof ROLES)[R]['id']>;

/**
 * Checks what a mediator's or sequencer's operator handed over before an owner signs anything for it: exactly one
 * OwnerToKeyMapping, of a member of `role`, and otherwise only root NamespaceDelegations of that member's
 * namespace, all additions. Signatures and authorization are checked by the topology processing itself.
 */
export function memberIdentityOf<R extends Role>(
  role: R,
  signedTransactions: readonly Uint8Array[],
  memberId?: string,
): MemberIdentity<MemberOf<R>> {
  const { id: kind, code } = ROLES[role];
  const invalid = (message: string) => new WeftError(CommonErrors.INVALID_ARGUMENT, message);
  const transactions = signedTransactions.map((bytes, i) => {
    try {
      return SignedTopologyTransaction.decode(bytes);
    } catch (e) {
      throw invalid(`identity transaction ${i} cannot be decoded: ${(e as Error).message}`);
    }
  });
  const keys = transactions.flatMap((t) => (t.mapping.kind === 'OwnerToKeyMapping' ? [t.mapping] : []));
  const owner = keys[0];
  if (keys.length !== 1 || !owner) {
    throw invalid(
      `a ${role}'s identity transactions hold exactly one OwnerToKeyMapping, not ${keys.length}; export them with weft admin export-identity on the ${role}`,
    );
  }
  if (!(owner.member instanceof kind)) {
    throw invalid(`the identity transactions are those of ${owner.member}, not of a ${role} (${code}::…)`);
  }
  const member = owner.member as MemberOf<R>;
  if (memberId !== undefined && memberId !== '' && memberId !== String(member)) {
    throw invalid(`the identity transactions are those of ${member}, not of ${memberId}`);
  }
  for (const t of transactions) {
    if (t.operation !== 'AddReplace')
      throw invalid(`identity transaction ${t.transaction} removes a mapping`);
    const m = t.mapping;
    if (m.kind === 'OwnerToKeyMapping') continue;
    if (m.kind !== 'NamespaceDelegation' || !isRootDelegation(m) || !m.namespace.equals(member.namespace)) {
      throw invalid(
        `the identity transactions of ${member} may only be root delegations of its namespace and its keys, not ${t.transaction}`,
      );
    }
  }
  return { id: member, transactions };
}
