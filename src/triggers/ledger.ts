/**
 * The part of the Ledger API a trigger runs on, over the project's gRPC client: the ledger end, the party's active
 * contracts, its transactions and completions from an offset, and command submission. The runner depends on this
 * narrow interface, not on the client.
 */

import type { Command } from '../generated/com/daml/ledger/api/v2/commands.js';
import { Commands } from '../generated/com/daml/ledger/api/v2/commands.js';
import type { Completion } from '../generated/com/daml/ledger/api/v2/completion.js';
import type { CreatedEvent } from '../generated/com/daml/ledger/api/v2/event.js';
import type { Transaction } from '../generated/com/daml/ledger/api/v2/transaction.js';
import { TransactionShape } from '../generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { LedgerApiClient } from '../ledger-api/index.js';

/** A stream the runner reads until it ends or is cancelled. */
export interface LedgerSubscription<T> extends AsyncIterable<T> {
  cancel(): void;
}

export interface TriggerLedger {
  ledgerEnd(): Promise<bigint>;
  activeContracts(party: string, at: bigint): Promise<CreatedEvent[]>;
  transactions(party: string, beginExclusive: bigint): LedgerSubscription<Transaction>;
  completions(userId: string, party: string, beginExclusive: bigint): LedgerSubscription<Completion>;
  /** Submits asynchronously (CommandSubmissionService); the outcome arrives as a completion. */
  submit(o: {
    userId: string;
    commandId: string;
    party: string;
    commands: readonly Command[];
  }): Promise<void>;
  close(): void;
}

/** Every contract of the party (wildcard), with labelled arguments (verbose), as Daml triggers read them. */
const partyFormat = (party: string) => ({ filtersByParty: { [party]: { cumulative: [] } }, verbose: true });

function subscription<In, Out>(
  stream: AsyncIterable<In> & { cancel(): void },
  pick: (m: In) => Out | undefined,
): LedgerSubscription<Out> {
  return {
    cancel: () => stream.cancel(),
    async *[Symbol.asyncIterator]() {
      for await (const message of stream) {
        const out = pick(message as In);
        if (out !== undefined) yield out;
      }
    },
  };
}

/** A TriggerLedger over the gRPC Ledger API client (which carries the party's token). */
export function grpcTriggerLedger(c: LedgerApiClient): TriggerLedger {
  return {
    ledgerEnd: async () => (await c.unary(c.state, c.state.getLedgerEnd, {})).offset,
    activeContracts: async (party, at) => {
      const responses = await c.collect(c.state, c.state.getActiveContracts, {
        activeAtOffset: at,
        eventFormat: partyFormat(party),
      });
      return responses.flatMap((r) =>
        r.contractEntry.oneofKind === 'activeContract' && r.contractEntry.activeContract.createdEvent
          ? [r.contractEntry.activeContract.createdEvent]
          : [],
      );
    },
    transactions: (party, beginExclusive) =>
      subscription(
        c.stream(c.updates, c.updates.getUpdates, {
          beginExclusive,
          updateFormat: {
            includeTransactions: {
              eventFormat: partyFormat(party),
              transactionShape: TransactionShape.ACS_DELTA,
            },
          },
        }),
        (m) => (m.update.oneofKind === 'transaction' ? m.update.transaction : undefined),
      ),
    completions: (userId, party, beginExclusive) =>
      subscription(
        c.stream(c.completions, c.completions.completionStream, { userId, parties: [party], beginExclusive }),
        (m) =>
          m.completionResponse.oneofKind === 'completion' ? m.completionResponse.completion : undefined,
      ),
    submit: async ({ userId, commandId, party, commands }) => {
      await c.unary(c.submission, c.submission.submit, {
        commands: Commands.create({ userId, commandId, actAs: [party], commands: [...commands] }),
      });
    },
    close: () => c.close(),
  };
}
