import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { oneLine } from '../../daemon/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { Command, Commands } from '../../generated/com/daml/ledger/api/v2/commands.js';
import type { Event } from '../../generated/com/daml/ledger/api/v2/event.js';
import { GetActiveContractsResponse } from '../../generated/com/daml/ledger/api/v2/state_service.js';
import { TransactionShape } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import { GetUpdatesResponse } from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { Identifier } from '../../generated/com/daml/ledger/api/v2/value.js';
import { GetLedgerApiVersionResponse } from '../../generated/com/daml/ledger/api/v2/version_service.js';
import { LedgerApiClient, ledgerApiErrorOf } from '../../ledger-api/index.js';
import { protoToJson } from '../../ledger-api/json/index.js';

interface LedgerOptions {
  endpoint: string;
  token?: string;
  ca?: string;
  json?: boolean;
}

const DEFAULT_ENDPOINT = 'http://127.0.0.1:5011';

function usage(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

function readArgument(value: string, what: string): string {
  if (!value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8');
  } catch (e) {
    throw usage(`cannot read ${what} ${value.slice(1)}: ${(e as Error).message}`);
  }
}

function print(lines: readonly string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printJson(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

const identifier = (id: Identifier | undefined) =>
  id ? `${id.packageId}:${id.moduleName}:${id.entityName}` : '?';

function renderEvent({ event: e }: Event): string {
  switch (e.oneofKind) {
    case 'created': {
      const c = e.created;
      const argument =
        c.createArguments && protoToJson({ sum: { oneofKind: 'record', record: c.createArguments } });
      return `  created ${identifier(c.templateId)} ${c.contractId}  ${JSON.stringify(argument)}`;
    }
    case 'exercised': {
      const x = e.exercised;
      return `  exercised ${x.choice} on ${identifier(x.templateId)} ${x.contractId} by ${x.actingParties.join(', ')}${x.consuming ? ' (consuming)' : ''}`;
    }
    case 'archived':
      return `  archived ${identifier(e.archived.templateId)} ${e.archived.contractId}`;
    default:
      return '  (unknown event)';
  }
}

function action<A extends unknown[]>(
  name: string,
  run: (client: LedgerApiClient, options: LedgerOptions, ...args: A) => Promise<void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Cli;
    const options = command.optsWithGlobals<LedgerOptions>();
    let client: LedgerApiClient | undefined;
    try {
      client = new LedgerApiClient(options.endpoint, {
        ...(options.token === undefined ? {} : { token: readArgument(options.token, '--token').trim() }),
        ...(options.ca === undefined
          ? {}
          : { customTrustCertificates: readArgument(`@${options.ca}`, '--ca') }),
      });
      await run(client, options, ...(args.slice(0, -2) as A));
    } catch (e) {
      process.stderr.write(`weft ledger ${name}: ${oneLine(ledgerApiErrorOf(e) ?? e)}\n`);
      process.exitCode = 1;
    } finally {
      client?.close();
    }
  };
}

const partyFormat = (party: string) => ({
  filtersByParty: { [party]: { cumulative: [] } },
  verbose: true,
});

/** `weft ledger …`: an application's view of a participant, through its Ledger API (Canton's gRPC Ledger API v2). */
export function registerLedgerCommands(program: Cli): void {
  const ledger = program
    .command('ledger')
    .description(
      "use a participant's Ledger API: version, ledger end, a party's active contracts and transactions, submit commands",
    )
    .option(
      '-e, --endpoint <url>',
      "the participant's Ledger API, http://host:port or https://host:port",
      process.env.WEFT_LEDGER_API ?? DEFAULT_ENDPOINT,
    )
    .option('--token <jwt>', 'bearer token (or @FILE) for a Ledger API with auth-services')
    .option('--ca <file>', 'PEM root certificate to trust for an https endpoint')
    .option('--json', 'print the protobuf messages as JSON');

  ledger
    .command('version')
    .description('the Ledger API version and features (VersionService)')
    .action(
      action('version', async (c, o) => {
        const r = await c.unary(c.version, c.version.getLedgerApiVersion, {});
        if (o.json) printJson(GetLedgerApiVersionResponse.toJson(r));
        else print([`Ledger API ${r.version}`]);
      }),
    );

  ledger
    .command('end')
    .description('the ledger end: the offset of the last update (StateService.GetLedgerEnd)')
    .action(
      action('end', async (c, o) => {
        const { offset } = await c.unary(c.state, c.state.getLedgerEnd, {});
        if (o.json) printJson({ offset: String(offset) });
        else print([String(offset)]);
      }),
    );

  ledger
    .command('acs')
    .description("a party's active contracts at the ledger end (StateService.GetActiveContracts)")
    .argument('<party>', 'the party id')
    .action(
      action('acs', async (c, o, party: string) => {
        const { offset } = await c.unary(c.state, c.state.getLedgerEnd, {});
        const responses = await c.collect(c.state, c.state.getActiveContracts, {
          activeAtOffset: offset,
          eventFormat: partyFormat(party),
        });
        if (o.json) return printJson(responses.map((r) => GetActiveContractsResponse.toJson(r)));
        const created = responses.flatMap((r) =>
          r.contractEntry.oneofKind === 'activeContract' && r.contractEntry.activeContract.createdEvent
            ? [r.contractEntry.activeContract.createdEvent]
            : [],
        );
        print([
          `${created.length} active contracts of ${party} at offset ${offset}`,
          ...created.map(
            (e) =>
              `${e.contractId}  ${identifier(e.templateId)}  ${JSON.stringify(e.createArguments ? protoToJson({ sum: { oneofKind: 'record', record: e.createArguments } }) : null)}`,
          ),
        ]);
      }),
    );

  ledger
    .command('updates')
    .description("a party's transactions after an offset, up to the ledger end (UpdateService.GetUpdates)")
    .argument('<party>', 'the party id')
    .option('--from <offset>', 'the transactions after this offset (exclusive)', '0')
    .option('--ledger-effects', 'every action the party sees (LEDGER_EFFECTS), not only creates and archives')
    .action(
      action('updates', async (c, o, party: string) => {
        const { from, ledgerEffects } = o as LedgerOptions & { from: string; ledgerEffects?: boolean };
        if (!/^\d+$/.test(from)) throw usage(`--from '${from}' is not an offset`);
        const { offset: end } = await c.unary(c.state, c.state.getLedgerEnd, {});
        const responses =
          BigInt(from) >= end
            ? []
            : await c.collect(c.updates, c.updates.getUpdates, {
                beginExclusive: BigInt(from),
                endInclusive: end,
                updateFormat: {
                  includeTransactions: {
                    eventFormat: partyFormat(party),
                    transactionShape: ledgerEffects
                      ? TransactionShape.LEDGER_EFFECTS
                      : TransactionShape.ACS_DELTA,
                  },
                },
              });
        if (o.json) return printJson(responses.map((r) => GetUpdatesResponse.toJson(r)));
        const transactions = responses.flatMap((r) =>
          r.update.oneofKind === 'transaction' ? [r.update.transaction] : [],
        );
        print([
          `${transactions.length} transactions of ${party} after offset ${from}, up to offset ${end}`,
          ...transactions.flatMap((t) => [
            `offset ${t.offset}  update ${t.updateId}${t.commandId ? `  command ${t.commandId}` : ''}`,
            ...t.events.map(renderEvent),
          ]),
        ]);
      }),
    );

  ledger
    .command('submit')
    .description(
      'submit commands and wait for the outcome (CommandService.SubmitAndWait); the commands are a JSON array of Ledger API Command messages in the protobuf JSON mapping',
    )
    .requiredOption('--act-as <party>', 'a submitting party (repeatable)', collect)
    .option('--read-as <party>', 'a reading party (repeatable)', collect)
    .requiredOption('--command-id <id>', 'the command id (deduplication key)')
    .option('--user-id <id>', "the user (default: the token's; without auth, required by the participant)")
    .argument('<commands>', 'the commands as JSON, or @FILE')
    .action(
      action('submit', async (c, o, commands: string) => {
        const flags = o as LedgerOptions & {
          actAs: string[];
          readAs?: string[];
          commandId: string;
          userId?: string;
        };
        let parsed: unknown;
        try {
          parsed = JSON.parse(readArgument(commands, 'the commands'));
        } catch (e) {
          throw usage(`the commands are not JSON: ${(e as Error).message}`);
        }
        if (!Array.isArray(parsed)) throw usage('the commands are not a JSON array of Command messages');
        const list = parsed.map((json, i) => {
          try {
            return Command.fromJson(json);
          } catch (e) {
            throw usage(`command ${i} is not a Ledger API Command: ${(e as Error).message}`);
          }
        });
        const r = await c.unary(c.commands, c.commands.submitAndWait, {
          commands: Commands.create({
            userId: flags.userId ?? '',
            commandId: flags.commandId,
            commands: list,
            actAs: flags.actAs,
            readAs: flags.readAs ?? [],
          }),
        });
        if (o.json) printJson({ updateId: r.updateId, completionOffset: String(r.completionOffset) });
        else
          print([
            `command ${flags.commandId} succeeded at offset ${r.completionOffset} (update ${r.updateId})`,
          ]);
      }),
    );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
