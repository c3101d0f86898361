import type { RandomSource } from '../../crypto/index.js';
import type {
  GetUpdateByIdRequest,
  GetUpdateResponse,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { ParticipantNode } from '../../participant/index.js';
import type { Storage } from '../../storage/index.js';
import { PartyRecords } from '../parties/index.js';
import type { ServiceImpl, UnaryHandler } from '../service.js';
import type { UserStore } from '../users/index.js';
import { commandInspectionService } from './command-inspection.js';
import { commandSubmissionService } from './command-submission.js';
import { commandDecoding, commandService } from './commands.js';
import { completionService } from './completions.js';
import { packageManagementService, packageService } from './packages.js';
import { partyService } from './parties.js';
import { type StaticTime, timeService } from './time.js';

/** What the command and admin services of a participant's Ledger API are built from. */
export interface CommandServicesHost {
  readonly participant: ParticipantNode;
  /** The participant's storage: the party records live there. */
  readonly storage: Storage;
  readonly users: UserStore;
  readonly random: RandomSource;
  /** The UpdateService's GetUpdateById, which SubmitAndWaitForTransaction answers through. */
  readonly getUpdateById: UnaryHandler<GetUpdateByIdRequest, GetUpdateResponse>;
  /** The offset the participant is pruned up to, inclusive (0 = never pruned). */
  prunedUpTo(): Promise<bigint>;
  /** The sandbox's static clock, when it runs on one: then the testing TimeService is served. */
  readonly staticTime?: StaticTime;
}

/**
 * The Command, CommandSubmission, CommandCompletion, CommandInspection, Package, PackageManagement and
 * PartyManagement services of a participant (and the testing TimeService on static time), each over the narrow
 * part of the participant it needs.
 */
export async function commandServices(host: CommandServicesHost): Promise<ServiceImpl[]> {
  const p = host.participant;
  const decoding = commandDecoding(p.engine);
  const records = await PartyRecords.open(host.storage);
  // The Ledger API names a participant by its unique identifier, without the member code (`PAR::`).
  const participantId = p.id.uid.toString();
  const packageReads = {
    knownPackages: () => p.knownPackages(),
    packagePayload: (id: string) => p.packagePayload(id),
    allVetting: () => p.allVetting(),
  };
  const services = [
    commandService({ ...decoding, submit: (r) => p.submit(r), getUpdateById: host.getUpdateById }),
    commandSubmissionService({ ...decoding, send: (r) => p.send(r) }),
    completionService({
      ledgerEnd: () => p.durableEnd,
      prunedUpTo: () => host.prunedUpTo(),
      completions: (filter, o) => p.completions(filter, { ...o, checkpoints: true }),
    }),
    commandInspectionService({ commandStatuses: (o) => p.commandStatuses(o) }),
    packageService(packageReads),
    packageManagementService({
      ...packageReads,
      participantId,
      synchronizerIds: () => p.synchronizerIds,
      uploadDar: (bytes, o) => p.uploadDar(bytes, o),
      validateDar: (bytes) => p.validateDar(bytes),
      vetting: (synchronizerId) => p.vetting(synchronizerId),
      updateVetting: (packages, o) => p.updateVetting(packages, o),
    }),
    partyService({
      participantId,
      records,
      random: host.random,
      allocateParty: (hint, o) => p.allocateParty(hint, o),
      knownParties: () => p.knownParties(),
      identityProviderExists: (idp) => host.users.identityProviderExists(idp),
      grantActAs: async (userId, party, identityProviderId) => {
        await host.users.grantRights(userId, [{ kind: 'CanActAs', party }], identityProviderId);
      },
    }),
  ];
  return host.staticTime ? [...services, timeService(host.staticTime)] : services;
}
