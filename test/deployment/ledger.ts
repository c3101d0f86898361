/**
 * A participant daemon's Ledger API as the deployment test and the network bench use it: commands written as the
 * JSON API writes them (`tokenCommands`) submitted as protobuf `Command`s (CommandService.SubmitAndWait), a party's
 * active contracts (StateService) and its transactions (UpdateService), with Daml values as plain JSON.
 */
import type { Engine } from '../../src/daml/index.js';
import type { Event } from '../../src/generated/com/daml/ledger/api/v2/event.js';
import { TransactionShape } from '../../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { Identifier, Record as ProtoRecord } from '../../src/generated/com/daml/ledger/api/v2/value.js';
import { LedgerApiClient } from '../../src/ledger-api/index.js';
import { protoToJson } from '../../src/ledger-api/json/index.js';
import { protoCommands } from '../ledger-api/commands.js';

/** Without auth-services the participant needs the user in each command. */
const USER = 'deployment';

/** `package-id:Module:Entity`. */
export const templateIdOf = (id: Identifier | undefined) =>
  id ? `${id.packageId}:${id.moduleName}:${id.entityName}` : '';

/** The template's name without package and module. */
export const templateName = (templateId: string) => templateId.slice(templateId.lastIndexOf(':') + 1);

// biome-ignore lint/suspicious/noExplicitAny: tests navigate contract arguments by path
export type Json = any;

const recordJson = (record: ProtoRecord | undefined): Json =>
  record && protoToJson({ sum: { oneofKind: 'record', record } });

export interface ActiveContract {
  readonly contractId: string;
  readonly templateId: string;
  readonly argument: Json;
}

export interface LedgerTransaction {
  readonly offset: bigint;
  readonly updateId: string;
  /** Set for the submitting parties only. */
  readonly commandId: string;
  /** LEDGER_EFFECTS: every create and exercise the party sees, in execution order. */
  readonly events: readonly Event[];
  /** ACS_DELTA's archives (a stakeholder's), by the node id of the consuming exercise. */
  readonly archived: ReadonlyMap<number, string>;
}

const partyFormat = (party: string) => ({ filtersByParty: { [party]: { cumulative: [] } }, verbose: true });

export class DeploymentLedger {
  readonly client: LedgerApiClient;

  constructor(
    url: string,
    private readonly engine: Engine,
  ) {
    this.client = new LedgerApiClient(url);
  }

  /** Submits `commands` (JSON API shape) and waits for their transaction; rejects with the failure. */
  async submit(
    commandId: string,
    commands: readonly unknown[],
    actAs: readonly string[],
    readAs: readonly string[] = [],
  ): Promise<{ updateId: string; offset: bigint }> {
    const c = this.client;
    const r = await c.unary(c.commands, c.commands.submitAndWait, {
      commands: {
        workflowId: '',
        userId: USER,
        commandId,
        commands: protoCommands(this.engine, commands),
        actAs: [...actAs],
        readAs: [...readAs],
        submissionId: '',
        disclosedContracts: [],
        synchronizerId: '',
        packageIdSelectionPreference: [],
        prefetchContractKeys: [],
        deduplicationPeriod: { oneofKind: undefined },
      },
    });
    return { updateId: r.updateId, offset: r.completionOffset };
  }

  async end(): Promise<bigint> {
    const c = this.client;
    return (await c.unary(c.state, c.state.getLedgerEnd, {})).offset;
  }

  /** `party`'s active contracts at the ledger end. */
  async activeContracts(party: string): Promise<ActiveContract[]> {
    const c = this.client;
    const responses = await c.collect(c.state, c.state.getActiveContracts, {
      activeAtOffset: await this.end(),
      eventFormat: partyFormat(party),
    });
    return responses.flatMap(({ contractEntry: e }) => {
      const created = e.oneofKind === 'activeContract' ? e.activeContract.createdEvent : undefined;
      return created
        ? [
            {
              contractId: created.contractId,
              templateId: templateIdOf(created.templateId),
              argument: recordJson(created.createArguments),
            },
          ]
        : [];
    });
  }

  /** `party`'s transactions after `from` up to `to` (default the ledger end), in both shapes. */
  async transactions(party: string, from: bigint, to?: bigint): Promise<LedgerTransaction[]> {
    const end = to ?? (await this.end());
    if (from >= end) return [];
    const read = async (transactionShape: TransactionShape) => {
      const c = this.client;
      const responses = await c.collect(c.updates, c.updates.getUpdates, {
        beginExclusive: from,
        endInclusive: end,
        updateFormat: { includeTransactions: { eventFormat: partyFormat(party), transactionShape } },
      });
      return responses.flatMap((r) => (r.update.oneofKind === 'transaction' ? [r.update.transaction] : []));
    };
    const [effects, delta] = await Promise.all([
      read(TransactionShape.LEDGER_EFFECTS),
      read(TransactionShape.ACS_DELTA),
    ]);
    const archives = new Map(
      delta.map((t) => [
        t.updateId,
        new Map(
          t.events.flatMap(({ event: e }) =>
            e.oneofKind === 'archived'
              ? [[e.archived.nodeId, templateIdOf(e.archived.templateId)] as const]
              : [],
          ),
        ),
      ]),
    );
    return effects.map((t) => ({
      offset: t.offset,
      updateId: t.updateId,
      commandId: t.commandId,
      events: t.events,
      archived: archives.get(t.updateId) ?? new Map(),
    }));
  }

  close(): void {
    this.client.close();
  }
}

/** A created event's argument as plain JSON. */
export const createdArgument = (e: Event): Json =>
  e.event.oneofKind === 'created' ? recordJson(e.event.created.createArguments) : undefined;
