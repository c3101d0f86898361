import { type DarLimits, type PackageRegistry, readDar } from '../daml/index.js';
import { loadAndValidateDar } from '../daml/typecheck/index.js';
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
