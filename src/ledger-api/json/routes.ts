import type { IMessageType } from '@protobuf-ts/runtime';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { UploadDarFileRequest_VettingChange } from '../../generated/com/daml/ledger/api/v2/admin/package_management_service.js';
import type { Event, ExercisedEvent } from '../../generated/com/daml/ledger/api/v2/event.js';
import { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import {
  EventFormat,
  type TransactionFormat,
  TransactionShape,
  type UpdateFormat,
} from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { JsonCodec } from './codec.js';

/**
 * The operations of Canton 3.4's JSON Ledger API (its openapi.yaml: 49 paths, 61 operations), each bound to the
 * gRPC service method that implements it: the request message is built from the body, path and query, the
 * handler's response is encoded back. Legacy operations that 3.4 still serves (flat and tree updates, transaction
 * lookups, transaction trees) translate to the current methods, as Canton's own JSON layer does.
 */

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** What a request brings, as Fastify parsed it. */
export interface OperationInput {
  readonly body: unknown;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Operation {
  readonly method: HttpMethod;
  /** The OpenAPI path (`/v2/users/{user-id}`). */
  readonly path: string;
  readonly summary: string;
  /** The gRPC service (full name) and method that serve it. */
  readonly service: string;
  readonly rpc: string;
  /** A server stream: served as an HTTP list (bounded) and as a websocket on the same path. */
  readonly stream: boolean;
  /** How the body comes: Canton JSON of `bodyType`, raw bytes (a DAR), or none. */
  readonly body: 'json' | 'octets' | 'none';
  /** The schema of a JSON body when it is not the method's request message (the commands alone, legacy shapes). */
  readonly bodySchema?: string;
  /** Query parameters the operation reads (documented; others are ignored). */
  readonly query: readonly QueryParam[];
  /** The request message for the handler; default: the body decoded as the method's request type. */
  readonly request?: (input: OperationInput, codec: JsonCodec, type: IMessageType<object>) => object;
  /** The JSON of the handler's response; default: the response message encoded. */
  readonly response?: (out: object, codec: JsonCodec, type: IMessageType<object>) => unknown;
  /** The media type of a successful answer (default JSON). */
  readonly produces?: 'application/octet-stream' | 'text/plain';
  /** The JSON schema of the answer where it is not the response message's (legacy shapes). */
  readonly responseSchema?: string;
}

export interface QueryParam {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'boolean';
  readonly array?: boolean;
}

const V2 = 'com.daml.ledger.api.v2';
const ADMIN = `${V2}.admin`;

const str = (q: OperationInput['query'], name: string): string => {
  const v = q[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};
const list = (q: OperationInput['query'], name: string): string[] => {
  const v = q[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter((s) => s !== '');
};
const int = (q: OperationInput['query'], name: string): number => {
  const v = str(q, name);
  if (v === '') return 0;
  if (!/^\d+$/.test(v)) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `Invalid value for: query parameter ${name} (expected a non-negative integer)`,
    );
  }
  return Number(v);
};

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const LIMIT: QueryParam = { name: 'limit', type: 'integer' };
const IDLE: QueryParam = { name: 'stream_idle_timeout_ms', type: 'integer' };

/**
 * The legacy `filter` (a TransactionFilter: the two filter maps) and `verbose` fields 3.4 still accepts beside
 * `eventFormat`/`updateFormat`: setting both forms, or `verbose: true` with the new one, is refused as Canton
 * refuses it. Returns the event format the legacy fields describe, if they are used.
 */
function legacyEventFormat(body: unknown, modern: string, codec: JsonCodec): EventFormat | undefined {
  if (!isObj(body)) return undefined;
  const hasFilter = body.filter !== undefined && body.filter !== null;
  const hasModern = body[modern] !== undefined && body[modern] !== null;
  if (hasFilter && hasModern) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `Invalid value for: body (Both ${modern} and filter are set. Please use either backwards compatible arguments (filter and verbose) or ${modern}, but not both.)`,
    );
  }
  if (hasModern && body.verbose === true) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `Invalid value for: body (Both ${modern} and verbose are set. Please use either backwards compatible arguments (filter and verbose) or ${modern}, but not both.)`,
    );
  }
  if (!hasFilter) return undefined;
  return codec.fromJson(EventFormat, body.filter, 'body.filter');
}

/** GetUpdatesRequest from a body in either form; legacy filters read transactions of `shape` and reassignments. */
function updatesRequest(shape: TransactionShape) {
  return (input: OperationInput, codec: JsonCodec, type: IMessageType<object>): object => {
    const legacy = legacyEventFormat(input.body, 'updateFormat', codec);
    const request = codec.fromJson(type, input.body) as { updateFormat?: UpdateFormat };
    if (legacy !== undefined) {
      request.updateFormat = {
        includeTransactions: { eventFormat: legacy, transactionShape: shape },
        includeReassignments: legacy,
      };
    } else if (shape === TransactionShape.LEDGER_EFFECTS && request.updateFormat?.includeTransactions) {
      request.updateFormat.includeTransactions.transactionShape = shape;
    }
    return request;
  };
}

/** A transaction format for the parties (every template), as the legacy lookups by `requestingParties` mean. */
function partiesFormat(parties: readonly string[], shape: TransactionShape): TransactionFormat {
  const filtersByParty: EventFormat['filtersByParty'] = {};
  for (const p of parties) {
    filtersByParty[p] = {
      cumulative: [
        {
          identifierFilter: {
            oneofKind: 'wildcardFilter',
            wildcardFilter: { includeCreatedEventBlob: false },
          },
        },
      ],
    };
  }
  return { eventFormat: { filtersByParty, verbose: true }, transactionShape: shape };
}

/** A legacy transaction lookup body: `transactionFormat`, or the older `requestingParties`. */
function legacyLookup(
  input: OperationInput,
  codec: JsonCodec,
  key: 'offset' | 'updateId',
  shape: TransactionShape,
) {
  const body = isObj(input.body) ? input.body : {};
  const format = body.transactionFormat
    ? codec.fromJson(
        EventFormat,
        (body.transactionFormat as Record<string, unknown>).eventFormat,
        'body.transactionFormat.eventFormat',
      )
    : undefined;
  const parties = Array.isArray(body.requestingParties) ? (body.requestingParties as string[]) : [];
  const transactionFormat = format
    ? { eventFormat: format, transactionShape: shape }
    : partiesFormat(parties, shape);
  const id =
    key === 'offset'
      ? { offset: BigInt(String(body.offset ?? 0)) }
      : { updateId: String(body.updateId ?? '') };
  return { ...id, updateFormat: { includeTransactions: transactionFormat } };
}

/** Canton's legacy transaction tree: the ledger-effects events keyed by node id. */
function transactionTree(tx: Transaction, codec: JsonCodec): Record<string, unknown> {
  const full = codec.toJson(Transaction, tx) as Record<string, unknown>;
  const eventsById: Record<string, unknown> = {};
  const events = (full.events as Record<string, Record<string, unknown>>[] | undefined) ?? [];
  tx.events.forEach((e: Event, i) => {
    const json = events[i]!;
    const nodeId =
      e.event.oneofKind === 'created'
        ? e.event.created.nodeId
        : (e.event as { exercised?: ExercisedEvent }).exercised?.nodeId;
    if (nodeId === undefined) return;
    if (json.CreatedEvent) eventsById[String(nodeId)] = { CreatedTreeEvent: { value: json.CreatedEvent } };
    else if (json.ExercisedEvent)
      eventsById[String(nodeId)] = { ExercisedTreeEvent: { value: json.ExercisedEvent } };
  });
  const { events: _events, externalTransactionHash: _hash, ...rest } = full;
  return { ...rest, eventsById };
}

/** A GetUpdateResponse holding a transaction, as the legacy `{transaction}` (flat) or a tree. */
function legacyTransactionResponse(tree: boolean) {
  return (out: object, codec: JsonCodec): unknown => {
    const update = (out as { update: { oneofKind?: string; transaction?: Transaction } }).update;
    if (update.oneofKind !== 'transaction' || update.transaction === undefined) {
      throw new WeftError(CommonErrors.NOT_FOUND, 'Transaction not found, or not visible.');
    }
    return {
      transaction: tree
        ? transactionTree(update.transaction, codec)
        : codec.toJson(Transaction, update.transaction),
    };
  };
}

/** An update of the tree stream: transactions as trees, other updates as they are. */
function treeUpdate(out: object, codec: JsonCodec, type: IMessageType<object>): unknown {
  const update = (out as { update: { oneofKind?: string; transaction?: Transaction } }).update;
  if (update.oneofKind === 'transaction' && update.transaction !== undefined) {
    return { update: { TransactionTree: { value: transactionTree(update.transaction, codec) } } };
  }
  return codec.toJson(type, out);
}

const darUpload = (input: OperationInput): object => {
  const vet = str(input.query, 'vetAllPackages');
  return {
    darFile: input.body instanceof Uint8Array ? input.body : new Uint8Array(),
    submissionId: '',
    vettingChange:
      vet === 'false'
        ? UploadDarFileRequest_VettingChange.DONT_VET_ANY_PACKAGES
        : UploadDarFileRequest_VettingChange.VET_ALL_PACKAGES,
    synchronizerId: str(input.query, 'synchronizerId'),
  };
};

/** Canton serves the DAR upload on two paths (`/v2/packages`, and `/v2/dars` since 3.5): one operation each. */
const UPLOAD_DAR_FILE = [
  `${ADMIN}.PackageManagementService`,
  'UploadDarFile',
  'Upload a DAR file to the participant node',
  {
    body: 'octets',
    query: [
      { name: 'vetAllPackages', type: 'boolean' },
      { name: 'synchronizerId', type: 'string' },
    ],
    request: darUpload,
  },
] as const;

function op(
  method: HttpMethod,
  path: string,
  service: string,
  rpc: string,
  summary: string,
  extra: Partial<Omit<Operation, 'method' | 'path' | 'service' | 'rpc' | 'summary'>> = {},
): Operation {
  return {
    method,
    path,
    service,
    rpc,
    summary,
    stream: false,
    body: method === 'GET' || method === 'DELETE' ? 'none' : 'json',
    query: [],
    ...extra,
  };
}

const fromQuery =
  (build: (input: OperationInput) => object) =>
  (input: OperationInput, codec: JsonCodec, type: IMessageType<object>): object =>
    codec.fromJson(type, build(input));

/** Every operation of the 3.4 OpenAPI document. */
export const OPERATIONS: readonly Operation[] = [
  // Commands
  op(
    'POST',
    '/v2/commands/submit-and-wait',
    `${V2}.CommandService`,
    'SubmitAndWait',
    'Submit a batch of commands and wait for the completion details',
    {
      bodySchema: 'JsCommands',
      request: (i, c, t) => c.fromJson(t, { commands: i.body }),
    },
  ),
  op(
    'POST',
    '/v2/commands/submit-and-wait-for-transaction',
    `${V2}.CommandService`,
    'SubmitAndWaitForTransaction',
    'Submit a batch of commands and wait for the transaction response',
  ),
  op(
    'POST',
    '/v2/commands/submit-and-wait-for-reassignment',
    `${V2}.CommandService`,
    'SubmitAndWaitForReassignment',
    'Submit a batch of reassignment commands and wait for the reassignment response',
  ),
  op(
    'POST',
    '/v2/commands/submit-and-wait-for-transaction-tree',
    `${V2}.CommandService`,
    'SubmitAndWaitForTransaction',
    'Submit a batch of commands and wait for the transaction trees response (legacy; use submit-and-wait-for-transaction)',
    {
      bodySchema: 'JsCommands',
      request: (i, c, t) => {
        const request = c.fromJson(t, { commands: i.body }) as {
          commands?: { actAs: string[]; readAs: string[] };
          transactionFormat?: TransactionFormat;
        };
        const parties = [...(request.commands?.actAs ?? []), ...(request.commands?.readAs ?? [])];
        request.transactionFormat = partiesFormat(parties, TransactionShape.LEDGER_EFFECTS);
        return request;
      },
      response: (out, c) => ({
        transactionTree: transactionTree((out as { transaction: Transaction }).transaction, c),
      }),
      responseSchema: 'JsSubmitAndWaitForTransactionTreeResponse',
    },
  ),
  op(
    'POST',
    '/v2/commands/async/submit',
    `${V2}.CommandSubmissionService`,
    'Submit',
    'Submit a command asynchronously',
    {
      bodySchema: 'JsCommands',
      request: (i, c, t) => c.fromJson(t, { commands: i.body }),
    },
  ),
  op(
    'POST',
    '/v2/commands/async/submit-reassignment',
    `${V2}.CommandSubmissionService`,
    'SubmitReassignment',
    'Submit reassignment command asynchronously',
  ),
  op(
    'POST',
    '/v2/commands/completions',
    `${V2}.CommandCompletionService`,
    'CompletionStream',
    'Query completions list (blocking call)',
    {
      stream: true,
      query: [LIMIT, IDLE],
    },
  ),
  // Events, version, packages
  op(
    'POST',
    '/v2/events/events-by-contract-id',
    `${V2}.EventQueryService`,
    'GetEventsByContractId',
    'Get the events of a contract by its id',
  ),
  op(
    'GET',
    '/v2/version',
    `${V2}.VersionService`,
    'GetLedgerApiVersion',
    'Get the version details of the participant node',
  ),
  op(
    'POST',
    '/v2/dars/validate',
    `${ADMIN}.PackageManagementService`,
    'ValidateDarFile',
    'Validate a DAR file without uploading it',
    {
      body: 'octets',
      query: [{ name: 'synchronizerId', type: 'string' }],
      request: (i) => ({
        darFile: i.body instanceof Uint8Array ? i.body : new Uint8Array(),
        submissionId: '',
        synchronizerId: str(i.query, 'synchronizerId'),
      }),
      response: () => '',
      produces: 'text/plain',
    },
  ),
  op('POST', '/v2/dars', ...UPLOAD_DAR_FILE),
  op(
    'GET',
    '/v2/packages',
    `${V2}.PackageService`,
    'ListPackages',
    'List the ids of the packages the participant knows',
  ),
  op('POST', '/v2/packages', ...UPLOAD_DAR_FILE),
  op(
    'GET',
    '/v2/packages/{package-id}',
    `${V2}.PackageService`,
    'GetPackage',
    'Download a package (its archive payload)',
    {
      request: (i) => ({ packageId: i.params['package-id'] ?? '' }),
      response: (out) => (out as { archivePayload: Uint8Array }).archivePayload,
      produces: 'application/octet-stream',
    },
  ),
  op(
    'GET',
    '/v2/packages/{package-id}/status',
    `${V2}.PackageService`,
    'GetPackageStatus',
    'Get the status of a package',
    {
      request: (i) => ({ packageId: i.params['package-id'] ?? '' }),
    },
  ),
  op(
    'GET',
    '/v2/package-vetting',
    `${V2}.PackageService`,
    'ListVettedPackages',
    'List vetted packages (the request body may be empty)',
    { body: 'json' },
  ),
  op(
    'POST',
    '/v2/package-vetting',
    `${ADMIN}.PackageManagementService`,
    'UpdateVettedPackages',
    'Update the vetted packages of the participant',
  ),
  op(
    'POST',
    '/v2/package-vetting/list',
    `${V2}.PackageService`,
    'ListVettedPackages',
    'List vetted packages',
  ),
  op(
    'POST',
    '/v2/package-vetting/update',
    `${ADMIN}.PackageManagementService`,
    'UpdateVettedPackages',
    'Update the vetted packages of the participant',
  ),
  // Parties
  op(
    'GET',
    '/v2/parties',
    `${ADMIN}.PartyManagementService`,
    'ListKnownParties',
    'List the parties known to the participant',
    {
      query: [
        { name: 'identity-provider-id', type: 'string' },
        { name: 'filter-party', type: 'string' },
        { name: 'pageSize', type: 'integer' },
        { name: 'pageToken', type: 'string' },
      ],
      request: fromQuery((i) => ({
        identityProviderId: str(i.query, 'identity-provider-id'),
        filterParty: str(i.query, 'filter-party'),
        pageSize: int(i.query, 'pageSize'),
        pageToken: str(i.query, 'pageToken'),
      })),
    },
  ),
  op(
    'POST',
    '/v2/parties',
    `${ADMIN}.PartyManagementService`,
    'AllocateParty',
    'Allocate a new party on the participant',
  ),
  op(
    'POST',
    '/v2/parties/external/allocate',
    `${ADMIN}.PartyManagementService`,
    'AllocateExternalParty',
    'Allocate a party whose keys are held outside the participant',
  ),
  op(
    'GET',
    '/v2/parties/participant-id',
    `${ADMIN}.PartyManagementService`,
    'GetParticipantId',
    'Get the id of the participant',
  ),
  op(
    'GET',
    '/v2/parties/{party}',
    `${ADMIN}.PartyManagementService`,
    'GetParties',
    'Get the details of a party (and of the parties of the `parties` query)',
    {
      query: [
        { name: 'identity-provider-id', type: 'string' },
        { name: 'parties', type: 'string', array: true },
      ],
      request: fromQuery((i) => ({
        parties: [i.params.party ?? '', ...list(i.query, 'parties')],
        identityProviderId: str(i.query, 'identity-provider-id'),
      })),
    },
  ),
  op(
    'PATCH',
    '/v2/parties/{party}',
    `${ADMIN}.PartyManagementService`,
    'UpdatePartyDetails',
    'Update the local details of a party',
  ),
  op(
    'POST',
    '/v2/parties/external/generate-topology',
    `${ADMIN}.PartyManagementService`,
    'GenerateExternalPartyTopology',
    'Generate the topology transactions of an external party',
  ),
  // State
  op(
    'POST',
    '/v2/state/active-contracts',
    `${V2}.StateService`,
    'GetActiveContracts',
    'Query the active contracts list (blocking call)',
    {
      stream: true,
      query: [LIMIT, IDLE],
      request: (i, c, t) => {
        const legacy = legacyEventFormat(i.body, 'eventFormat', c);
        const request = c.fromJson(t, i.body) as { eventFormat?: EventFormat };
        if (legacy !== undefined) request.eventFormat = legacy;
        return request;
      },
    },
  ),
  op(
    'GET',
    '/v2/state/connected-synchronizers',
    `${V2}.StateService`,
    'GetConnectedSynchronizers',
    'Get the synchronizers the participant is connected to',
    {
      query: [
        { name: 'party', type: 'string' },
        { name: 'participantId', type: 'string' },
        { name: 'identityProviderId', type: 'string' },
      ],
      request: fromQuery((i) => ({
        party: str(i.query, 'party'),
        participantId: str(i.query, 'participantId'),
        identityProviderId: str(i.query, 'identityProviderId'),
      })),
    },
  ),
  op('GET', '/v2/state/ledger-end', `${V2}.StateService`, 'GetLedgerEnd', 'Get the ledger end offset'),
  op(
    'GET',
    '/v2/state/latest-pruned-offsets',
    `${V2}.StateService`,
    'GetLatestPrunedOffsets',
    'Get the latest pruned offsets',
  ),
  // Updates
  op('POST', '/v2/updates', `${V2}.UpdateService`, 'GetUpdates', 'Query the updates list (blocking call)', {
    stream: true,
    query: [LIMIT, IDLE],
    request: updatesRequest(TransactionShape.ACS_DELTA),
  }),
  op(
    'POST',
    '/v2/updates/flats',
    `${V2}.UpdateService`,
    'GetUpdates',
    'Query the flat updates list (legacy; use /v2/updates)',
    {
      stream: true,
      query: [LIMIT, IDLE],
      request: updatesRequest(TransactionShape.ACS_DELTA),
    },
  ),
  op(
    'POST',
    '/v2/updates/trees',
    `${V2}.UpdateService`,
    'GetUpdates',
    'Query the update trees list (legacy; use /v2/updates with LEDGER_EFFECTS)',
    {
      stream: true,
      query: [LIMIT, IDLE],
      request: updatesRequest(TransactionShape.LEDGER_EFFECTS),
      response: treeUpdate,
      responseSchema: 'JsGetUpdateTreesResponse',
    },
  ),
  op(
    'GET',
    '/v2/updates/transaction-tree-by-offset/{offset}',
    `${V2}.UpdateService`,
    'GetUpdateByOffset',
    'Get a transaction tree by its offset (legacy)',
    {
      query: [{ name: 'parties', type: 'string', array: true }],
      request: (i) => {
        const offset = i.params.offset ?? '';
        if (!/^\d+$/.test(offset))
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            'Invalid value for: path parameter offset (expected an integer)',
          );
        return {
          offset: BigInt(offset),
          updateFormat: {
            includeTransactions: partiesFormat(list(i.query, 'parties'), TransactionShape.LEDGER_EFFECTS),
          },
        };
      },
      response: legacyTransactionResponse(true),
      responseSchema: 'JsGetTransactionTreeResponse',
    },
  ),
  op(
    'POST',
    '/v2/updates/transaction-by-offset',
    `${V2}.UpdateService`,
    'GetUpdateByOffset',
    'Get a transaction by its offset (legacy; use update-by-offset)',
    {
      bodySchema: 'GetTransactionByOffsetRequest',
      request: (i, c) => legacyLookup(i, c, 'offset', TransactionShape.ACS_DELTA),
      response: legacyTransactionResponse(false),
      responseSchema: 'JsGetTransactionResponse',
    },
  ),
  op(
    'POST',
    '/v2/updates/update-by-offset',
    `${V2}.UpdateService`,
    'GetUpdateByOffset',
    'Get an update by its offset',
  ),
  op(
    'POST',
    '/v2/updates/transaction-by-id',
    `${V2}.UpdateService`,
    'GetUpdateById',
    'Get a transaction by its id (legacy; use update-by-id)',
    {
      bodySchema: 'GetTransactionByIdRequest',
      request: (i, c) => legacyLookup(i, c, 'updateId', TransactionShape.ACS_DELTA),
      response: legacyTransactionResponse(false),
      responseSchema: 'JsGetTransactionResponse',
    },
  ),
  op('POST', '/v2/updates/update-by-id', `${V2}.UpdateService`, 'GetUpdateById', 'Get an update by its id'),
  op(
    'GET',
    '/v2/updates/transaction-tree-by-id/{update-id}',
    `${V2}.UpdateService`,
    'GetUpdateById',
    'Get a transaction tree by its id (legacy)',
    {
      query: [{ name: 'parties', type: 'string', array: true }],
      request: (i) => ({
        updateId: i.params['update-id'] ?? '',
        updateFormat: {
          includeTransactions: partiesFormat(list(i.query, 'parties'), TransactionShape.LEDGER_EFFECTS),
        },
      }),
      response: legacyTransactionResponse(true),
      responseSchema: 'JsGetTransactionTreeResponse',
    },
  ),
  // Users
  op('GET', '/v2/users', `${ADMIN}.UserManagementService`, 'ListUsers', 'List the users of the participant', {
    query: [
      { name: 'pageSize', type: 'integer' },
      { name: 'pageToken', type: 'string' },
    ],
    request: fromQuery((i) => ({ pageSize: int(i.query, 'pageSize'), pageToken: str(i.query, 'pageToken') })),
  }),
  op('POST', '/v2/users', `${ADMIN}.UserManagementService`, 'CreateUser', 'Create a user'),
  op('GET', '/v2/users/{user-id}', `${ADMIN}.UserManagementService`, 'GetUser', 'Get a user', {
    query: [{ name: 'identity-provider-id', type: 'string' }],
    request: fromQuery((i) => ({
      userId: i.params['user-id'] ?? '',
      identityProviderId: str(i.query, 'identity-provider-id'),
    })),
  }),
  op('DELETE', '/v2/users/{user-id}', `${ADMIN}.UserManagementService`, 'DeleteUser', 'Delete a user', {
    request: (i) => ({ userId: i.params['user-id'] ?? '', identityProviderId: '' }),
  }),
  op('PATCH', '/v2/users/{user-id}', `${ADMIN}.UserManagementService`, 'UpdateUser', 'Update a user'),
  op(
    'GET',
    '/v2/authenticated-user',
    `${ADMIN}.UserManagementService`,
    'GetUser',
    'Get the user of the token',
    {
      query: [{ name: 'identity-provider-id', type: 'string' }],
      request: fromQuery((i) => ({ userId: '', identityProviderId: str(i.query, 'identity-provider-id') })),
    },
  ),
  op(
    'GET',
    '/v2/users/{user-id}/rights',
    `${ADMIN}.UserManagementService`,
    'ListUserRights',
    'List the rights of a user',
    {
      request: (i) => ({ userId: i.params['user-id'] ?? '', identityProviderId: '' }),
    },
  ),
  op(
    'POST',
    '/v2/users/{user-id}/rights',
    `${ADMIN}.UserManagementService`,
    'GrantUserRights',
    'Grant rights to a user',
    {
      request: withUserId,
    },
  ),
  op(
    'PATCH',
    '/v2/users/{user-id}/rights',
    `${ADMIN}.UserManagementService`,
    'RevokeUserRights',
    'Revoke rights from a user',
    {
      request: withUserId,
    },
  ),
  op(
    'PATCH',
    '/v2/users/{user-id}/identity-provider-id',
    `${ADMIN}.UserManagementService`,
    'UpdateUserIdentityProviderId',
    'Move a user to another identity provider',
    {
      request: withUserId,
    },
  ),
  // Identity providers
  op(
    'GET',
    '/v2/idps',
    `${ADMIN}.IdentityProviderConfigService`,
    'ListIdentityProviderConfigs',
    'List the identity provider configs',
  ),
  op(
    'POST',
    '/v2/idps',
    `${ADMIN}.IdentityProviderConfigService`,
    'CreateIdentityProviderConfig',
    'Create an identity provider config',
  ),
  op(
    'GET',
    '/v2/idps/{idp-id}',
    `${ADMIN}.IdentityProviderConfigService`,
    'GetIdentityProviderConfig',
    'Get an identity provider config',
    {
      request: (i) => ({ identityProviderId: i.params['idp-id'] ?? '' }),
    },
  ),
  op(
    'DELETE',
    '/v2/idps/{idp-id}',
    `${ADMIN}.IdentityProviderConfigService`,
    'DeleteIdentityProviderConfig',
    'Delete an identity provider config',
    {
      request: (i) => ({ identityProviderId: i.params['idp-id'] ?? '' }),
    },
  ),
  op(
    'PATCH',
    '/v2/idps/{idp-id}',
    `${ADMIN}.IdentityProviderConfigService`,
    'UpdateIdentityProviderConfig',
    'Update an identity provider config',
  ),
  // Interactive submission
  op(
    'POST',
    '/v2/interactive-submission/prepare',
    `${V2}.interactive.InteractiveSubmissionService`,
    'PrepareSubmission',
    'Prepare commands for an external party to sign',
  ),
  op(
    'POST',
    '/v2/interactive-submission/execute',
    `${V2}.interactive.InteractiveSubmissionService`,
    'ExecuteSubmission',
    'Execute a signed prepared transaction',
  ),
  op(
    'POST',
    '/v2/interactive-submission/executeAndWait',
    `${V2}.interactive.InteractiveSubmissionService`,
    'ExecuteSubmissionAndWait',
    'Execute a signed prepared transaction and wait for its completion',
  ),
  op(
    'POST',
    '/v2/interactive-submission/executeAndWaitForTransaction',
    `${V2}.interactive.InteractiveSubmissionService`,
    'ExecuteSubmissionAndWaitForTransaction',
    'Execute a signed prepared transaction and wait for the transaction',
  ),
  op(
    'GET',
    '/v2/interactive-submission/preferred-package-version',
    `${V2}.interactive.InteractiveSubmissionService`,
    'GetPreferredPackageVersion',
    'Get the preferred version of a package for parties',
    {
      query: [
        { name: 'parties', type: 'string', array: true },
        { name: 'package-name', type: 'string' },
        { name: 'synchronizer-id', type: 'string' },
      ],
      request: fromQuery((i) => ({
        parties: list(i.query, 'parties'),
        packageName: str(i.query, 'package-name'),
        synchronizerId: str(i.query, 'synchronizer-id'),
      })),
    },
  ),
  op(
    'POST',
    '/v2/interactive-submission/preferred-packages',
    `${V2}.interactive.InteractiveSubmissionService`,
    'GetPreferredPackages',
    'Get the preferred packages for parties and package names',
  ),
  // Contracts
  op(
    'POST',
    '/v2/contracts/contract-by-id',
    `${V2}.ContractService`,
    'GetContract',
    'Get a contract by its id',
  ),
];

/** A body whose `userId` the path gives (Canton takes it from the path when the body leaves it out). */
function withUserId(input: OperationInput, codec: JsonCodec, type: IMessageType<object>): object {
  const body = isObj(input.body) ? input.body : {};
  return codec.fromJson(type, { ...body, userId: body.userId || input.params['user-id'] });
}
