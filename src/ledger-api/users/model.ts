import { CommonErrors, WeftError } from '../../errors/index.js';
import { invalidField, missingField } from '../validation/index.js';

/**
 * The user management model as Canton has it: users, their rights and identity provider configs, with Canton's
 * id syntax and limits.
 */

/** The user every participant starts with, holding ParticipantAdmin (Canton's bootstrap admin). */
export const PARTICIPANT_ADMIN_USER_ID = 'participant_admin';
/** A user's rights beyond this are refused (Canton's `max-rights-per-user`). */
export const MAX_RIGHTS_PER_USER = 1000;
/** ListUsers pages hold at most this many users (Canton's `max-users-page-size`). */
export const MAX_USERS_PAGE_SIZE = 1000;
/** Identity provider configs a participant accepts (Canton's `max-identity-providers`). */
export const MAX_IDENTITY_PROVIDER_CONFIGS = 10;
/** Annotations of one resource, keys and values in UTF-8 bytes. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export type UserRight =
  | { readonly kind: 'ParticipantAdmin' }
  | { readonly kind: 'IdentityProviderAdmin' }
  | { readonly kind: 'CanReadAsAnyParty' }
  | { readonly kind: 'CanExecuteAsAnyParty' }
  | { readonly kind: 'CanActAs'; readonly party: string }
  | { readonly kind: 'CanReadAs'; readonly party: string }
  | { readonly kind: 'CanExecuteAs'; readonly party: string };

/** A right's identity: equal rights have equal keys. */
export function rightKey(r: UserRight): string {
  return 'party' in r ? `${r.kind}:${r.party}` : r.kind;
}

/** Distinct rights, in the order first given. */
export function distinctRights(rights: Iterable<UserRight>): UserRight[] {
  const seen = new Map<string, UserRight>();
  for (const r of rights) if (!seen.has(rightKey(r))) seen.set(rightKey(r), r);
  return [...seen.values()];
}

export interface User {
  readonly id: string;
  /** '' when the user has none. */
  readonly primaryParty: string;
  readonly isDeactivated: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  /** Bumped by every change of the user's properties (not of its rights), for optimistic concurrency. */
  readonly resourceVersion: bigint;
  /** '' = the default identity provider. */
  readonly identityProviderId: string;
}

/** An UpdateUser request resolved against its update mask: absent fields stay as they are. */
export interface UserUpdate {
  readonly id: string;
  readonly identityProviderId: string;
  readonly primaryParty?: string;
  readonly isDeactivated?: boolean;
  /** Merged into the existing annotations; an empty value removes its key. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** When given, the update applies only to this version of the user. */
  readonly resourceVersion?: bigint;
}

export interface IdentityProviderConfig {
  readonly identityProviderId: string;
  readonly isDeactivated: boolean;
  readonly jwksUrl: string;
  readonly issuer: string;
  /** '' when tokens of this provider need no particular audience. */
  readonly audience: string;
}

export interface IdentityProviderConfigUpdate {
  readonly identityProviderId: string;
  readonly isDeactivated?: boolean;
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

const USER_ID = /^[a-zA-Z0-9@^$.!`\-#+'~_|:]{1,128}$/;
const LEDGER_STRING = /^[a-zA-Z0-9#:\-_/ ]{1,255}$/;

export function isUserId(s: string): boolean {
  return USER_ID.test(s);
}

/** A user id field: non-empty, at most 128 characters of ASCII letters, digits and `@^$.!\`-#+'~_|:`. */
export function requireUserId(s: string, field: string): string {
  if (s === '') throw missingField(field);
  if (!USER_ID.test(s)) {
    throw invalidField(
      field,
      `'${s.slice(0, 128)}' is not a valid user id (at most 128 characters of ASCII letters, digits and @^$.!\`-#+'~_|:)`,
    );
  }
  return s;
}

/** An identity provider id field: '' is the default provider, anything else a ledger string. */
export function optionalIdentityProviderId(s: string, field: string): string {
  if (s !== '' && !LEDGER_STRING.test(s)) {
    throw invalidField(
      field,
      `'${s.slice(0, 255)}' is not a valid identity provider id (at most 255 characters of ASCII letters, digits and '#:-_/ ')`,
    );
  }
  return s;
}

export function requireIdentityProviderId(s: string, field: string): string {
  if (s === '') throw missingField(field);
  return optionalIdentityProviderId(s, field);
}

const NAME_SEGMENT = /^([a-zA-Z0-9]+[a-zA-Z0-9.\-_]*)?[a-zA-Z0-9]+$/;
const DNS_LABEL = '([a-zA-Z0-9]+[a-zA-Z0-9-]*)?[a-zA-Z0-9]+';
const DNS_SUBDOMAIN = new RegExp(`^(${DNS_LABEL}[.])*${DNS_LABEL}$`);

function shorten(s: string): string {
  return s.length > 53 ? `${s.slice(0, 50)}...` : s;
}

export function annotationsBytes(annotations: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(annotations)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/**
 * Annotations of a request, checked as Canton does (Kubernetes-style keys `[prefix/]name`, 256 KiB in all): empty
 * values are allowed only in updates, where they delete their key.
 */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>>,
  allowEmptyValues: boolean,
  field: string,
): Readonly<Record<string, string>> {
  const nonEmpty = Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== ''));
  if (annotationsBytes(nonEmpty) > MAX_ANNOTATIONS_BYTES) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `annotations from field '${field}' are larger than the limit of 256kb`,
      { field },
    );
  }
  for (const [key, value] of Object.entries(annotations)) {
    const slash = key.indexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    let problem: string | undefined;
    if (slash >= 0 && key.indexOf('/', slash + 1) >= 0)
      problem = `Key '${shorten(key)}' contains more than one forward slash ('/') character`;
    else if (prefix !== undefined && prefix.length > 253)
      problem = `Key prefix segment '${shorten(prefix)}' exceeds maximum length of 253 characters`;
    else if (prefix !== undefined && !DNS_SUBDOMAIN.test(prefix))
      problem = `Key prefix segment '${shorten(prefix)}' has invalid syntax`;
    else if (name.length > 63)
      problem = `Key name segment '${shorten(name)}' exceeds maximum length of 63 characters`;
    else if (!NAME_SEGMENT.test(name)) problem = `Key name segment '${shorten(name)}' has invalid syntax`;
    else if (!allowEmptyValues && value === '')
      problem = `The value of an annotation is empty for key: '${shorten(key)}'`;
    if (problem !== undefined) throw new WeftError(CommonErrors.INVALID_ARGUMENT, problem, { field });
  }
  return annotations;
}

/** Canton's annotation update: the new entries over the old, and an empty value removes its key. */
export function mergeAnnotations(
  existing: Readonly<Record<string, string>>,
  update: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...existing, ...update }).filter(([, v]) => v !== ''));
}

/**
 * A protobuf FieldMask checked against the fields of a resource (Canton's update paths): at least one path, each
 * once, each a field or a prefix of one. `match(field)` tells whether a path names the field exactly, names a
 * prefix of it (a whole sub-message), or does not cover it.
 */
export class UpdateMask {
  private constructor(private readonly paths: ReadonlySet<string>) {}

  /** Returns the problem instead of a mask (the caller raises its resource's catalogued error). */
  static parse(paths: readonly string[], fields: readonly string[]): UpdateMask | string {
    if (paths.length === 0) return 'The update mask contains no entries';
    const seen = new Set<string>();
    for (const path of paths) {
      const shown = shorten(path);
      if (seen.has(path)) return `The update path: '${shown}' is duplicated.`;
      if (!fields.some((f) => f === path || f.startsWith(`${path}.`))) {
        return `The update path: '${shown}' points to an unknown field.`;
      }
      seen.add(path);
    }
    return new UpdateMask(seen);
  }

  match(field: string): 'exact' | 'prefix' | undefined {
    if (this.paths.has(field)) return 'exact';
    const parts = field.split('.');
    for (let n = parts.length - 1; n > 0; n--)
      if (this.paths.has(parts.slice(0, n).join('.'))) return 'prefix';
    return undefined;
  }

  /**
   * The new value of a field under this mask: an exact path always sets it; a prefix path sets it unless the value
   * is the field's default (Canton: a whole sub-message in the mask leaves its unset fields alone).
   */
  value<T>(field: string, value: T, isDefault: boolean): T | undefined {
    const m = this.match(field);
    return m === 'exact' || (m === 'prefix' && !isDefault) ? value : undefined;
  }
}
