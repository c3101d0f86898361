import { type FieldInfo, type IMessageType, ScalarType } from '@protobuf-ts/runtime';
import type { ServiceType } from '@protobuf-ts/runtime-rpc';
import { stringify } from 'yaml';
import { IdentityProviderConfigService } from '../../generated/com/daml/ledger/api/v2/admin/identity_provider_config_service.js';
import { PackageManagementService } from '../../generated/com/daml/ledger/api/v2/admin/package_management_service.js';
import { PartyManagementService } from '../../generated/com/daml/ledger/api/v2/admin/party_management_service.js';
import { UserManagementService } from '../../generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import { CommandCompletionService } from '../../generated/com/daml/ledger/api/v2/command_completion_service.js';
import { CommandService } from '../../generated/com/daml/ledger/api/v2/command_service.js';
import { CommandSubmissionService } from '../../generated/com/daml/ledger/api/v2/command_submission_service.js';
import { Commands } from '../../generated/com/daml/ledger/api/v2/commands.js';
import { ContractService } from '../../generated/com/daml/ledger/api/v2/contract_service.js';
import { EventQueryService } from '../../generated/com/daml/ledger/api/v2/event_query_service.js';
import { InteractiveSubmissionService } from '../../generated/com/daml/ledger/api/v2/interactive/interactive_submission_service.js';
import { PackageService } from '../../generated/com/daml/ledger/api/v2/package_service.js';
import { StateService } from '../../generated/com/daml/ledger/api/v2/state_service.js';
import { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import { EventFormat, TransactionFormat } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import { UpdateService } from '../../generated/com/daml/ledger/api/v2/update_service.js';
import { VersionService } from '../../generated/com/daml/ledger/api/v2/version_service.js';
import { BINARY_MESSAGES, jsonFieldName, oneofCases, oneofStyle } from './codec.js';
import { OPERATIONS, type Operation } from './routes.js';

/**
 * Weft's OpenAPI and AsyncAPI documents of the JSON Ledger API, generated from one source: the operation table
 * (paths, methods, parameters) and the protobuf messages the operations carry, named and shaped as the JSON codec
 * encodes them (Canton's schema names: `Js*` where Canton mirrors a message).
 */

/** The version the documents describe (the Canton release line whose API this is). */
export const JSON_API_VERSION = '3.4.0';

/** Services whose message types the documents draw from (every service an operation names). */
const SERVICES: readonly ServiceType[] = [
  CommandService,
  CommandSubmissionService,
  CommandCompletionService,
  EventQueryService,
  VersionService,
  PackageService,
  PackageManagementService,
  PartyManagementService,
  StateService,
  UpdateService,
  UserManagementService,
  IdentityProviderConfigService,
  InteractiveSubmissionService,
  ContractService,
];

/** Messages Canton replaces by its own `Js*` mirror in the JSON API. */
const JS_MIRRORED = new Set([
  'ActiveContract',
  'Archived',
  'AssignedEvent',
  'Commands',
  'Created',
  'ExecuteSubmissionAndWaitForTransactionRequest',
  'ExecuteSubmissionAndWaitForTransactionResponse',
  'ExecuteSubmissionAndWaitRequest',
  'ExecuteSubmissionRequest',
  'GetActiveContractsResponse',
  'GetEventsByContractIdResponse',
  'GetUpdateResponse',
  'GetUpdatesResponse',
  'IncompleteAssigned',
  'IncompleteUnassigned',
  'InterfaceView',
  'PrepareSubmissionRequest',
  'PrepareSubmissionResponse',
  'Reassignment',
  'SubmitAndWaitForReassignmentResponse',
  'SubmitAndWaitForTransactionRequest',
  'SubmitAndWaitForTransactionResponse',
  'TopologyTransaction',
  'Transaction',
]);

type Schema = Record<string, unknown>;

/** Fields Canton's JSON has beyond the proto message (accepted and ignored on input; never set on output). */
const JSON_ONLY_FIELDS: Readonly<Record<string, Record<string, Schema>>> = {
  JsCommands: { tapsMaxPasses: { type: 'integer', format: 'int32' } },
  JsPrepareSubmissionRequest: { tapsMaxPasses: { type: 'integer', format: 'int32' } },
  Completion: { paidTrafficCost: { type: 'integer', format: 'int64' } },
  JsTransaction: { paidTrafficCost: { type: 'integer', format: 'int64' } },
  JsReassignment: { paidTrafficCost: { type: 'integer', format: 'int64' } },
};
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

class Schemas {
  readonly components = new Map<string, Schema>();
  readonly #names = new Map<string, string>();

  /** The component name of a message type, adding its schema (and those it refers to) on first use. */
  nameOf(type: IMessageType<object>): string {
    const known = this.#names.get(type.typeName);
    if (known !== undefined) return known;
    const parts = type.typeName.split('.');
    const short = parts[parts.length - 1]!;
    const special: Record<string, string> = {
      'google.rpc.Status': 'JsStatus',
      'google.protobuf.Any': 'ProtoAny',
    };
    let name =
      special[type.typeName] ?? (JS_MIRRORED.has(short) && parts.includes('v2') ? `Js${short}` : short);
    if (this.components.has(name)) name = `${parts[parts.length - 2]}_${short}`;
    this.#names.set(type.typeName, name);
    this.components.set(name, {});
    const schema = this.#message(type);
    const extra = JSON_ONLY_FIELDS[name];
    if (extra) Object.assign(schema.properties as Record<string, Schema>, extra);
    this.components.set(name, schema);
    return name;
  }

  #message(type: IMessageType<object>): Schema {
    switch (type.typeName) {
      case 'google.protobuf.Timestamp':
        return { type: 'string', format: 'date-time' };
      case 'google.protobuf.Duration':
        return {
          type: 'object',
          properties: {
            seconds: { type: 'integer', format: 'int64' },
            nanos: { type: 'integer', format: 'int32' },
          },
        };
      case 'google.protobuf.Any':
        return {
          type: 'object',
          properties: { typeUrl: { type: 'string' }, value: { type: 'string', format: 'byte' } },
        };
      case 'google.protobuf.FieldMask':
        return { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } } } };
      case 'google.protobuf.Empty':
        return { type: 'object' };
    }
    const properties: Record<string, Schema> = {};
    const oneofs = new Set<string>();
    for (const f of type.fields) {
      if (f.oneof !== undefined) {
        if (oneofs.has(f.oneof)) continue;
        oneofs.add(f.oneof);
        const style = oneofStyle(type, f.oneof);
        const cases = oneofCases(type, f.oneof).map(({ key, field, inline }) => {
          const value = this.#field(field);
          return {
            type: 'object',
            properties: { [key]: inline ? value : { type: 'object', properties: { value } } },
            required: [key],
          };
        });
        if (style?.empty !== undefined || style === undefined) {
          const empty = style?.empty ?? 'Empty';
          cases.push({ type: 'object', properties: { [empty]: { type: 'object' } }, required: [empty] });
        }
        if (style?.flat) return { oneOf: cases };
        properties[f.oneof] = { oneOf: cases };
        continue;
      }
      const schema = f.repeat && f.kind !== 'map' ? { type: 'array', items: this.#field(f) } : this.#field(f);
      properties[jsonFieldName(type, f)] = schema;
    }
    return { type: 'object', properties };
  }

  #field(f: FieldInfo): Schema {
    switch (f.kind) {
      case 'scalar':
        return scalar(f.T);
      case 'enum': {
        const [, values, prefix] = f.T();
        const names = Object.keys(values)
          .filter((k) => Number.isNaN(Number(k)))
          .map((k) => `${prefix ?? ''}${k}`);
        return { type: 'string', enum: names };
      }
      case 'map': {
        const v = f.V;
        const value =
          v.kind === 'scalar'
            ? scalar(v.T)
            : v.kind === 'enum'
              ? { type: 'string' }
              : this.#messageRef(v.T());
        return { type: 'object', additionalProperties: value };
      }
      default:
        return this.#messageRef(f.T());
    }
  }

  #messageRef(t: IMessageType<object>): Schema {
    const name = t.typeName.split('.').pop()!;
    if (name === 'Identifier' && t.typeName.includes('ledger.api.v2')) {
      return {
        type: 'string',
        description: 'packageId:Module:Entity, or #package-name:Module:Entity on input',
      };
    }
    if (t.typeName.endsWith('.v2.Value') || t.typeName.endsWith('.v2.Record')) {
      return { description: 'A Daml value in the LF JSON encoding (type-directed by the package)' };
    }
    if (BINARY_MESSAGES.has(t.typeName))
      return { type: 'string', format: 'byte', description: `serialized ${name}` };
    return ref(this.nameOf(t));
  }
}

function scalar(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', format: 'byte' };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { type: 'integer', format: 'int64' };
    default:
      return { type: 'integer', format: 'int32' };
  }
}

function methodOf(op: Operation) {
  const service = SERVICES.find((s) => s.typeName === op.service);
  const method = service?.methods.find((m) => m.name === op.rpc);
  if (method === undefined) throw new Error(`no method ${op.service}/${op.rpc}`);
  return method;
}

/** Canton's operation ids: the method, then each path segment capitalized (`getV2UsersUser-id`). */
export function operationId(op: Operation): string {
  const segments = op.path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/[{}]/g, ''))
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase());
  return `${op.method.toLowerCase()}${segments.join('')}`;
}

/** The schemas of the legacy shapes 3.4 still serves, which no current message has. */
function legacySchemas(s: Schemas): void {
  const transactionFormat = ref(s.nameOf(TransactionFormat));
  const filter = ref('TransactionFilter');
  s.components.set('TransactionFilter', {
    type: 'object',
    properties: (s.components.get(s.nameOf(EventFormat)) as { properties: Record<string, Schema> })
      .properties,
  });
  for (const [name, key, type] of [
    ['GetTransactionByOffsetRequest', 'offset', { type: 'integer', format: 'int64' }],
    ['GetTransactionByIdRequest', 'updateId', { type: 'string' }],
  ] as const) {
    s.components.set(name, {
      type: 'object',
      properties: {
        [key]: type,
        requestingParties: { type: 'array', items: { type: 'string' } },
        transactionFormat,
      },
      required: [key],
    });
  }
  const tree = {
    type: 'object',
    properties: {
      ...(s.components.get(s.nameOf(Transaction)) as { properties: Record<string, Schema> }).properties,
      eventsById: { type: 'object', additionalProperties: { type: 'object' } },
    },
  };
  delete (tree.properties as Record<string, unknown>).events;
  s.components.set('JsTransactionTree', tree);
  s.components.set('JsGetTransactionResponse', {
    type: 'object',
    properties: { transaction: ref(s.nameOf(Transaction)) },
    required: ['transaction'],
  });
  s.components.set('JsGetTransactionTreeResponse', {
    type: 'object',
    properties: { transaction: ref('JsTransactionTree') },
    required: ['transaction'],
  });
  s.components.set('JsSubmitAndWaitForTransactionTreeResponse', {
    type: 'object',
    properties: { transactionTree: ref('JsTransactionTree') },
  });
  s.components.set('JsGetUpdateTreesResponse', {
    type: 'object',
    properties: { update: { type: 'object' } },
  });
  for (const name of ['GetUpdatesRequest', 'GetActiveContractsRequest']) {
    const schema = s.components.get(name) as { properties: Record<string, Schema> } | undefined;
    if (schema) Object.assign(schema.properties, { filter, verbose: { type: 'boolean' } });
  }
  s.components.set('JsCantonError', {
    type: 'object',
    required: ['code', 'cause', 'context', 'errorCategory'],
    properties: {
      code: { type: 'string' },
      cause: { type: 'string' },
      correlationId: { type: 'string' },
      traceId: { type: 'string' },
      context: { type: 'object', additionalProperties: { type: 'string' } },
      resources: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
      errorCategory: { type: 'integer', format: 'int32' },
      grpcCodeValue: { type: 'integer', format: 'int32' },
      retryInfo: { type: 'string' },
      definiteAnswer: { type: 'boolean' },
    },
  });
}

/** The request body and 200 response schemas of an operation (component names). */
export function operationSchemas(op: Operation, s: Schemas): { body?: string; response: string } {
  const method = methodOf(op);
  const body = op.body === 'json' ? (op.bodySchema ?? s.nameOf(method.I)) : undefined;
  if (op.bodySchema === 'JsCommands') s.nameOf(Commands);
  return { ...(body ? { body } : {}), response: op.responseSchema ?? s.nameOf(method.O) };
}

let cached: { openapi: string; asyncapi: string; schemas: Schemas } | undefined;

function build(): { openapi: string; asyncapi: string; schemas: Schemas } {
  if (cached) return cached;
  const s = new Schemas();
  for (const service of SERVICES)
    for (const m of service.methods) {
      s.nameOf(m.I);
      s.nameOf(m.O);
    }
  legacySchemas(s);
  const paths: Record<string, Record<string, unknown>> = {};
  const channels: Record<string, unknown> = {};
  const error = {
    description: 'A JsCantonError',
    content: { 'application/json': { schema: ref('JsCantonError') } },
  };
  for (const op of OPERATIONS) {
    const { body, response } = operationSchemas(op, s);
    const parameters = [
      ...[...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...op.query.map((q) => ({
        name: q.name,
        in: 'query',
        required: false,
        schema: q.array
          ? { type: 'array', items: { type: q.type } }
          : { type: q.type, ...(q.type === 'integer' ? { format: 'int64' } : {}) },
      })),
    ];
    const okSchema = op.stream ? { type: 'array', items: ref(response) } : ref(response);
    const content =
      op.produces === 'application/octet-stream'
        ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
        : op.produces === 'text/plain'
          ? { 'text/plain': { schema: { type: 'string' } } }
          : { 'application/json': { schema: okSchema } };
    const entry: Record<string, unknown> = {
      description: op.summary,
      operationId: operationId(op),
      parameters,
      responses: { '200': { description: '', content }, '400': error, default: error },
    };
    if (op.body === 'json' && body) {
      entry.requestBody = {
        content: { 'application/json': { schema: ref(body) } },
        required: op.method !== 'GET',
      };
    } else if (op.body === 'octets') {
      entry.requestBody = {
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        required: true,
      };
    }
    paths[op.path] = { ...(paths[op.path] ?? {}), [op.method.toLowerCase()]: entry };
    if (op.stream) {
      channels[op.path] = {
        description: op.summary.replace('(blocking call)', '(websocket)'),
        subscribe: {
          operationId: `subscribe${operationId(op).slice(op.method.length)}`,
          message: { oneOf: [{ payload: ref(response) }, { payload: ref('JsCantonError') }] },
        },
        publish: {
          operationId: `publish${operationId(op).slice(op.method.length)}`,
          message: { payload: ref(body ?? response) },
        },
        bindings: { ws: { method: 'GET' } },
      };
    }
  }
  const components = {
    schemas: Object.fromEntries([...s.components].sort(([a], [b]) => a.localeCompare(b))),
  };
  const info = { title: 'JSON Ledger API HTTP endpoints', version: JSON_API_VERSION };
  const yaml = { aliasDuplicateObjects: false } as const;
  const openapi = stringify(
    {
      openapi: '3.0.3',
      info,
      paths,
      components: { ...components, securitySchemes: { httpAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ httpAuth: [] }],
    },
    yaml,
  );
  const asyncapi = stringify(
    {
      asyncapi: '2.6.0',
      info: { title: 'JSON Ledger API WebSocket endpoints', version: JSON_API_VERSION },
      channels,
      components,
    },
    yaml,
  );
  cached = { openapi, asyncapi, schemas: s };
  return cached;
}

/** The OpenAPI document (YAML) served at /docs/openapi. */
export function openApiDocument(): string {
  return build().openapi;
}

/** The AsyncAPI document (YAML) served at /docs/asyncapi. */
export function asyncApiDocument(): string {
  return build().asyncapi;
}
