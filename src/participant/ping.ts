import { type Identifier, type Node, valueToJson } from '../daml/index.js';
import { WeftError } from '../errors/index.js';
import type { ParticipantId, PartyId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import { type Clock, startStopwatch } from '../time/index.js';
import { ParticipantErrors } from './errors.js';
import type { Committed } from './protocol.js';
import type { Completion } from './updates.js';

/** Canton's admin workflow behind `health.ping` (`ping-3.4.0.dar`). */
export const PING_PACKAGE_NAME = 'canton-builtin-admin-workflow-ping';
export const PING_TEMPLATE = `#${PING_PACKAGE_NAME}:Canton.Internal.Ping:Ping`;
const PING_USER = 'admin-workflow-ping';

function isPing(node: { packageName: string; templateId: Identifier }): boolean {
  return (
    node.packageName === PING_PACKAGE_NAME &&
    node.templateId.module.join('.') === 'Canton.Internal.Ping' &&
    node.templateId.name.join('.') === 'Ping'
  );
}

interface Outstanding {
  readonly resolve: () => void;
  contractId?: string;
}

export interface PingSubmitter {
  submit(request: {
    commands: unknown[];
    actAs: string[];
    commandId: string;
    userId: string;
  }): Promise<Completion>;
}

/**
 * `health.ping` over the real Ping workflow between the participants' admin parties: the initiator creates a
 * `Ping`, the responder's participant answers it by exercising `Respond` (which archives it), and the initiator
 * measures the time until it sees the archival.
 */
export class PingService {
  /** Ping id → the ping waiting for its answer. */
  readonly #outstanding = new Map<string, Outstanding>();
  readonly #byContract = new Map<string, string>();

  constructor(
    private readonly adminParty: PartyId,
    private readonly submitter: PingSubmitter,
    private readonly clock: Clock,
    private readonly random: { bytes(n: number): Uint8Array },
    private readonly logger: Logger,
  ) {}

  /** Pings `target`'s admin party; resolves with the round trip in milliseconds. */
  async ping(target: ParticipantId, timeoutMs: number): Promise<number> {
    const id = Buffer.from(this.random.bytes(12)).toString('hex');
    const watch = startStopwatch(this.clock);
    let cancel: () => void = () => {};
    // The timeout bounds the whole ping, the submission included (its request may never be sequenced).
    const timedOut = new Promise<never>((_, reject) => {
      cancel = this.clock.schedule(timeoutMs, () =>
        reject(
          new WeftError(
            ParticipantErrors.PING_FAILED,
            `participant ${target} did not answer ping ${id} within ${timeoutMs} ms`,
            { target: String(target) },
          ),
        ),
      );
    });
    const answered = new Promise<void>((resolve) => this.#outstanding.set(id, { resolve }));
    try {
      const submitted = this.submitter.submit({
        commands: [
          {
            CreateCommand: {
              templateId: PING_TEMPLATE,
              createArguments: {
                id,
                initiator: String(this.adminParty),
                responder: String(target.adminParty),
              },
            },
          },
        ],
        actAs: [String(this.adminParty)],
        commandId: `ping-${id}`,
        userId: PING_USER,
      });
      // A submission outliving the timeout completes unobserved.
      submitted.catch(() => {});
      const completion = await Promise.race([submitted, timedOut]);
      if (completion.status === 'failed') {
        throw new WeftError(
          ParticipantErrors.PING_FAILED,
          `the ping to ${target} failed: ${completion.code}: ${completion.message}`,
          { target: String(target) },
        );
      }
      await Promise.race([answered, timedOut]);
      // Measured on the clock's monotonic time: static time stands still.
      return watch.elapsedMs();
    } finally {
      cancel();
      const o = this.#outstanding.get(id);
      if (o?.contractId) this.#byContract.delete(o.contractId);
      this.#outstanding.delete(id);
    }
  }

  /** Watches committed transactions: answers pings to this participant, notices answers to its own pings. */
  onCommitted(c: Committed): void {
    const admin = String(this.adminParty);
    for (const node of c.opened.assembled.transaction.nodes.values()) this.#observe(node, admin);
  }

  #observe(node: Node, admin: string): void {
    if (node.tag === 'Create' && isPing(node)) {
      const arg = valueToJson(node.arg) as { id: string; initiator: string; responder: string };
      const own = this.#outstanding.get(arg.id);
      if (own && arg.initiator === admin) {
        own.contractId = node.contractId.coid;
        this.#byContract.set(node.contractId.coid, arg.id);
      }
      if (arg.responder === admin) this.#respond(node.contractId.coid, arg.id);
    } else if (node.tag === 'Exercise' && node.consuming && isPing(node)) {
      const id = this.#byContract.get(node.contractId.coid);
      if (id !== undefined) this.#outstanding.get(id)?.resolve();
    }
  }

  #respond(contractId: string, id: string): void {
    this.submitter
      .submit({
        commands: [
          {
            ExerciseCommand: { templateId: PING_TEMPLATE, contractId, choice: 'Respond', choiceArgument: {} },
          },
        ],
        actAs: [String(this.adminParty)],
        commandId: `pong-${id}-${contractId.slice(0, 16)}`,
        userId: PING_USER,
      })
      .then(
        (c) => {
          if (c.status === 'failed')
            this.logger.warn({ ping: id, code: c.code }, `answering ping ${id} failed: ${c.message}`);
        },
        (e) => this.logger.warn({ err: e, ping: id }, `answering ping ${id} failed`),
      );
  }
}
