import { CommonErrors, WeftError } from '../errors/index.js';
import { MediatorId, SynchronizerId } from '../identity/index.js';
import type { Migration, Storage } from '../storage/index.js';
import { isRootDelegation, SignedTopologyTransaction } from '../topology/index.js';

/** A mediator's identity transactions, checked to be nothing else. */
export interface MediatorIdentity {
  readonly mediator: MediatorId;
  readonly transactions: readonly SignedTopologyTransaction[];
}

/**
 * Checks what a mediator's operator handed over before an owner signs anything for it: exactly one
 * OwnerToKeyMapping of a mediator, and otherwise only root NamespaceDelegations of that mediator's namespace, all
 * additions. Signatures and authorization are checked by the topology processing itself.
 */
export function mediatorIdentityOf(
  signedTransactions: readonly Uint8Array[],
  memberId?: string,
): MediatorIdentity {
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
      `a mediator's identity transactions hold exactly one OwnerToKeyMapping, not ${keys.length}; export them with weft admin export-identity on the mediator`,
    );
  }
  if (!(owner.member instanceof MediatorId)) {
    throw invalid(`the identity transactions are those of ${owner.member}, not of a mediator (MED::…)`);
  }
  const mediator = owner.member;
  if (memberId !== undefined && memberId !== '' && memberId !== String(mediator)) {
    throw invalid(`the identity transactions are those of ${mediator}, not of ${memberId}`);
  }
  for (const t of transactions) {
    if (t.operation !== 'AddReplace')
      throw invalid(`identity transaction ${t.transaction} removes a mapping`);
    const m = t.mapping;
    if (m.kind === 'OwnerToKeyMapping') continue;
    if (m.kind !== 'NamespaceDelegation' || !isRootDelegation(m) || !m.namespace.equals(mediator.namespace)) {
      throw invalid(
        `the identity transactions of ${mediator} may only be root delegations of its namespace and its keys, not ${t.transaction}`,
      );
    }
  }
  return { mediator, transactions };
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'synchronizer membership',
    up: `CREATE TABLE admin_membership (
           id BIGINT PRIMARY KEY NOT NULL,
           synchronizer_id TEXT NOT NULL
         )`,
  },
];

/**
 * The synchronizer a member node (a mediator) was onboarded to, learnt from the sequencer's topology state and
 * kept so that a restart opens the same topology store without asking the sequencer again.
 */
export class MembershipStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<MembershipStore> {
    await storage.migrate('admin_membership', MIGRATIONS);
    return new MembershipStore(storage);
  }

  async load(): Promise<SynchronizerId | undefined> {
    const row = await this.storage.queryOne<{ synchronizer_id: string }>(
      'SELECT synchronizer_id FROM admin_membership WHERE id = 1',
    );
    return row ? SynchronizerId.parse(row.synchronizer_id) : undefined;
  }

  async save(synchronizerId: SynchronizerId): Promise<void> {
    await this.storage.execute(
      'INSERT INTO admin_membership (id, synchronizer_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
      [String(synchronizerId)],
    );
  }
}
