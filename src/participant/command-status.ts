import { forEachNode, type Identifier, type Transaction } from '../daml/index.js';
import type { SendRequest } from '../sequencer/index.js';
import type { Completion } from './updates.js';

export type CommandStatusState = 'pending' | 'succeeded' | 'failed';

/** What the confirmation request of a command cost on the wire (Canton's RequestStatistics). */
export interface RequestStatistics {
  readonly envelopes: number;
  /** Bytes of the envelopes' contents. */
  readonly requestSize: number;
  /** Recipients over all envelopes. */
  readonly recipients: number;
}

/** The ledger effects of a command's transaction, as its submitter interpreted it (Canton's CommandUpdates). */
export interface CommandUpdates {
  readonly created: readonly { readonly templateId: Identifier; readonly contractId: string }[];
  readonly archived: readonly { readonly templateId: Identifier; readonly contractId: string }[];
  readonly exercised: number;
  readonly fetched: number;
  readonly lookedUpByKey: number;
}

/** One submission as the command inspection service shows it. */
export interface CommandStatus {
  readonly commandId: string;
  readonly userId: string;
  readonly submissionId: string;
  readonly actAs: readonly string[];
  /** The commands as they were submitted. */
  readonly commands: readonly unknown[];
  /** When the participant took the submission (µs). */
  readonly started: bigint;
  readonly completed: bigint | undefined;
  readonly state: CommandStatusState;
  /** The command's completion; for a command that failed before it was sequenced, its error code and message. */
  readonly completion:
    | Completion
    | { readonly status: 'failed'; readonly code: string; readonly message: string }
    | undefined;
  readonly statistics: RequestStatistics | undefined;
  readonly updates: CommandUpdates | undefined;
}

interface Entry {
  status: CommandStatus;
}

/** The handle `submit` updates while the command goes through the phases. */
export interface CommandProgress {
  sent(request: SendRequest, transaction: Transaction): void;
  completed(c: Completion, at: bigint): void;
  failed(code: string, message: string, at: bigint): void;
}

/**
 * Canton's command progress tracker: the recent submissions of this participant, in memory only, for the command
 * inspection service (a debugging aid). Bounded: at most `limit` per state, the oldest dropped first, so a burst
 * of commands never grows it.
 */
export class CommandStatuses {
  readonly #byState: Record<CommandStatusState, Set<Entry>> = {
    pending: new Set(),
    succeeded: new Set(),
    failed: new Set(),
  };

  constructor(private readonly limit: number) {}

  /** Records a submission as pending; the returned handle moves it on. */
  start(
    s: Pick<CommandStatus, 'commandId' | 'userId' | 'submissionId' | 'actAs' | 'commands' | 'started'>,
  ): CommandProgress {
    const entry: Entry = {
      status: {
        ...s,
        completed: undefined,
        state: 'pending',
        completion: undefined,
        statistics: undefined,
        updates: undefined,
      },
    };
    this.#add(entry);
    const finish = (state: CommandStatusState, patch: Partial<CommandStatus>) => {
      if (entry.status.state !== 'pending') return;
      this.#byState.pending.delete(entry);
      entry.status = { ...entry.status, ...patch, state };
      this.#add(entry);
    };
    return {
      sent: (request, transaction) => {
        entry.status = {
          ...entry.status,
          statistics: statisticsOf(request),
          updates: updatesOf(transaction),
        };
      },
      completed: (c, at) => finish(c.status, { completion: c, completed: at, submissionId: c.submissionId }),
      failed: (code, message, at) =>
        finish('failed', { completion: { status: 'failed', code, message }, completed: at }),
    };
  }

  /**
   * The statuses whose command id starts with `commandIdPrefix`, in `state` (all when undefined), newest first, at
   * most `limit`.
   */
  list(o: {
    commandIdPrefix: string;
    state: CommandStatusState | undefined;
    limit: number;
  }): CommandStatus[] {
    const states: CommandStatusState[] = o.state ? [o.state] : ['pending', 'succeeded', 'failed'];
    return states
      .flatMap((s) => [...this.#byState[s]].map((e) => e.status))
      .filter((s) => s.commandId.startsWith(o.commandIdPrefix))
      .sort((a, b) => (a.started === b.started ? 0 : a.started > b.started ? -1 : 1))
      .slice(0, o.limit);
  }

  #add(entry: Entry): void {
    const set = this.#byState[entry.status.state];
    set.add(entry);
    // Sets iterate in insertion order: the first is the oldest.
    if (set.size > this.limit) set.delete(set.values().next().value!);
  }
}

function statisticsOf(request: SendRequest): RequestStatistics {
  return {
    envelopes: request.envelopes.length,
    requestSize: request.envelopes.reduce((n, e) => n + e.content.byteLength, 0),
    recipients: request.envelopes.reduce((n, e) => n + e.recipients.length, 0),
  };
}

function updatesOf(tx: Transaction): CommandUpdates {
  const created: { templateId: Identifier; contractId: string }[] = [];
  const archived: { templateId: Identifier; contractId: string }[] = [];
  let exercised = 0;
  let fetched = 0;
  forEachNode(tx, (_, node, rolledBack) => {
    if (rolledBack) return;
    if (node.tag === 'Create')
      created.push({ templateId: node.templateId, contractId: node.contractId.coid });
    else if (node.tag === 'Fetch') fetched++;
    else if (node.tag === 'Exercise') {
      exercised++;
      if (node.consuming) archived.push({ templateId: node.templateId, contractId: node.contractId.coid });
    }
  });
  // Weft's Daml has no contract keys: nothing is ever looked up by key.
  return { created, archived, exercised, fetched, lookedUpByKey: 0 };
}
