import {
  type FeaturesDescriptor,
  type GetLedgerApiVersionRequest,
  type GetLedgerApiVersionResponse,
  VersionService,
} from '../../generated/com/daml/ledger/api/v2/version_service.js';
import type { ServiceImpl, UnaryHandler } from '../service.js';

/**
 * The Ledger API version Weft answers: the Canton release line whose protos it serves (clients such as the
 * canton-network SDKs pick their wire format from its major.minor).
 */
export const LEDGER_API_VERSION = '3.4.0';

/** What the participant offers, as VersionService reports it (limits come from the services that enforce them). */
export interface VersionFeatures {
  readonly maxRightsPerUser: number;
  readonly maxUsersPageSize: number;
  readonly maxPartiesPageSize: number;
  readonly maxVettedPackagesPageSize: number;
  /** The longest the update and completion streams go without an offset checkpoint, in milliseconds. */
  readonly maxOffsetCheckpointEmissionDelayMs: number;
  /** The participant runs on a static clock that testing.TimeService sets (the sandbox's `--static-time`). */
  readonly staticTime: boolean;
}

/**
 * VersionService.GetLedgerApiVersion. Canton guards it with no authorization check: any caller may ask which API
 * version and features a participant has before it authenticates.
 */
export function versionService(features: VersionFeatures): ServiceImpl {
  const ms = BigInt(features.maxOffsetCheckpointEmissionDelayMs);
  const descriptor: FeaturesDescriptor = {
    experimental: {
      staticTime: { supported: features.staticTime },
      commandInspectionService: { supported: true },
    },
    userManagement: {
      supported: true,
      maxRightsPerUser: features.maxRightsPerUser,
      maxUsersPageSize: features.maxUsersPageSize,
    },
    partyManagement: { maxPartiesPageSize: features.maxPartiesPageSize },
    offsetCheckpoint: {
      maxOffsetCheckpointEmissionDelay: { seconds: ms / 1000n, nanos: Number(ms % 1000n) * 1_000_000 },
    },
    packageFeature: { maxVettedPackagesPageSize: features.maxVettedPackagesPageSize },
  };
  const getLedgerApiVersion: UnaryHandler<
    GetLedgerApiVersionRequest,
    GetLedgerApiVersionResponse
  > = async () => ({
    version: LEDGER_API_VERSION,
    features: descriptor,
  });
  return { type: VersionService, handlers: { GetLedgerApiVersion: getLedgerApiVersion } };
}
