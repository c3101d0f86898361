import { WeftError } from '../../errors/index.js';
import {
  type ListKnownPackagesResponse,
  PackageManagementService,
  type UpdateVettedPackagesRequest,
  type UpdateVettedPackagesResponse,
  type UploadDarFileRequest,
  UploadDarFileRequest_VettingChange,
  type ValidateDarFileRequest,
  type VettedPackagesRef,
} from '../../generated/com/daml/ledger/api/v2/admin/package_management_service.js';
import type {
  VettedPackage as ProtoVettedPackage,
  VettedPackages as ProtoVettedPackages,
} from '../../generated/com/daml/ledger/api/v2/package_reference.js';
import {
  type GetPackageRequest,
  type GetPackageResponse,
  type GetPackageStatusRequest,
  type GetPackageStatusResponse,
  HashFunction,
  type ListPackagesResponse,
  type ListVettedPackagesRequest,
  type ListVettedPackagesResponse,
  PackageService,
  PackageStatus,
} from '../../generated/com/daml/ledger/api/v2/package_service.js';
import type { KnownPackage, VettingState } from '../../participant/index.js';
import type { VettedPackage } from '../../topology/index.js';
import { requireAdmin, requireAuthenticated } from '../auth/index.js';
import { PackageServiceErrors } from '../packages/errors.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { invalidField, missingField } from '../validation/index.js';
import { timestampMicros, timestampToProto } from './protobuf-time.js';

/** What the package services read of the participant. */
export interface PackageReads {
  knownPackages(): Promise<KnownPackage[]>;
  packagePayload(packageId: string): Promise<Uint8Array | undefined>;
  /** Every participant's vetted packages on the connected synchronizers, by synchronizer id then participant id. */
  allVetting(): (VettingState & { readonly participantId: string })[];
}

/** The most ListVettedPackages returns at once (VersionService advertises it), and its default. */
export const MAX_VETTED_PACKAGES_PAGE_SIZE = 100;

const PACKAGE_ID = /^[0-9a-f]{64}$/;

function packageId(id: string, field: string): string {
  if (id === '') throw missingField(field);
  if (!PACKAGE_ID.test(id))
    throw invalidField(field, `${JSON.stringify(id)} is not a package id (64 hex digits)`);
  return id;
}

/** Vetted packages on the wire, named where the package is known here, sorted by name, version, id. */
function vettedToProto(
  packages: readonly VettedPackage[],
  known: ReadonlyMap<string, KnownPackage>,
): ProtoVettedPackage[] {
  const sortKey = (p: VettedPackage) => {
    const k = known.get(p.packageId);
    return k ? `0${k.name}\u0000${k.version}\u0000${p.packageId}` : `1${p.packageId}`;
  };
  return [...packages]
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))
    .map((p) => {
      const k = known.get(p.packageId);
      return {
        packageId: p.packageId,
        ...(p.validFrom !== undefined ? { validFromInclusive: timestampToProto(p.validFrom) } : {}),
        ...(p.validUntil !== undefined ? { validUntilExclusive: timestampToProto(p.validUntil) } : {}),
        packageName: k?.name ?? '',
        packageVersion: k?.version ?? '',
      };
    });
}

function vettingToProto(
  v: VettingState & { readonly participantId: string },
  packages: readonly VettedPackage[],
  known: ReadonlyMap<string, KnownPackage>,
): ProtoVettedPackages {
  return {
    packages: vettedToProto(packages, known),
    participantId: v.participantId,
    synchronizerId: v.synchronizerId,
    topologySerial: v.serial,
  };
}

const byId = (known: readonly KnownPackage[]) => new Map(known.map((k) => [k.packageId, k]));

/**
 * The Ledger API's PackageService: the packages uploaded here and their archives, and who vets what on the
 * connected synchronizers. Public: any authenticated caller (as Canton).
 */
export function packageService(deps: PackageReads): ServiceImpl {
  return {
    type: PackageService,
    handlers: {
      ListPackages: async (_r: object, ctx: CallContext): Promise<ListPackagesResponse> => {
        requireAuthenticated(ctx.claims);
        return { packageIds: (await deps.knownPackages()).map((p) => p.packageId) };
      },
      GetPackage: async (r: GetPackageRequest, ctx: CallContext): Promise<GetPackageResponse> => {
        requireAuthenticated(ctx.claims);
        const id = packageId(r.packageId, 'package_id');
        const payload = await deps.packagePayload(id);
        if (!payload)
          throw new WeftError(PackageServiceErrors.PACKAGE_NOT_FOUND, `Could not find package ${id}`, {
            packageId: id,
          });
        return { hashFunction: HashFunction.SHA256, archivePayload: payload, hash: id };
      },
      GetPackageStatus: async (
        r: GetPackageStatusRequest,
        ctx: CallContext,
      ): Promise<GetPackageStatusResponse> => {
        requireAuthenticated(ctx.claims);
        const id = packageId(r.packageId, 'package_id');
        const known = (await deps.knownPackages()).some((p) => p.packageId === id);
        return { packageStatus: known ? PackageStatus.REGISTERED : PackageStatus.UNSPECIFIED };
      },
      ListVettedPackages: async (
        r: ListVettedPackagesRequest,
        ctx: CallContext,
      ): Promise<ListVettedPackagesResponse> => {
        requireAuthenticated(ctx.claims);
        if (r.pageSize > MAX_VETTED_PACKAGES_PAGE_SIZE) {
          throw invalidField('page_size', `the page size may be at most ${MAX_VETTED_PACKAGES_PAGE_SIZE}`);
        }
        const pageSize = r.pageSize === 0 ? MAX_VETTED_PACKAGES_PAGE_SIZE : r.pageSize;
        let after: string | undefined;
        if (r.pageToken !== '') {
          after = Buffer.from(r.pageToken, 'base64url').toString('utf8');
          if (!after.includes('\n')) throw invalidField('page_token', 'not a token this service returned');
        }
        const known = byId(await deps.knownPackages());
        const ids = new Set(r.packageMetadataFilter?.packageIds ?? []);
        const prefixes = r.packageMetadataFilter?.packageNamePrefixes ?? [];
        const matches = (p: VettedPackage) => {
          if (ids.size === 0 && prefixes.length === 0) return true;
          const name = known.get(p.packageId)?.name;
          return ids.has(p.packageId) || (name !== undefined && prefixes.some((x) => name.startsWith(x)));
        };
        const participants = new Set(r.topologyStateFilter?.participantIds ?? []);
        const synchronizers = new Set(r.topologyStateFilter?.synchronizerIds ?? []);
        const out: ProtoVettedPackages[] = [];
        let last: string | undefined;
        for (const v of deps.allVetting()) {
          const key = `${v.synchronizerId}\n${v.participantId}`;
          if (after !== undefined && key <= after) continue;
          if (participants.size > 0 && !participants.has(v.participantId)) continue;
          if (synchronizers.size > 0 && !synchronizers.has(v.synchronizerId)) continue;
          const packages = v.packages.filter(matches);
          if (packages.length === 0) continue;
          if (out.length === pageSize) {
            return { vettedPackages: out, nextPageToken: Buffer.from(last!, 'utf8').toString('base64url') };
          }
          out.push(vettingToProto(v, packages, known));
          last = key;
        }
        return { vettedPackages: out, nextPageToken: '' };
      },
    },
  };
}

/** What the package management service does on the participant. */
export interface PackageManagementDeps extends PackageReads {
  readonly participantId: string;
  /** The connected synchronizers. */
  synchronizerIds(): readonly string[];
  uploadDar(bytes: Uint8Array, o: { vet: boolean; synchronizerId?: string }): Promise<string>;
  validateDar(bytes: Uint8Array): void;
  vetting(synchronizerId: string): VettingState;
  updateVetting(
    packages: readonly VettedPackage[],
    o: { synchronizerId: string; dryRun: boolean; expectedSerial?: number },
  ): Promise<{ before: VettingState; after: VettingState }>;
}

/**
 * The synchronizer a vetting goes to (Canton's rule): the one named, which must be connected; else the only one
 * connected; undefined when none is connected and `required` is false.
 */
function targetSynchronizer(
  deps: PackageManagementDeps,
  requested: string,
  required: boolean,
): string | undefined {
  const connected = deps.synchronizerIds();
  if (requested !== '') {
    if (!connected.includes(requested)) {
      throw new WeftError(
        PackageServiceErrors.PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER,
        `the participant is not connected to synchronizer ${requested}`,
        { synchronizerId: requested },
      );
    }
    return requested;
  }
  if (connected.length > 1) {
    throw new WeftError(
      PackageServiceErrors.PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER,
      `the participant is connected to ${connected.length} synchronizers (${connected.join(', ')}); set synchronizer_id`,
    );
  }
  if (connected.length === 0 && required) {
    throw new WeftError(
      PackageServiceErrors.PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER,
      'the participant is not connected to any synchronizer',
    );
  }
  return connected[0];
}

function darBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw missingField('dar_file');
  return bytes;
}

/** The packages a reference names: its set attributes all match (one of id and name must be set). */
function resolve(ref: VettedPackagesRef, candidates: readonly KnownPackage[], field: string): KnownPackage[] {
  if (ref.packageId === '' && ref.packageName === '') {
    throw invalidField(field, 'a package reference needs a package id or a package name');
  }
  const found = candidates.filter(
    (p) =>
      (ref.packageId === '' || p.packageId === ref.packageId) &&
      (ref.packageName === '' || p.name === ref.packageName) &&
      (ref.packageVersion === '' || p.version === ref.packageVersion),
  );
  if (found.length === 0) {
    throw new WeftError(
      PackageServiceErrors.UNRESOLVED_VETTING_REFERENCE,
      `${field} (id ${ref.packageId || '*'}, name ${ref.packageName || '*'}, version ${ref.packageVersion || '*'}) matches no package`,
      { field },
    );
  }
  return found;
}

/** The Ledger API's admin PackageManagementService (ParticipantAdmin for every method, as Canton). */
export function packageManagementService(deps: PackageManagementDeps): ServiceImpl {
  return {
    type: PackageManagementService,
    handlers: {
      ListKnownPackages: async (_r: object, ctx: CallContext): Promise<ListKnownPackagesResponse> => {
        requireAdmin(ctx.claims);
        return {
          packageDetails: (await deps.knownPackages()).map((p) => ({
            packageId: p.packageId,
            packageSize: BigInt(p.size),
            knownSince: timestampToProto(p.knownSince),
            name: p.name,
            version: p.version,
          })),
        };
      },
      UploadDarFile: async (r: UploadDarFileRequest, ctx: CallContext): Promise<object> => {
        requireAdmin(ctx.claims);
        const bytes = darBytes(r.darFile);
        const vet = r.vettingChange !== UploadDarFileRequest_VettingChange.DONT_VET_ANY_PACKAGES;
        const synchronizerId = vet ? targetSynchronizer(deps, r.synchronizerId, false) : undefined;
        await deps.uploadDar(bytes, {
          vet: synchronizerId !== undefined,
          ...(synchronizerId ? { synchronizerId } : {}),
        });
        return {};
      },
      ValidateDarFile: async (r: ValidateDarFileRequest, ctx: CallContext): Promise<object> => {
        requireAdmin(ctx.claims);
        const bytes = darBytes(r.darFile);
        targetSynchronizer(deps, r.synchronizerId, false);
        deps.validateDar(bytes);
        return {};
      },
      UpdateVettedPackages: async (
        r: UpdateVettedPackagesRequest,
        ctx: CallContext,
      ): Promise<UpdateVettedPackagesResponse> => {
        requireAdmin(ctx.claims);
        if (r.changes.length === 0) throw missingField('changes');
        const synchronizerId = targetSynchronizer(deps, r.synchronizerId, true)!;
        const known = await deps.knownPackages();
        const current = deps.vetting(synchronizerId);
        const next = new Map(current.packages.map((p) => [p.packageId, p]));
        // Unvetting may also name a vetted package that is not uploaded here (by id).
        const vettedOnly = current.packages
          .filter((p) => !known.some((k) => k.packageId === p.packageId))
          .map(
            (p): KnownPackage => ({ packageId: p.packageId, name: '', version: '', size: 0, knownSince: 0n }),
          );
        for (const [i, change] of r.changes.entries()) {
          const op = change.operation;
          if (op.oneofKind === 'vet') {
            if (op.vet.packages.length === 0) throw missingField(`changes[${i}].vet.packages`);
            for (const [j, ref] of op.vet.packages.entries()) {
              const field = `changes[${i}].vet.packages[${j}]`;
              const found = resolve(ref, known, field);
              if (found.length > 1) {
                throw new WeftError(
                  PackageServiceErrors.AMBIGUOUS_VETTING_REFERENCE,
                  `${field} matches ${found.length} packages (${found.map((p) => `${p.name} ${p.version}`).join(', ')}); name one`,
                  { field },
                );
              }
              const validFrom = op.vet.newValidFromInclusive && timestampMicros(op.vet.newValidFromInclusive);
              const validUntil =
                op.vet.newValidUntilExclusive && timestampMicros(op.vet.newValidUntilExclusive);
              next.set(found[0]!.packageId, {
                packageId: found[0]!.packageId,
                ...(validFrom !== undefined ? { validFrom } : {}),
                ...(validUntil !== undefined ? { validUntil } : {}),
              });
            }
          } else if (op.oneofKind === 'unvet') {
            if (op.unvet.packages.length === 0) throw missingField(`changes[${i}].unvet.packages`);
            for (const [j, ref] of op.unvet.packages.entries()) {
              const field = `changes[${i}].unvet.packages[${j}]`;
              for (const p of resolve(ref, [...known, ...vettedOnly], field)) next.delete(p.packageId);
            }
          } else {
            throw missingField(`changes[${i}].operation`);
          }
        }
        const prior = r.expectedTopologySerial?.serial;
        const expectedSerial =
          prior?.oneofKind === 'prior' ? prior.prior : prior?.oneofKind === 'noPrior' ? 0 : undefined;
        const { before, after } = await deps.updateVetting([...next.values()], {
          synchronizerId,
          dryRun: r.dryRun,
          ...(expectedSerial !== undefined ? { expectedSerial } : {}),
        });
        const self = (v: VettingState) => ({ ...v, participantId: deps.participantId });
        const knownById = byId(known);
        return {
          ...(before.serial > 0
            ? { pastVettedPackages: vettingToProto(self(before), before.packages, knownById) }
            : {}),
          newVettedPackages: vettingToProto(self(after), after.packages, knownById),
        };
      },
    },
  };
}
