import type { PackageRegistry } from '../../daml/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import type {
  Filters,
  EventFormat as ProtoEventFormat,
  TransactionFormat as ProtoTransactionFormat,
  UpdateFormat as ProtoUpdateFormat,
} from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import { TransactionShape as ProtoShape } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { Identifier } from '../../generated/com/daml/ledger/api/v2/value.js';
import type {
  CumulativeFilter,
  EventFormat,
  TransactionShape,
  TypeRef,
} from '../../participant/read-model.js';
import { WILDCARD_FILTER } from '../../participant/read-model.js';
import { type Claims, requireAuthenticated, requireReadAs, requireReadAsAnyParty } from '../auth/index.js';
import { invalidField, missingField, RequestValidationErrors, requireParty } from '../validation/index.js';

/**
 * The Ledger API's formats (`transaction_filter.proto`): the rights they require (Canton's `RequiredClaims` for
 * event, transaction and update formats) and their validation into the read model's terms (Canton's
 * `FormatValidator`, then the check that every template and interface they name is known).
 */

export interface TransactionFormat {
  readonly eventFormat: EventFormat;
  readonly shape: TransactionShape;
}

export interface UpdateFormat {
  readonly transactions: TransactionFormat | undefined;
  /** Reassignments are served once Weft reassigns contracts; validated and authorized already. */
  readonly reassignments: EventFormat | undefined;
  /** Topology events likewise: the parties asked for (empty = all). */
  readonly topologyParties: readonly string[] | undefined;
}

/** CanReadAs every party of the format, and CanReadAsAnyParty for a party-wildcard filter. */
export function authorizeEventFormat(claims: Claims, format: ProtoEventFormat | undefined): void {
  requireAuthenticated(claims);
  if (!format) return;
  requireReadAs(claims, Object.keys(format.filtersByParty));
  if (format.filtersForAnyParty) requireReadAsAnyParty(claims);
}

export function authorizeUpdateFormat(claims: Claims, format: ProtoUpdateFormat | undefined): void {
  requireAuthenticated(claims);
  if (!format) return;
  authorizeEventFormat(claims, format.includeTransactions?.eventFormat);
  authorizeEventFormat(claims, format.includeReassignments);
  const topology = format.includeTopologyEvents?.includeParticipantAuthorizationEvents;
  if (topology) {
    if (topology.parties.length === 0) requireReadAsAnyParty(claims);
    else requireReadAs(claims, topology.parties);
  }
}

export function validateEventFormat(
  format: ProtoEventFormat | undefined,
  field: string,
  packages: PackageRegistry,
): EventFormat {
  if (!format) throw missingField(field);
  const parties = Object.keys(format.filtersByParty);
  if (parties.length === 0 && !format.filtersForAnyParty) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      'filtersByParty and filtersForAnyParty cannot be empty simultaneously',
    );
  }
  const resolver = new TypeRefResolver(packages);
  const byParty = new Map<string, CumulativeFilter>();
  for (const party of parties) {
    byParty.set(requireParty(party, 'filters_by_party'), filtersOf(format.filtersByParty[party]!, resolver));
  }
  const anyParty = format.filtersForAnyParty && filtersOf(format.filtersForAnyParty, resolver);
  resolver.check();
  return { byParty, anyParty, verbose: format.verbose };
}

export function validateTransactionFormat(
  format: ProtoTransactionFormat | undefined,
  field: string,
  packages: PackageRegistry,
): TransactionFormat {
  if (!format) throw missingField(field);
  let shape: TransactionShape;
  switch (format.transactionShape) {
    case ProtoShape.UNSPECIFIED:
      throw missingField('transaction_shape');
    case ProtoShape.ACS_DELTA:
      shape = 'acs-delta';
      break;
    case ProtoShape.LEDGER_EFFECTS:
      shape = 'ledger-effects';
      break;
    default:
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `transaction_shape is defined with invalid value ${format.transactionShape}`,
      );
  }
  return { eventFormat: validateEventFormat(format.eventFormat, 'event_format', packages), shape };
}

export function validateUpdateFormat(
  format: ProtoUpdateFormat | undefined,
  packages: PackageRegistry,
): UpdateFormat {
  if (!format) throw missingField('update_format');
  const topology = format.includeTopologyEvents?.includeParticipantAuthorizationEvents;
  return {
    transactions:
      format.includeTransactions &&
      validateTransactionFormat(format.includeTransactions, 'include_transactions', packages),
    reassignments:
      format.includeReassignments &&
      validateEventFormat(format.includeReassignments, 'include_reassignments', packages),
    topologyParties: topology?.parties.map((p) => requireParty(p, 'parties')),
  };
}

function filtersOf(filters: Filters, resolver: TypeRefResolver): CumulativeFilter {
  const kinds = filters.cumulative.map((c) => c.identifierFilter);
  if (kinds.every((k) => k.oneofKind === undefined)) return WILDCARD_FILTER;
  let wildcard: CumulativeFilter['wildcard'];
  const templates: CumulativeFilter['templates'][number][] = [];
  const interfaces: CumulativeFilter['interfaces'][number][] = [];
  for (const k of kinds) {
    switch (k.oneofKind) {
      case 'wildcardFilter':
        wildcard = {
          includeCreatedEventBlob:
            (wildcard?.includeCreatedEventBlob ?? false) || k.wildcardFilter.includeCreatedEventBlob,
        };
        break;
      case 'templateFilter':
        templates.push({
          template: resolver.resolve(k.templateFilter.templateId, 'templateId', 'template'),
          includeCreatedEventBlob: k.templateFilter.includeCreatedEventBlob,
        });
        break;
      case 'interfaceFilter':
        interfaces.push({
          iface: resolver.resolve(k.interfaceFilter.interfaceId, 'interfaceId', 'interface'),
          includeInterfaceView: k.interfaceFilter.includeInterfaceView,
          includeCreatedEventBlob: k.interfaceFilter.includeCreatedEventBlob,
        });
        break;
      default:
        break;
    }
  }
  return { wildcard, templates, interfaces };
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;

/**
 * Resolves template and interface identifiers to package-name references (a package id stands for its package's
 * name, as Canton does since smart upgrading), collecting what is unknown to report it as Canton does: unknown
 * package names first, then names without such a template or interface, then unknown package-id references.
 */
class TypeRefResolver {
  readonly #unknownNames = new Set<string>();
  readonly #noTemplates = new Set<string>();
  readonly #noInterfaces = new Set<string>();
  readonly #unknownIds = new Set<string>();

  constructor(private readonly packages: PackageRegistry) {}

  resolve(id: Identifier | undefined, field: string, kind: 'template' | 'interface'): TypeRef {
    if (!id) throw missingField(field);
    if (id.packageId === '' || id.packageId === '#') throw missingField(`${field}.package_id`);
    for (const [part, value] of [
      ['module_name', id.moduleName],
      ['entity_name', id.entityName],
    ] as const) {
      if (!NAME.test(value))
        throw invalidField(`${field}.${part}`, `${JSON.stringify(value)} is not a dotted name`);
    }
    const qualifiedName = `${id.moduleName}:${id.entityName}`;
    const defines = (packageId: string) => {
      const ref = { packageId, module: id.moduleName.split('.'), name: id.entityName.split('.') };
      return kind === 'template'
        ? this.packages.lookupTemplate(ref) !== undefined
        : this.packages.lookupInterface(ref) !== undefined;
    };
    if (id.packageId.startsWith('#')) {
      const packageName = id.packageId.slice(1);
      const ids = this.packages.packageIdsByName(packageName);
      if (ids.length === 0) this.#unknownNames.add(packageName);
      else if (!ids.some(defines)) {
        (kind === 'template' ? this.#noTemplates : this.#noInterfaces).add(`${packageName}:${qualifiedName}`);
      }
      return { packageName, qualifiedName };
    }
    const pkg = this.packages.lookupPackage(id.packageId);
    if (!pkg || !defines(pkg.id)) this.#unknownIds.add(`${id.packageId}:${qualifiedName}`);
    return { packageName: pkg?.metadata.name ?? '', qualifiedName };
  }

  check(): void {
    const fail = (
      def: (typeof RequestValidationErrors)[keyof typeof RequestValidationErrors],
      what: string,
      s: Set<string>,
    ) => {
      if (s.size > 0) throw new WeftError(def, `${what}: ${[...s].sort().join(', ')}`);
    };
    fail(
      RequestValidationErrors.PACKAGE_NAMES_NOT_FOUND,
      'The following package names do not match upgradable packages uploaded on this participant',
      this.#unknownNames,
    );
    fail(
      RequestValidationErrors.NO_TEMPLATES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME,
      'The following package-name/template qualified-name pairs do not reference any template-id uploaded on this participant',
      this.#noTemplates,
    );
    fail(
      RequestValidationErrors.NO_INTERFACES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME,
      'The following package-name/interface qualified-name pairs do not reference any interface-id uploaded on this participant',
      this.#noInterfaces,
    );
    fail(
      RequestValidationErrors.TEMPLATES_OR_INTERFACES_NOT_FOUND,
      'The following templates or interfaces do not exist on this participant',
      this.#unknownIds,
    );
  }
}
