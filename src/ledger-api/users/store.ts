import { CommonErrors, WeftError } from '../../errors/index.js';
import type { Migration, Queryable, Storage } from '../../storage/index.js';
import { IdentityProviderConfigErrors, UserManagementErrors } from './errors.js';
import {
  annotationsBytes,
  distinctRights,
  type IdentityProviderConfig,
  type IdentityProviderConfigUpdate,
  MAX_ANNOTATIONS_BYTES,
  MAX_IDENTITY_PROVIDER_CONFIGS,
  MAX_RIGHTS_PER_USER,
  mergeAnnotations,
  PARTICIPANT_ADMIN_USER_ID,
  rightKey,
  type User,
  type UserRight,
  type UserUpdate,
} from './model.js';

const USER_COLUMNS =
  'user_id, primary_party, is_deactivated, annotations, resource_version, identity_provider_id';

export const USER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'Ledger API users, their rights, identity provider configs',
    up: [
      // identity_provider_id '' is the participant's default identity provider.
      `CREATE TABLE ledger_api_users (
         user_id TEXT PRIMARY KEY NOT NULL,
         primary_party TEXT NOT NULL,
         is_deactivated BOOLEAN NOT NULL,
         annotations TEXT NOT NULL,
         resource_version BIGINT NOT NULL,
         identity_provider_id TEXT NOT NULL
       )`,
      // party is '' for the rights that name none (ParticipantAdmin, CanReadAsAnyParty…).
      `CREATE TABLE ledger_api_user_rights (
         user_id TEXT NOT NULL,
         kind TEXT NOT NULL,
         party TEXT NOT NULL,
         PRIMARY KEY (user_id, kind, party)
       )`,
      `CREATE TABLE ledger_api_identity_providers (
         identity_provider_id TEXT PRIMARY KEY NOT NULL,
         is_deactivated BOOLEAN NOT NULL,
         jwks_url TEXT NOT NULL,
         issuer TEXT NOT NULL,
         audience TEXT NOT NULL
       )`,
      'CREATE UNIQUE INDEX ledger_api_identity_providers_issuer ON ledger_api_identity_providers (issuer)',
      // The bootstrap admin, created once with the tables (as Canton): an operator may delete it for good.
      `INSERT INTO ledger_api_users (${USER_COLUMNS}) VALUES ('${PARTICIPANT_ADMIN_USER_ID}', '', FALSE, '{}', 0, '')`,
      `INSERT INTO ledger_api_user_rights (user_id, kind, party) VALUES ('${PARTICIPANT_ADMIN_USER_ID}', 'ParticipantAdmin', '')`,
    ],
  },
];

interface UserRow {
  user_id: string;
  primary_party: string;
  is_deactivated: boolean;
  annotations: string;
  resource_version: bigint;
  identity_provider_id: string;
}

interface RightRow {
  kind: string;
  party: string;
}

interface IdpRow {
  identity_provider_id: string;
  is_deactivated: boolean;
  jwks_url: string;
  issuer: string;
  audience: string;
}

const IDP_COLUMNS = 'identity_provider_id, is_deactivated, jwks_url, issuer, audience';

function toUser(r: UserRow): User {
  return {
    id: r.user_id,
    primaryParty: r.primary_party,
    isDeactivated: r.is_deactivated,
    annotations: JSON.parse(r.annotations) as Record<string, string>,
    resourceVersion: r.resource_version,
    identityProviderId: r.identity_provider_id,
  };
}

function toRight(r: RightRow): UserRight {
  switch (r.kind) {
    case 'CanActAs':
    case 'CanReadAs':
    case 'CanExecuteAs':
      return { kind: r.kind, party: r.party };
    case 'ParticipantAdmin':
    case 'IdentityProviderAdmin':
    case 'CanReadAsAnyParty':
    case 'CanExecuteAsAnyParty':
      return { kind: r.kind };
    default:
      throw new WeftError(CommonErrors.INTERNAL, `stored user right of unknown kind ${r.kind}`);
  }
}

function toIdp(r: IdpRow): IdentityProviderConfig {
  return {
    identityProviderId: r.identity_provider_id,
    isDeactivated: r.is_deactivated,
    jwksUrl: r.jwks_url,
    issuer: r.issuer,
    audience: r.audience,
  };
}

function userNotFound(id: string, operation: string): WeftError {
  return new WeftError(UserManagementErrors.USER_NOT_FOUND, `${operation} failed for unknown user "${id}"`, {
    userId: id,
  });
}

function annotationsTooLarge(id: string): WeftError {
  return new WeftError(
    UserManagementErrors.MAX_USER_ANNOTATIONS_SIZE_EXCEEDED,
    `Annotations size for user ${id} exceeds the maximum of ${MAX_ANNOTATIONS_BYTES} bytes`,
    { userId: id },
  );
}

/** A change of a user (its properties, rights, existence) or of identity providers, for caches to drop. */
export type UserChange = { readonly userId: string } | { readonly identityProviders: true };

/**
 * The participant's users, their rights and its identity provider configs (`ledger_api_*` tables, both backends).
 * Every operation on a user names the identity provider it is made through: a user of another provider answers
 * PERMISSION_DENIED, as in Canton, so provider admins cannot see each other's users.
 */
export class UserStore {
  readonly #listeners = new Set<(change: UserChange) => void>();

  private constructor(private readonly storage: Storage) {}

  /** Migrates the tables (the first migration creates `participant_admin`). */
  static async open(storage: Storage): Promise<UserStore> {
    await storage.migrate('ledger_api_users', USER_MIGRATIONS);
    return new UserStore(storage);
  }

  /** Calls `listener` after each committed change; returns the unsubscribe function. */
  onChange(listener: (change: UserChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(change: UserChange): void {
    for (const l of this.#listeners) l(change);
  }

  /** A user and its rights whatever its identity provider (authentication checks the provider), or undefined. */
  async lookup(id: string): Promise<{ user: User; rights: UserRight[] } | undefined> {
    const row = await this.storage.queryOne<UserRow>(
      `SELECT ${USER_COLUMNS} FROM ledger_api_users WHERE user_id = $1`,
      [id],
    );
    if (row === undefined) return undefined;
    return { user: toUser(row), rights: await this.#rights(this.storage, id) };
  }

  async #rights(q: Queryable, id: string): Promise<UserRight[]> {
    const rows = await q.query<RightRow>(
      'SELECT kind, party FROM ledger_api_user_rights WHERE user_id = $1 ORDER BY kind, party',
      [id],
    );
    return rows.map(toRight);
  }

  /**
   * The user `id` of identity provider `idp`. With `lock`, the row stays locked for the rest of the transaction (a
   * no-op update takes the row lock on PostgreSQL; SQLite serialises writers anyway).
   */
  async #user(q: Queryable, id: string, idp: string, operation: string, lock = true): Promise<User> {
    if (lock) await q.execute('UPDATE ledger_api_users SET user_id = user_id WHERE user_id = $1', [id]);
    const row = await q.queryOne<UserRow>(`SELECT ${USER_COLUMNS} FROM ledger_api_users WHERE user_id = $1`, [
      id,
    ]);
    if (row === undefined) throw userNotFound(id, operation);
    if (row.identity_provider_id !== idp) {
      throw new WeftError(
        CommonErrors.PERMISSION_DENIED,
        `${operation} failed: user "${id}" is not managed by identity provider '${idp}'`,
        { userId: id },
      );
    }
    return toUser(row);
  }

  async getUser(id: string, idp: string): Promise<User> {
    return this.#user(this.storage, id, idp, 'getting user', false);
  }

  async createUser(user: Omit<User, 'resourceVersion'>, rights: readonly UserRight[]): Promise<User> {
    const distinct = distinctRights(rights);
    if (distinct.length > MAX_RIGHTS_PER_USER) throw tooManyRights(user.id, distinct.length);
    if (annotationsBytes(user.annotations) > MAX_ANNOTATIONS_BYTES) throw annotationsTooLarge(user.id);
    const created = await this.storage.transaction(async (tx) => {
      const existing = await tx.queryOne<{ identity_provider_id: string }>(
        'SELECT identity_provider_id FROM ledger_api_users WHERE user_id = $1',
        [user.id],
      );
      if (existing !== undefined) {
        if (existing.identity_provider_id !== user.identityProviderId) {
          throw new WeftError(
            CommonErrors.PERMISSION_DENIED,
            `creating user failed: user "${user.id}" exists in another identity provider`,
            { userId: user.id },
          );
        }
        throw new WeftError(
          UserManagementErrors.USER_ALREADY_EXISTS,
          `creating user failed, as user "${user.id}" already exists`,
          { userId: user.id },
        );
      }
      const inserted = await tx.insertMany(
        'ledger_api_users',
        USER_COLUMNS.split(', '),
        [
          [
            user.id,
            user.primaryParty,
            user.isDeactivated,
            JSON.stringify(user.annotations),
            0n,
            user.identityProviderId,
          ],
        ],
        { onConflict: 'ignore' },
      );
      // A concurrent create of the same id won the race.
      if (inserted === 0) {
        throw new WeftError(
          UserManagementErrors.USER_ALREADY_EXISTS,
          `creating user failed, as user "${user.id}" already exists`,
          { userId: user.id },
        );
      }
      await insertRights(tx, user.id, distinct);
      return { ...user, resourceVersion: 0n };
    });
    this.#changed({ userId: user.id });
    return created;
  }

  async updateUser(update: UserUpdate): Promise<User> {
    const updated = await this.storage.transaction(async (tx) => {
      const current = await this.#user(tx, update.id, update.identityProviderId, 'updating user');
      if (update.resourceVersion !== undefined && update.resourceVersion !== current.resourceVersion) {
        throw new WeftError(
          UserManagementErrors.CONCURRENT_USER_UPDATE_DETECTED,
          `Update operation for user "${update.id}" failed due to a concurrent update to the same user`,
          { userId: update.id },
        );
      }
      const next: User = {
        ...current,
        primaryParty: update.primaryParty ?? current.primaryParty,
        isDeactivated: update.isDeactivated ?? current.isDeactivated,
        annotations:
          update.annotations === undefined
            ? current.annotations
            : mergeAnnotations(current.annotations, update.annotations),
        resourceVersion: current.resourceVersion + 1n,
      };
      if (annotationsBytes(next.annotations) > MAX_ANNOTATIONS_BYTES) throw annotationsTooLarge(update.id);
      await tx.execute(
        'UPDATE ledger_api_users SET primary_party = $2, is_deactivated = $3, annotations = $4, resource_version = $5 WHERE user_id = $1',
        [
          next.id,
          next.primaryParty,
          next.isDeactivated,
          JSON.stringify(next.annotations),
          next.resourceVersion,
        ],
      );
      return next;
    });
    this.#changed({ userId: update.id });
    return updated;
  }

  async deleteUser(id: string, idp: string): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await this.#user(tx, id, idp, 'deleting user');
      await tx.execute('DELETE FROM ledger_api_user_rights WHERE user_id = $1', [id]);
      await tx.execute('DELETE FROM ledger_api_users WHERE user_id = $1', [id]);
    });
    this.#changed({ userId: id });
  }

  /** Grants `rights`; returns those the user did not have yet. */
  async grantRights(id: string, rights: readonly UserRight[], idp: string): Promise<UserRight[]> {
    const granted = await this.storage.transaction(async (tx) => {
      await this.#user(tx, id, idp, 'grant user rights');
      const had = new Set((await this.#rights(tx, id)).map(rightKey));
      const fresh = distinctRights(rights).filter((r) => !had.has(rightKey(r)));
      if (had.size + fresh.length > MAX_RIGHTS_PER_USER) throw tooManyRights(id, had.size + fresh.length);
      await insertRights(tx, id, fresh);
      return fresh;
    });
    if (granted.length > 0) this.#changed({ userId: id });
    return granted;
  }

  /** Revokes `rights`; returns those the user had. */
  async revokeRights(id: string, rights: readonly UserRight[], idp: string): Promise<UserRight[]> {
    const revoked = await this.storage.transaction(async (tx) => {
      await this.#user(tx, id, idp, 'revoke user rights');
      const had = new Set((await this.#rights(tx, id)).map(rightKey));
      const gone = distinctRights(rights).filter((r) => had.has(rightKey(r)));
      for (const r of gone) {
        await tx.execute(
          'DELETE FROM ledger_api_user_rights WHERE user_id = $1 AND kind = $2 AND party = $3',
          [id, r.kind, 'party' in r ? r.party : ''],
        );
      }
      return gone;
    });
    if (revoked.length > 0) this.#changed({ userId: id });
    return revoked;
  }

  async listRights(id: string, idp: string): Promise<UserRight[]> {
    await this.#user(this.storage, id, idp, 'list user rights', false);
    return this.#rights(this.storage, id);
  }

  /** Users of identity provider `idp` with ids after `afterId`, in id order, at most `max`. */
  async listUsers(afterId: string | undefined, max: number, idp: string): Promise<User[]> {
    const rows = await this.storage.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM ledger_api_users WHERE identity_provider_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`,
      [idp, afterId ?? '', max],
    );
    return rows.map(toUser);
  }

  /** Moves a user from identity provider `source` to `target`. */
  async updateUserIdp(id: string, source: string, target: string): Promise<User> {
    const moved = await this.storage.transaction(async (tx) => {
      const user = await this.#user(tx, id, source, 'update user identity provider');
      await tx.execute('UPDATE ledger_api_users SET identity_provider_id = $2 WHERE user_id = $1', [
        id,
        target,
      ]);
      return { ...user, identityProviderId: target };
    });
    this.#changed({ userId: id });
    return moved;
  }

  // Identity provider configs

  /** Whether `idp` names the default provider or a configured one. */
  async identityProviderExists(idp: string): Promise<boolean> {
    if (idp === '') return true;
    const row = await this.storage.queryOne(
      'SELECT 1 AS one FROM ledger_api_identity_providers WHERE identity_provider_id = $1',
      [idp],
    );
    return row !== undefined;
  }

  async createIdentityProvider(config: IdentityProviderConfig): Promise<IdentityProviderConfig> {
    await this.storage.transaction(async (tx) => {
      const existing = await tx.query<IdpRow>(`SELECT ${IDP_COLUMNS} FROM ledger_api_identity_providers`);
      if (existing.some((r) => r.identity_provider_id === config.identityProviderId)) {
        throw idpExists(config.identityProviderId);
      }
      if (existing.some((r) => r.issuer === config.issuer)) throw issuerExists(config.issuer);
      if (existing.length >= MAX_IDENTITY_PROVIDER_CONFIGS) {
        throw new WeftError(
          IdentityProviderConfigErrors.TOO_MANY_IDENTITY_PROVIDER_CONFIGS,
          `creating identity provider config failed: there are already ${existing.length} identity provider configs, the maximum`,
        );
      }
      const inserted = await tx.insertMany(
        'ledger_api_identity_providers',
        IDP_COLUMNS.split(', '),
        [[config.identityProviderId, config.isDeactivated, config.jwksUrl, config.issuer, config.audience]],
        { onConflict: 'ignore' },
      );
      if (inserted === 0) throw idpExists(config.identityProviderId);
    });
    this.#changed({ identityProviders: true });
    return config;
  }

  async getIdentityProvider(idp: string): Promise<IdentityProviderConfig> {
    const row = await this.storage.queryOne<IdpRow>(
      `SELECT ${IDP_COLUMNS} FROM ledger_api_identity_providers WHERE identity_provider_id = $1`,
      [idp],
    );
    if (row === undefined) throw idpNotFound(idp);
    return toIdp(row);
  }

  /** The active identity provider whose tokens carry `issuer`, or undefined. */
  async activeIdentityProviderByIssuer(issuer: string): Promise<IdentityProviderConfig | undefined> {
    const row = await this.storage.queryOne<IdpRow>(
      `SELECT ${IDP_COLUMNS} FROM ledger_api_identity_providers WHERE issuer = $1 AND NOT is_deactivated`,
      [issuer],
    );
    return row === undefined ? undefined : toIdp(row);
  }

  async listIdentityProviders(): Promise<IdentityProviderConfig[]> {
    const rows = await this.storage.query<IdpRow>(
      `SELECT ${IDP_COLUMNS} FROM ledger_api_identity_providers ORDER BY identity_provider_id`,
    );
    return rows.map(toIdp);
  }

  async updateIdentityProvider(update: IdentityProviderConfigUpdate): Promise<IdentityProviderConfig> {
    const updated = await this.storage.transaction(async (tx) => {
      await tx.execute(
        'UPDATE ledger_api_identity_providers SET is_deactivated = is_deactivated WHERE identity_provider_id = $1',
        [update.identityProviderId],
      );
      const row = await tx.queryOne<IdpRow>(
        `SELECT ${IDP_COLUMNS} FROM ledger_api_identity_providers WHERE identity_provider_id = $1`,
        [update.identityProviderId],
      );
      if (row === undefined) throw idpNotFound(update.identityProviderId);
      const current = toIdp(row);
      const next: IdentityProviderConfig = {
        identityProviderId: current.identityProviderId,
        isDeactivated: update.isDeactivated ?? current.isDeactivated,
        jwksUrl: update.jwksUrl ?? current.jwksUrl,
        issuer: update.issuer ?? current.issuer,
        audience: update.audience ?? current.audience,
      };
      if (next.issuer !== current.issuer) {
        const clash = await tx.queryOne(
          'SELECT 1 AS one FROM ledger_api_identity_providers WHERE issuer = $1',
          [next.issuer],
        );
        if (clash !== undefined) throw issuerExists(next.issuer);
      }
      await tx.execute(
        'UPDATE ledger_api_identity_providers SET is_deactivated = $2, jwks_url = $3, issuer = $4, audience = $5 WHERE identity_provider_id = $1',
        [next.identityProviderId, next.isDeactivated, next.jwksUrl, next.issuer, next.audience],
      );
      return next;
    });
    this.#changed({ identityProviders: true });
    return updated;
  }

  async deleteIdentityProvider(idp: string): Promise<void> {
    const deleted = await this.storage.execute(
      'DELETE FROM ledger_api_identity_providers WHERE identity_provider_id = $1',
      [idp],
    );
    if (deleted === 0) throw idpNotFound(idp);
    this.#changed({ identityProviders: true });
  }
}

async function insertRights(tx: Queryable, id: string, rights: readonly UserRight[]): Promise<void> {
  if (rights.length === 0) return;
  await tx.insertMany(
    'ledger_api_user_rights',
    ['user_id', 'kind', 'party'],
    rights.map((r) => [id, r.kind, 'party' in r ? r.party : '']),
    { onConflict: 'ignore' },
  );
}

function tooManyRights(id: string, count: number): WeftError {
  return new WeftError(
    UserManagementErrors.TOO_MANY_USER_RIGHTS,
    `User "${id}" would have ${count} rights, more than the maximum of ${MAX_RIGHTS_PER_USER}`,
    { userId: id },
  );
}

function idpNotFound(idp: string): WeftError {
  return new WeftError(
    IdentityProviderConfigErrors.IDP_CONFIG_NOT_FOUND,
    `Identity provider config with id "${idp}" has not been found`,
    { identityProviderId: idp },
  );
}

function idpExists(idp: string): WeftError {
  return new WeftError(
    IdentityProviderConfigErrors.IDP_CONFIG_ALREADY_EXISTS,
    `Identity provider config with id "${idp}" already exists`,
    { identityProviderId: idp },
  );
}

function issuerExists(issuer: string): WeftError {
  return new WeftError(
    IdentityProviderConfigErrors.IDP_CONFIG_ISSUER_ALREADY_EXISTS,
    `An identity provider config with issuer "${issuer}" already exists`,
    { issuer },
  );
}
