import {
  archivePayload,
  type DarLimits,
  forEachNode,
  informeesOf,
  type PackageRegistry,
  readDar,
  type Transaction,
} from '../daml/index.js';
import { loadAndValidateDar, validateDar } from '../daml/typecheck/index.js';
import { ParticipantId, PartyId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import type { Clock } from '../time/index.js';
import type { ParticipantStore } from './store.js';

export interface DarInfo {
  readonly mainPackageId: string;
  readonly name: string;
  readonly version: string;
  readonly packageIds: readonly string[];
  readonly adminWorkflow: boolean;
}

/** A package the participant knows (Canton's PackageDetails). */
export interface KnownPackage {
  readonly packageId: string;
  readonly name: string;
  readonly version: string;
  /** Bytes of its `ArchivePayload`. */
  readonly size: number;
  /** When the first DAR holding it was uploaded (µs). */
  readonly knownSince: bigint;
}

/**
 * The DARs uploaded to the participant (Canton's package service): validated and stored here, their packages in
 * the engine's registry. Vetting them on a synchronizer is a topology request of the node.
 */
export class PackageService {
  constructor(
    readonly registry: PackageRegistry,
    private readonly store: ParticipantStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** What reading a DAR may inflate: uploads are untrusted input; stored DARs were held to the same bounds. */
    private readonly limits: DarLimits,
  ) {}

  /** Adds the stored DARs to the registry (they were validated when they were uploaded). */
  static async load(
    registry: PackageRegistry,
    store: ParticipantStore,
    clock: Clock,
    logger: Logger,
    limits: DarLimits,
  ): Promise<PackageService> {
    for (const dar of await store.dars()) registry.addAll(readDar(dar.dar, limits).packages);
    return new PackageService(registry, store, clock, logger, limits);
  }

  /** Whether the package is uploaded here. */
  has(packageId: string): boolean {
    return this.registry.lookupPackage(packageId) !== undefined;
  }

  /** Validates every package of a DAR (Daml-LF type checking) and stores it; returns the main package id. */
  async upload(bytes: Uint8Array, o: { adminWorkflow?: boolean } = {}): Promise<string> {
    const dar = loadAndValidateDar(bytes, this.registry, this.limits);
    await this.store.saveDar({
      mainPackageId: dar.main.id,
      name: dar.main.metadata.name,
      version: dar.main.metadata.version,
      dar: bytes,
      uploadedAt: this.clock.now(),
      adminWorkflow: o.adminWorkflow ?? false,
    });
    this.logger.info(
      { mainPackageId: dar.main.id, packages: dar.packages.length },
      `uploaded DAR ${dar.main.metadata.name}`,
    );
    return dar.main.id;
  }

  /**
   * Checks a DAR as `upload` does (reading it within the limits, Daml-LF type checking against the packages here)
   * without storing it or adding its packages anywhere.
   */
  validate(bytes: Uint8Array): void {
    validateDar(readDar(bytes, this.limits), this.registry);
  }

  /** The packages of the stored DARs, each once, in upload order. */
  async known(): Promise<KnownPackage[]> {
    const out = new Map<string, KnownPackage>();
    for (const row of await this.store.dars()) {
      const dar = readDar(row.dar, this.limits);
      for (const d of dar.dalfs) {
        if (out.has(d.packageId)) continue;
        const pkg = dar.packages.find((p) => p.id === d.packageId)!;
        out.set(d.packageId, {
          packageId: d.packageId,
          name: pkg.metadata.name,
          version: pkg.metadata.version,
          size: archivePayload(d.archive, d.path).byteLength,
          knownSince: row.uploadedAt,
        });
      }
    }
    return [...out.values()];
  }

  /** The `ArchivePayload` of a package of the stored DARs (the bytes its id hashes), if it is here. */
  async payload(packageId: string): Promise<Uint8Array | undefined> {
    if (!this.has(packageId)) return undefined;
    for (const row of await this.store.dars()) {
      const dalf = readDar(row.dar, this.limits).dalfs.find((d) => d.packageId === packageId);
      if (dalf) return archivePayload(dalf.archive, dalf.path);
    }
    return undefined;
  }

  async dars(): Promise<DarInfo[]> {
    return (await this.store.dars()).map((d) => ({
      mainPackageId: d.mainPackageId,
      name: d.name,
      version: d.version,
      packageIds: readDar(d.dar, this.limits).packages.map((p) => p.id),
      adminWorkflow: d.adminWorkflow,
    }));
  }
}

/** What topology-aware package selection reads of a synchronizer's topology. */
export interface VettingTopology {
  partyHosting(
    party: PartyId,
  ): { readonly participants: readonly { readonly participant: ParticipantId }[] } | undefined;
  isPackageVetted(participant: ParticipantId, packageId: string, ledgerTime: bigint): boolean;
}

/**
 * Topology-aware package selection (Canton 3.4's, for a submission without a package preference): for each package
 * name the transaction used in several known versions, the newest version that every participant hosting one of
 * the transaction's informees has vetted at the ledger time. Returns the preference to interpret again with, or
 * undefined when the transaction already used those versions (or no version is vetted by all of them: the
 * submission then fails on the vetting check, naming the participant).
 */
export function vettedPackagePreference(
  registry: PackageRegistry,
  topology: VettingTopology,
  transaction: Transaction,
  ledgerTime: bigint,
): string[] | undefined {
  // Most transactions use one version of each package name: they cost one pass and no topology lookups.
  const used = new Map<string, Set<string>>();
  const versions = new Map<string, boolean>();
  forEachNode(transaction, (_id, node) => {
    if (node.tag === 'Rollback') return;
    let several = versions.get(node.packageName);
    if (several === undefined) {
      several = registry.packageIdsByName(node.packageName).length > 1;
      versions.set(node.packageName, several);
    }
    if (!several) return;
    const ids = used.get(node.packageName) ?? new Set();
    ids.add(node.templateId.packageId);
    used.set(node.packageName, ids);
  });
  if (used.size === 0) return undefined;
  const participants = new Set<string>();
  forEachNode(transaction, (_id, node) => {
    if (node.tag === 'Rollback') return;
    for (const party of informeesOf(node))
      for (const h of topology.partyHosting(PartyId.parse(party))?.participants ?? [])
        participants.add(String(h.participant));
  });
  const hosts = [...participants].map((p) => ParticipantId.parse(p));
  const preference: string[] = [];
  let changed = false;
  for (const [name, ids] of used) {
    const chosen = registry
      .packageIdsByName(name)
      .find((id) => hosts.every((p) => topology.isPackageVetted(p, id, ledgerTime)));
    if (chosen === undefined) continue;
    preference.push(chosen);
    changed ||= ids.size !== 1 || !ids.has(chosen);
  }
  return changed ? preference : undefined;
}
