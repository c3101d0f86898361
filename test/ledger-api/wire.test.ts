// Wire compatibility of Weft's Ledger API protos with Canton's, checked against an independent build of Canton's
// protos: the published `@canton-network/core-ledger-proto` (protobuf-ts, generated from Canton 3.3's
// `com.daml.ledger.api.v2`). Every message and service both sides have must agree on everything that reaches the
// wire or a generated client: field names, numbers, kinds, scalar/enum/message types, repetition, proto3
// `optional` and oneof membership; enums on value names and numbers; services on methods, their request and
// response types and streaming. The differences between 3.3 and 3.4 are listed below, one by one, from Canton's
// release-line-3.4 protos: anything else that differs fails.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EnumInfo, IMessageType } from '@protobuf-ts/runtime';
import type { ServiceType } from '@protobuf-ts/runtime-rpc';
import { describe, expect, it } from 'vitest';

const PUBLISHED = join(
  dirname(createRequire(import.meta.url).resolve('@canton-network/core-ledger-proto')),
  '..',
  'esm/_proto',
);
const OURS = fileURLToPath(new URL('../../src/generated', import.meta.url));
/**
 * The folders of the wire contract; `deep` includes sub-folders. The published package also carries Canton's
 * participant admin protos and google/rpc/context (audit messages), which the Ledger API does not use.
 */
const CONTRACT = [
  { dir: 'com/daml/ledger/api/v2', deep: true },
  { dir: 'google/rpc', deep: false },
];

// What 3.4 changed relative to 3.3, read from Canton's release-line-3.4 protos. Entries are "<type>",
// "<type>.<field>" or "<service>.<method>" with full proto names.
const V2 = 'com.daml.ledger.api.v2';
/** Gone in 3.4: the transaction-tree and transaction-by-id/offset reads, and the legacy filter/verbose pairs. */
const REMOVED_IN_3_4 = new Set([
  ...[
    'GetActiveContractsRequest.filter',
    'GetActiveContractsRequest.verbose',
    'GetUpdatesRequest.filter',
    'GetUpdatesRequest.verbose',
    'GetEventsByContractIdRequest.requesting_parties',
    'TransactionFilter',
    'TransactionTree',
    'TreeEvent',
    'SubmitAndWaitForTransactionTreeResponse',
    'GetTransactionByIdRequest',
    'GetTransactionByOffsetRequest',
    'GetTransactionResponse',
    'GetTransactionTreeResponse',
    'GetUpdateTreesResponse',
    'CommandService.SubmitAndWaitForTransactionTree',
    'UpdateService.GetUpdateTrees',
    'UpdateService.GetTransactionTreeByOffset',
    'UpdateService.GetTransactionTreeById',
    'UpdateService.GetTransactionByOffset',
    'UpdateService.GetTransactionById',
  ].map((n) => `${V2}.${n}`),
  // Moved to com.daml.ledger.api.v2.Signature (crypto.proto), same fields: see MOVED_IN_3_4.
  `${V2}.interactive.Signature`,
]);
/** New in 3.4. */
const ADDED_IN_3_4 = new Set(
  [
    'CreatedEvent.acs_delta',
    'CreatedEvent.representative_package_id',
    'ExercisedEvent.acs_delta',
    'Reassignment.synchronizer_id',
    'Transaction.external_transaction_hash',
    'GetConnectedSynchronizersRequest.identity_provider_id',
    'FeaturesDescriptor.package_feature',
    'admin.UploadDarFileRequest.vetting_change',
    'admin.UploadDarFileRequest.synchronizer_id',
    'admin.ValidateDarFileRequest.synchronizer_id',
    'admin.AllocatePartyRequest.synchronizer_id',
    'admin.AllocatePartyRequest.user_id',
    // A 3.4 patch release's (3.4.12's OpenAPI has `filter-party` on GET /v2/parties; number from Canton's proto).
    'admin.ListKnownPartiesRequest.filter_party',
    'admin.Right.can_execute_as',
    'admin.Right.can_execute_as_any_party',
    'interactive.PrepareSubmissionRequest.estimate_traffic_cost',
    'interactive.PrepareSubmissionResponse.cost_estimation',
    'admin.PackageManagementService.UpdateVettedPackages',
    'PackageService.ListVettedPackages',
    'interactive.InteractiveSubmissionService.ExecuteSubmissionAndWait',
    'interactive.InteractiveSubmissionService.ExecuteSubmissionAndWaitForTransaction',
  ].map((n) => `${V2}.${n}`),
);
/** Renamed in 3.4 with number and type kept (binary-compatible): "<type>.<3.3 name>" → 3.4 name. */
const RENAMED_IN_3_4 = new Map([
  [`${V2}.UnassignedEvent.unassign_id`, 'reassignment_id'],
  [`${V2}.AssignedEvent.unassign_id`, 'reassignment_id'],
  [`${V2}.AssignCommand.unassign_id`, 'reassignment_id'],
]);
/** Types 3.4 moved from the interactive package to crypto.proto, unchanged: 3.3 name → 3.4 name. */
const MOVED_IN_3_4 = new Map(
  ['Signature', 'SignatureFormat', 'SigningAlgorithmSpec'].map((n) => [
    `${V2}.interactive.${n}`,
    `${V2}.${n}`,
  ]),
);

interface FieldShape {
  no: number;
  name: string;
  kind: string;
  type: string;
  repeat: boolean;
  opt: boolean;
  oneof: string | undefined;
}

type Loaded = { messages: Map<string, IMessageType<object>>; services: Map<string, ServiceType> };

function files(dir: string, deep: boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (deep ? files(join(dir, e.name), deep) : []) : [join(dir, e.name)],
  );
}

/** Every MessageType and ServiceType exported by the wire contract's modules under `root`. */
async function load(root: string, ext: RegExp): Promise<Loaded> {
  const messages = new Map<string, IMessageType<object>>();
  const services = new Map<string, ServiceType>();
  for (const { dir, deep } of CONTRACT) {
    for (const file of files(join(root, dir), deep).filter((f) => ext.test(f))) {
      const module: Record<string, unknown> = await import(pathToFileURL(file).href);
      for (const value of Object.values(module)) {
        if (typeof value !== 'object' || value === null || !('typeName' in value)) continue;
        if ('fields' in value) messages.set(String(value.typeName), value as IMessageType<object>);
        if ('methods' in value) services.set(String(value.typeName), value as ServiceType);
      }
    }
  }
  return { messages, services };
}

const moved = (typeName: string) => MOVED_IN_3_4.get(typeName) ?? typeName;

/** An enum's name with its values (names and numbers), so enums are compared wherever a field uses them. */
function enumShape([name, values, prefix]: EnumInfo): string {
  const entries = Object.entries(values).filter(([, n]) => typeof n === 'number');
  return `enum:${moved(name)}:${prefix ?? ''}:${entries.map(([k, n]) => `${k}=${n}`).join(',')}`;
}

/** The wire-relevant shape of a field, independent of which generator run produced it. */
function shape(field: IMessageType<object>['fields'][number]): FieldShape {
  let type: string;
  if (field.kind === 'scalar') type = `scalar:${field.T}:${field.L ?? 0}`;
  else if (field.kind === 'enum') type = enumShape(field.T());
  else if (field.kind === 'message') type = `message:${moved(field.T().typeName)}`;
  else {
    const v = field.V;
    const value =
      v.kind === 'scalar'
        ? `scalar:${v.T}`
        : v.kind === 'enum'
          ? enumShape(v.T())
          : `message:${moved(v.T().typeName)}`;
    type = `map:${field.K}:${value}`;
  }
  return {
    no: field.no,
    name: field.name,
    kind: field.kind,
    type,
    repeat: Boolean(field.repeat),
    opt: Boolean(field.opt),
    oneof: field.oneof,
  };
}

const published = await load(PUBLISHED, /(?<!\.client)(?<!\.d)\.js$/);
const ours = await load(OURS, /(?<!\.grpc-client)(?<!\.grpc-server)\.ts$/);

/** Whether a "<type>", "<type>.<field>" or "<service>.<method>" name exists on one side. */
function has(loaded: Loaded, entry: string): boolean {
  return (
    loaded.messages.has(entry) ||
    [...loaded.messages].some(([n, t]) => t.fields.some((f) => `${n}.${f.name}` === entry)) ||
    [...loaded.services].some(([n, s]) => s.methods.some((m) => `${n}.${m.name}` === entry))
  );
}

/** The message names and the names of the enums that fields use. */
function types(loaded: Loaded): Set<string> {
  const names = new Set(loaded.messages.keys());
  for (const message of loaded.messages.values()) {
    for (const field of message.fields) {
      if (field.kind === 'enum') names.add(field.T()[0]);
      if (field.kind === 'map' && field.V.kind === 'enum') names.add(field.V.T()[0]);
    }
  }
  return names;
}

describe('Ledger API wire contract against @canton-network/core-ledger-proto', () => {
  it('finds both sides', () => {
    // Guards the rest: an empty side would make every comparison vacuous.
    expect(published.messages.size).toBeGreaterThan(150);
    expect(ours.messages.size).toBeGreaterThan(published.messages.size);
    expect(published.services.size).toBeGreaterThan(10);
  });

  it('has every published message except those 3.4 removed', () => {
    const missing = [...published.messages.keys()].filter(
      (n) => !ours.messages.has(moved(n)) && !REMOVED_IN_3_4.has(n),
    );
    expect(missing).toEqual([]);
  });

  it('agrees on every field of every message both have', () => {
    const mismatches: string[] = [];
    for (const [name, theirs] of published.messages) {
      const mine = ours.messages.get(moved(name));
      if (mine === undefined) continue;
      const a = new Map(theirs.fields.map((f) => [f.no, shape(f)]));
      const b = new Map(mine.fields.map((f) => [f.no, shape(f)]));
      for (const [no, field] of a) {
        const other = b.get(no);
        const expected = { ...field, name: RENAMED_IN_3_4.get(`${name}.${field.name}`) ?? field.name };
        if (other === undefined) {
          if (!REMOVED_IN_3_4.has(`${name}.${field.name}`)) mismatches.push(`${name}: field ${no} missing`);
        } else if (JSON.stringify(other) !== JSON.stringify(expected)) {
          mismatches.push(
            `${name}: field ${no} is ${JSON.stringify(other)}, expected ${JSON.stringify(expected)}`,
          );
        }
      }
      for (const [no, field] of b) {
        if (!a.has(no) && !ADDED_IN_3_4.has(`${moved(name)}.${field.name}`)) {
          mismatches.push(`${name}: field ${no} (${field.name}) is not published`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('agrees on every service and method both have', () => {
    const mismatches: string[] = [];
    const methods = (s: ServiceType) =>
      new Map(
        s.methods.map((m) => [
          m.name,
          `${m.I.typeName} -> ${m.O.typeName} client-stream=${Boolean(m.clientStreaming)} server-stream=${Boolean(m.serverStreaming)}`,
        ]),
      );
    for (const [name, theirs] of published.services) {
      const mine = ours.services.get(name);
      if (mine === undefined) {
        mismatches.push(`${name}: service missing`);
        continue;
      }
      const a = methods(theirs);
      const b = methods(mine);
      for (const [method, signature] of a) {
        const other = b.get(method);
        if (other === undefined) {
          if (!REMOVED_IN_3_4.has(`${name}.${method}`)) mismatches.push(`${name}.${method}: missing`);
        } else if (other !== signature) {
          mismatches.push(`${name}.${method}: ${other}, published ${signature}`);
        }
      }
      for (const method of b.keys()) {
        if (!a.has(method) && !ADDED_IN_3_4.has(`${name}.${method}`)) {
          mismatches.push(`${name}.${method}: not published`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('lists only real differences', () => {
    // An allowance that no longer matches a difference would hide a future regression.
    const stale = [
      ...[...REMOVED_IN_3_4].filter((e) => !has(published, e) || has(ours, e)),
      ...[...ADDED_IN_3_4].filter((e) => has(published, e) || !has(ours, e)),
      ...[...RENAMED_IN_3_4].filter(
        ([old, name]) => !has(published, old) || !has(ours, `${old.slice(0, old.lastIndexOf('.'))}.${name}`),
      ),
      ...[...MOVED_IN_3_4].filter(([old, name]) => !types(published).has(old) || !types(ours).has(name)),
    ];
    expect(stale).toEqual([]);
  });
});
