/**
 * Runs one trigger for one party, as Daml's trigger runner does: read the party's active contracts at the ledger
 * end, `initialize`, then follow its transactions and completions from there, calling `updateState` on each and
 * `rule` after it. Commands the rule emits are tracked in flight until their completion (and, when accepted, their
 * transaction) arrives, and the contracts they consume are hidden from the rule meanwhile, so that a rule never
 * resubmits them. A rejection (contention, a Daml error) pauses the rule with exponential backoff. A disconnected
 * stream (participant restart, token expiry) restarts the session from a fresh ACS with a fresh token. Code of the
 * trigger that throws stops the trigger with the error; nothing else does.
 */
import type { RandomSource } from '../crypto/index.js';
import { isWeftError, WeftError } from '../errors/index.js';
import type { Completion } from '../generated/com/daml/ledger/api/v2/completion.js';
import type { CreatedEvent } from '../generated/com/daml/ledger/api/v2/event.js';
import type { Transaction } from '../generated/com/daml/ledger/api/v2/transaction.js';
import { ledgerApiErrorOf } from '../ledger-api/index.js';
import { protoToJson } from '../ledger-api/json/index.js';
import type { Logger } from '../observability/index.js';
import { type Clock, deferred } from '../time/index.js';
import type { ActiveContracts, Command, Trigger, TriggerContract, TriggerMessage } from './api.js';
import type { TriggerRuntimeSettings } from './config.js';
import { TriggerErrors } from './errors.js';
import type { LedgerSubscription, TriggerLedger } from './ledger.js';

export type TriggerState = 'starting' | 'running' | 'stopped' | 'failed';

export interface TriggerLogEntry {
  readonly at: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

export interface TriggerStatus {
  readonly state: TriggerState;
  /** Why it failed (its error's `CODE(category): message`). */
  readonly error?: string;
  readonly inFlight: number;
  readonly submitted: number;
  readonly rejected: number;
  readonly logs: readonly TriggerLogEntry[];
}

export interface TriggerRunnerOptions {
  readonly id: string;
  readonly party: string;
  /** The user id commands are submitted as (Daml's applicationId). */
  readonly userId: string;
  readonly trigger: Trigger;
  /** A Ledger API connection with a currently valid token for the party; asked again for each session. */
  readonly connect: () => Promise<TriggerLedger>;
  readonly settings: TriggerRuntimeSettings;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Told when the trigger stops by itself (failed). */
  readonly onFailed?: (error: WeftError) => void;
}

interface InFlight {
  readonly consumes: readonly string[];
  /** Set once an accepting completion came: the offset its transaction is at. */
  acceptedAt?: bigint;
}

/** The error a trigger's own code threw, as the trigger's failure. */
class TriggerCodeError extends Error {}

const templateKey = (id: { packageId: string; moduleName: string; entityName: string }) =>
  `${id.packageId}:${id.moduleName}:${id.entityName}`;

function contractOf(e: CreatedEvent): TriggerContract {
  return {
    contractId: e.contractId,
    templateId: e.templateId ? templateKey(e.templateId) : '',
    packageName: e.packageName,
    payload: e.createArguments
      ? (protoToJson({ sum: { oneofKind: 'record', record: e.createArguments } }) as Record<string, unknown>)
      : {},
    createArguments: e.createArguments,
    signatories: e.signatories,
    observers: e.observers,
  };
}

/** Whether `c` is of `template` (`#package-name:M:E` or `packageId:M:E`). */
function isOf(c: TriggerContract, template: string): boolean {
  const [pkg, module, entity] = template.split(':');
  const [packageId, moduleName, entityName] = c.templateId.split(':');
  if (module !== moduleName || entity !== entityName) return false;
  return pkg?.startsWith('#') ? pkg.slice(1) === c.packageName : pkg === packageId;
}

export class TriggerRunner {
  readonly #o: TriggerRunnerOptions;
  #state: TriggerState = 'starting';
  #error: WeftError | undefined;
  readonly #logs: TriggerLogEntry[] = [];
  #submitted = 0;
  #rejected = 0;
  #stopped = false;
  /** Cancels the current session's streams and timers. */
  #endSession: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  #inFlightCount: () => number = () => 0;
  readonly #firstSession = deferred<void>();

  constructor(options: TriggerRunnerOptions) {
    this.#o = options;
  }

  get id(): string {
    return this.#o.id;
  }

  status(): TriggerStatus {
    return {
      state: this.#state,
      ...(this.#error ? { error: this.#error.toString() } : {}),
      inFlight: this.#inFlightCount(),
      submitted: this.#submitted,
      rejected: this.#rejected,
      logs: [...this.#logs],
    };
  }

  /**
   * Starts the trigger; resolves once it runs (its first session read the ACS and initialized), rejects with why
   * its first session failed (a party the participant does not know, a token without the right, initialize threw).
   * Later failures are reconnected (or, for the trigger's own code, end in its status).
   */
  start(): Promise<void> {
    this.#firstSession.promise.catch(() => {});
    this.#done = this.#run();
    return this.#firstSession.promise;
  }

  /** Stops the trigger: its streams are cancelled; commands in flight still complete on the participant. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#endSession?.();
    await this.#done;
    if (this.#state !== 'failed') this.#state = 'stopped';
  }

  #log(level: TriggerLogEntry['level'], message: string): void {
    this.#logs.push({ at: new Date(Number(this.#o.clock.now() / 1000n)).toISOString(), level, message });
    if (this.#logs.length > this.#o.settings.maxLogEntries) this.#logs.shift();
    this.#o.logger[level]({ trigger: this.#o.id, party: this.#o.party }, message);
  }

  #fail(e: WeftError): void {
    this.#state = 'failed';
    this.#error = e;
    this.#stopped = true;
    this.#log('error', e.toString());
    this.#endSession?.();
    this.#firstSession.reject(e);
    this.#o.onFailed?.(e);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#session(() => {
          failures = 0;
          this.#firstSession.resolve();
        });
      } catch (e) {
        if (e instanceof TriggerCodeError) {
          return this.#fail(
            new WeftError(
              TriggerErrors.TRIGGER_FAILED,
              e.message,
              { trigger: this.#o.id },
              { cause: e.cause },
            ),
          );
        }
        if (isWeftError(e, TriggerErrors.TRIGGER_LIMIT_EXCEEDED)) return this.#fail(e);
        if (this.#stopped) return;
        failures++;
        this.#firstSession.reject(ledgerApiErrorOf(e) ?? e);
        this.#log('warn', `the Ledger API connection failed (${(e as Error).message}); reconnecting`);
      }
      if (this.#stopped) return;
      await this.#sleep(this.#backoff(Math.max(failures, 1)));
    }
  }

  #backoff(attempt: number): number {
    const { retryInitialDelayMs, retryMaxDelayMs } = this.#o.settings;
    return Math.min(retryMaxDelayMs, retryInitialDelayMs * 2 ** Math.min(attempt - 1, 30));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.#o.clock.schedule(ms, resolve);
      // Between sessions, stopping ends the wait (the previous session is over: nothing else to end).
      this.#endSession = () => {
        cancel();
        resolve();
      };
    });
  }

  /** One connection: ACS, initialize, then messages until a stream ends; throws why it ended. */
  async #session(connected: () => void): Promise<void> {
    const o = this.#o;
    const { trigger, party, settings } = o;
    const ledger = await o.connect();
    const subscriptions: LedgerSubscription<unknown>[] = [];
    // At most two timers: the next heartbeat and the rule's retry after a rejection.
    const timers: { heartbeat?: () => void; retry?: () => void } = {};
    const clearTimers = () => {
      timers.heartbeat?.();
      timers.retry?.();
    };
    let ended: (e: unknown) => void = () => {};
    const end = new Promise<never>((_, reject) => {
      ended = reject;
    });
    end.catch(() => {});
    this.#endSession = () => {
      for (const s of subscriptions) s.cancel();
      clearTimers();
      ended(new Error('stopped'));
    };
    try {
      const offset = await ledger.ledgerEnd();
      const contracts = new Map<string, TriggerContract>();
      const track = (e: CreatedEvent) => {
        const c = contractOf(e);
        if (!trigger.registeredTemplates.some((t) => isOf(c, t))) return;
        contracts.set(c.contractId, c);
        if (contracts.size > settings.maxActiveContracts) {
          throw new WeftError(
            TriggerErrors.TRIGGER_LIMIT_EXCEEDED,
            `trigger ${o.id} sees more than ${settings.maxActiveContracts} active contracts (runtime.max-active-contracts)`,
            { trigger: o.id },
          );
        }
      };
      for (const e of await ledger.activeContracts(party, offset)) track(e);
      const inFlight = new Map<string, InFlight>();
      const view = (hidePending: boolean): ActiveContracts => {
        const hidden = new Set(hidePending ? [...inFlight.values()].flatMap((f) => f.consumes) : []);
        return {
          contracts: (template) =>
            [...contracts.values()].filter(
              (c) => !hidden.has(c.contractId) && (template === undefined || isOf(c, template)),
            ),
          get: (id) => (hidden.has(id) ? undefined : contracts.get(id)),
        };
      };
      const code = <T>(what: string, f: () => T): T => {
        try {
          return f();
        } catch (e) {
          throw new TriggerCodeError(`${what} threw: ${e instanceof Error ? e.message : String(e)}`, {
            cause: e,
          });
        }
      };
      let state = code('initialize', () => trigger.initialize(view(false), party));
      let retryAt = 0;
      let rejections = 0;
      let seq = 0;
      // Unique per session, so that a restarted trigger's command ids never collide with its earlier ones.
      const prefix = `trigger-${o.id}-${Buffer.from(o.random.bytes(6)).toString('hex')}`;
      this.#inFlightCount = () => inFlight.size;
      const nowMs = () => Number(o.clock.now() / 1000n);

      const submit = (commands: readonly Command[], consumes: readonly string[]) => {
        if (inFlight.size >= settings.maxInFlightCommands) {
          throw new WeftError(
            TriggerErrors.TRIGGER_LIMIT_EXCEEDED,
            `trigger ${o.id} has ${inFlight.size} commands in flight, the most allowed (runtime.max-in-flight-commands)`,
            { trigger: o.id },
          );
        }
        const commandId = `${prefix}-${seq++}`;
        inFlight.set(commandId, { consumes: [...consumes] });
        this.#submitted++;
        ledger
          .submit({ userId: o.userId, commandId, party, commands })
          .catch((e: unknown) => guard(() => rejected(commandId, (e as Error).message)));
      };
      const rule = () => {
        if (nowMs() < retryAt) return;
        const emitted: { commands: readonly Command[]; consumes: readonly string[] }[] = [];
        const next = code('rule', () =>
          trigger.rule({
            party,
            state,
            acs: view(true),
            now: new Date(nowMs()),
            emit: (commands, consumes = []) => {
              emitted.push({ commands, consumes });
            },
          }),
        );
        if (next !== undefined) state = next;
        for (const e of emitted) submit(e.commands, e.consumes);
      };
      const update = (message: TriggerMessage) => {
        if (trigger.updateState) {
          const s = state;
          state = code('updateState', () => trigger.updateState!(s, message, view(false)));
        }
      };
      const rejected = (commandId: string, why: string) => {
        if (!inFlight.delete(commandId)) return;
        this.#rejected++;
        rejections++;
        const delay = this.#backoff(rejections);
        retryAt = nowMs() + delay;
        this.#log('warn', `command ${commandId} was rejected (${why}); the rule runs again in ${delay} ms`);
        timers.retry?.();
        timers.retry = o.clock.schedule(delay, () => guard(rule));
      };
      const settle = (upTo: bigint) => {
        for (const [id, f] of inFlight)
          if (f.acceptedAt !== undefined && f.acceptedAt <= upTo) inFlight.delete(id);
      };
      const onTransaction = (tx: Transaction) => {
        for (const { event } of tx.events) {
          if (event.oneofKind === 'created') track(event.created);
          else if (event.oneofKind === 'archived') contracts.delete(event.archived.contractId);
        }
        inFlight.delete(tx.commandId);
        settle(tx.offset);
        update({ kind: 'transaction', transaction: tx });
        rule();
      };
      const onCompletion = (c: Completion) => {
        const ours = inFlight.has(c.commandId);
        if (ours && (c.status?.code ?? 0) !== 0) rejected(c.commandId, c.status?.message ?? '');
        else if (ours) {
          rejections = 0;
          inFlight.get(c.commandId)!.acceptedAt = c.offset;
        }
        update({ kind: 'completion', completion: c, ours });
        rule();
      };
      /** Runs a handler; a failure of the trigger or a bound ends the session with it. */
      const guard = (f: () => void) => {
        try {
          f();
        } catch (e) {
          ended(e);
        }
      };
      const pump = async <T>(s: LedgerSubscription<T>, handle: (m: T) => void) => {
        subscriptions.push(s as LedgerSubscription<unknown>);
        try {
          for await (const m of s) guard(() => handle(m));
          ended(new Error('the stream ended'));
        } catch (e) {
          ended(e);
        }
      };
      void pump(ledger.transactions(party, offset), onTransaction);
      void pump(ledger.completions(o.userId, party, offset), onCompletion);
      if (trigger.heartbeatMs !== undefined) {
        const beat = () => {
          guard(() => {
            update({ kind: 'heartbeat' });
            rule();
          });
          timers.heartbeat = o.clock.schedule(trigger.heartbeatMs!, beat);
        };
        timers.heartbeat = o.clock.schedule(trigger.heartbeatMs, beat);
      }
      if (this.#stopped) return;
      this.#state = 'running';
      connected();
      this.#log('info', `running for ${party} from offset ${offset} with ${contracts.size} active contracts`);
      guard(rule);
      await end;
    } finally {
      for (const s of subscriptions) s.cancel();
      clearTimers();
      this.#inFlightCount = () => 0;
      ledger.close();
    }
  }
}
