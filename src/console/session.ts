import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { AdminClient } from '../admin-api/index.js';
import { nearestName } from '../config/index.js';
import { WeftError } from '../errors/index.js';
import { OnboardingRestriction } from '../generated/weft/topology/v1/topology.js';
import { LedgerApiClient } from '../ledger-api/index.js';
import { type Clock, sleep, systemClock } from '../time/index.js';
import {
  adminOptions,
  COMMANDS,
  type CommandContext,
  type CommandDefinition,
  checkArgs,
  GROUP_ALIASES,
  invalid,
  NODE_OF,
  nodeOf,
  signature,
} from './commands.js';
import { ConsoleErrors } from './errors.js';
import type { ConsoleNetwork, ConsoleNode, ConsoleNodeKind } from './network.js';
import { CommandQueue } from './queue.js';
import { ConsoleId, ParticipantId, ParticipantPermission, Seq, TrustLevel } from './values.js';

/** bootstrap.synchronizer's arguments, positional or named as in Canton's scripts. */
interface BootstrapArgs {
  readonly synchronizerName?: unknown;
  readonly sequencers?: unknown;
  readonly mediators?: unknown;
  readonly onboardingRestriction?: unknown;
}

/**
 * `(name, sequencers, mediators, owners?, threshold?)`, or one object with Canton's argument names. The owner is
 * the first sequencer's namespace: synchronizerOwners and synchronizerThreshold are accepted and have no effect.
 */
function bootstrapArgs(args: readonly unknown[]): BootstrapArgs {
  const [first] = args;
  if (
    args.length === 1 &&
    typeof first === 'object' &&
    first !== null &&
    !Array.isArray(first) &&
    !nodeOf(first)
  )
    return first as BootstrapArgs;
  const [synchronizerName, sequencers, mediators] = args;
  return { synchronizerName, sequencers, mediators };
}

/** Canton's onboarding restrictions: who may join (RestrictedOpen: only allow-listed participants). */
const ONBOARDING = {
  UnrestrictedOpen: OnboardingRestriction.UNRESTRICTED_OPEN,
  RestrictedOpen: OnboardingRestriction.RESTRICTED_OPEN,
  UnrestrictedLocked: OnboardingRestriction.UNRESTRICTED_LOCKED,
  RestrictedLocked: OnboardingRestriction.RESTRICTED_LOCKED,
} as const;

const OnboardingRestrictionNames = Object.freeze(
  Object.fromEntries(Object.keys(ONBOARDING).map((k) => [k, k])) as { [K in keyof typeof ONBOARDING]: K },
);

/** What help() prints for a handle, a group of commands or a command. */
const HELP = Symbol('weft.console.help');

interface HelpInfo {
  /** How the user reaches it: `participant1.synchronizers`. */
  readonly label: string;
  /** The commands under it, with the path relative to the label. */
  readonly commands: readonly { readonly path: string; readonly definition: CommandDefinition }[];
  /** What it is, for a handle or a global. */
  readonly about?: string;
}

const isRow = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;

/**
 * A group command's results as one table: the rows of every node's list with the node's name first, or one row
 * per node with its result.
 */
function groupResult(nodes: readonly ConsoleNode[], results: readonly unknown[]): Record<string, unknown>[] {
  if (results.every((r) => Array.isArray(r) && r.every(isRow)))
    return results.flatMap((r, i) =>
      (r as Record<string, unknown>[]).map((row) => ({ node: nodes[i]!.name, ...row })),
    );
  return results.map((result, i) => ({ node: nodes[i]!.name, result }));
}

/** Properties that runtimes and libraries probe on any object; a handle answers them as a plain object would. */
const PROBED = new Set([
  'then',
  'toJSON',
  'constructor',
  'inspect',
  'valueOf',
  'toString',
  'asymmetricMatch',
  'nodeType',
  '$$typeof',
  '@@__IMMUTABLE_ITERABLE__@@',
]);

/** Default of utils.retry_until_true, as Canton's console: long enough for a connection to become active. */
const RETRY_TIMEOUT_MS = 30_000;
const RETRY_INTERVAL_MS = 100;

type Tree = { [name: string]: Tree | CommandDefinition };

function isCommand(x: Tree | CommandDefinition): x is CommandDefinition {
  return typeof (x as CommandDefinition).run === 'function';
}

function treeOf(kind: ConsoleNodeKind): Tree {
  const root: Tree = {};
  for (const definition of COMMANDS) {
    if (!definition.kinds.includes(kind)) continue;
    const parts = definition.path.split('.');
    let at = root;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Tree;
    }
    at[parts.at(-1)!] = definition;
  }
  return root;
}

function commandsUnder(tree: Tree, prefix = ''): HelpInfo['commands'] {
  return Object.entries(tree).flatMap(([name, x]) =>
    isCommand(x) ? [{ path: `${prefix}${name}`, definition: x }] : commandsUnder(x, `${prefix}${name}.`),
  );
}

/** A read-only object whose unknown properties fail with the nearest known name instead of `undefined`. */
function strict<T extends object>(target: T, label: string): T {
  return new Proxy(target, {
    get(t, property, receiver) {
      if (typeof property === 'symbol' || property in t || PROBED.has(property))
        return Reflect.get(t, property, receiver);
      const near = nearestName(property, Object.keys(t));
      throw new WeftError(
        ConsoleErrors.CONSOLE_UNKNOWN_COMMAND,
        `${label} has no command or group ${property}${near ? `; did you mean ${near}?` : ''} (help(${label}) lists them)`,
      );
    },
    set() {
      return false;
    },
  });
}

/**
 * One console: a handle per node, group handles (`participants.all`), Canton's helpers (`bootstrap`, `utils`,
 * `nodes`, `Seq`, the permission constants) and help(), with every command run through one queue, in call order.
 * It holds one Admin and Ledger API client per node, made on first use and closed by close().
 */
export class ConsoleSession {
  readonly queue: CommandQueue;
  readonly globals: Readonly<Record<string, unknown>>;
  readonly #admins = new Map<string, AdminClient>();
  readonly #ledgers = new Map<string, LedgerApiClient>();
  readonly #clock: Clock;

  constructor(
    readonly network: ConsoleNetwork,
    options: { readonly stopAfterFailure: boolean; readonly clock?: Clock },
  ) {
    this.queue = new CommandQueue(options.stopAfterFailure);
    this.#clock = options.clock ?? systemClock;
    this.globals = this.#buildGlobals();
  }

  close(): void {
    for (const c of this.#admins.values()) c.close();
    for (const c of this.#ledgers.values()) c.close();
    this.#admins.clear();
    this.#ledgers.clear();
  }

  /** Handles by name: `participant1`, and `synchronizerOwner1` / `domainManager1` for the first sequencer. */
  handleNames(): string[] {
    return Object.keys(this.globals).filter((k) => nodeOf(this.globals[k]) !== undefined);
  }

  #admin(node: ConsoleNode): AdminClient {
    let client = this.#admins.get(node.name);
    if (!client) {
      client = new AdminClient(node.admin.url, adminOptions(node.admin));
      this.#admins.set(node.name, client);
    }
    return client;
  }

  #ledger(node: ConsoleNode): LedgerApiClient {
    const endpoint = node.ledgerApi;
    if (!endpoint) throw invalid(`${node.name} has no Ledger API in the config`);
    let client = this.#ledgers.get(node.name);
    if (!client) {
      client = new LedgerApiClient(endpoint.url, {
        ...(endpoint.ca ? { customTrustCertificates: endpoint.ca } : {}),
        ...(endpoint.token ? { token: endpoint.token } : {}),
      });
      this.#ledgers.set(node.name, client);
    }
    return client;
  }

  #context(node: ConsoleNode, signal: AbortSignal): CommandContext {
    return {
      node,
      admin: this.#admin(node),
      ledgerApi: () => this.#ledger(node),
      signal,
      adminOf: (other) => this.#admin(other),
    };
  }

  /** Queues a command of the console itself (bootstrap, utils): `label` names it in errors. */
  #queued<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.queue.run(work, new Error().stack ?? '');
  }

  /** A command function; zero-argument ones are also thenables, so `participant1.id` works as Canton's does. */
  #commandFunction(
    nodes: () => readonly ConsoleNode[],
    definition: CommandDefinition,
    label: string,
    group: boolean,
  ) {
    const call = (...args: unknown[]): Promise<unknown> => {
      const stack = new Error().stack ?? '';
      const one = (node: ConsoleNode) =>
        this.queue.run(async (signal) => {
          const context = this.#context(node, signal);
          return definition.run(context, ...(await checkArgs(definition, label, args, context)));
        }, stack);
      if (!group) return one(nodes()[0]!);
      const members = nodes();
      return Promise.all(members.map(one)).then((results) => groupResult(members, results));
    };
    const help: HelpInfo = { label, commands: [{ path: '', definition }] };
    Object.defineProperty(call, HELP, { value: help });
    Object.defineProperty(call, 'name', { value: label });
    if (definition.args.every((a) => a.default !== undefined || a.optional)) {
      Object.defineProperty(call, 'then', {
        value: (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) =>
          call().then(resolve, reject),
      });
    }
    return call;
  }

  #handle(
    nodes: () => readonly ConsoleNode[],
    tree: Tree,
    label: string,
    group: boolean,
    about?: string,
  ): object {
    const target: Record<string | symbol, unknown> = {};
    for (const [name, x] of Object.entries(tree)) {
      target[name] = isCommand(x)
        ? this.#commandFunction(nodes, x, `${label}.${name}`, group)
        : this.#handle(nodes, x, `${label}.${name}`, group);
    }
    for (const [alias, name] of Object.entries(GROUP_ALIASES)) {
      const aliased = tree[name];
      // Its own handle, so that errors and help name the group as the user wrote it (participant1.domains).
      if (aliased && !isCommand(aliased))
        target[alias] = this.#handle(nodes, aliased, `${label}.${alias}`, group);
    }
    const info: HelpInfo = { label, commands: commandsUnder(tree), ...(about ? { about } : {}) };
    Object.defineProperty(target, HELP, { value: info });
    return strict(target, label);
  }

  #nodeHandle(node: ConsoleNode, label = node.name): object {
    const handle = this.#handle(
      () => [node],
      treeOf(node.kind),
      label,
      false,
      `${node.kind}, ${node.local ? 'local' : 'remote'}, admin API ${node.admin.url}`,
    );
    // The node itself, for commands that take a handle as an argument (connect_multi's sequencers).
    Object.defineProperty(handle, NODE_OF, { value: node });
    return handle;
  }

  #buildGlobals(): Record<string, unknown> {
    const globals: Record<string, unknown> = {};
    const { nodes } = this.network;
    for (const node of nodes) globals[node.name] = this.#nodeHandle(node);
    // The synchronizer owner: Weft's owner operations go through a sequencer of the owner (its first one).
    const owner = nodes.find((n) => n.kind === 'sequencer');
    if (owner) {
      for (const alias of ['synchronizerOwner1', 'domainManager1'])
        if (!(alias in globals)) globals[alias] = this.#nodeHandle(owner, alias);
    }
    const groups = (kind: ConsoleNodeKind, plural: string) => {
      const of = (filter: (n: ConsoleNode) => boolean) => () =>
        nodes.filter((n) => n.kind === kind && filter(n));
      const tree = treeOf(kind);
      return strict(
        {
          all: this.#handle(
            of(() => true),
            tree,
            `${plural}.all`,
            true,
          ),
          local: this.#handle(
            of((n) => n.local),
            tree,
            `${plural}.local`,
            true,
          ),
          remote: this.#handle(
            of((n) => !n.local),
            tree,
            `${plural}.remote`,
            true,
          ),
        },
        plural,
      );
    };
    globals.participants = groups('participant', 'participants');
    globals.sequencers = groups('sequencer', 'sequencers');
    globals.mediators = groups('mediator', 'mediators');
    const local = this.network.local;
    globals.nodes = strict(
      {
        local: strict(
          {
            start: () => this.#queued(async () => local?.start()),
            stop: () => this.#queued(async () => local?.stop()),
          },
          'nodes.local',
        ),
        all: nodes.map((n) => globals[n.name]),
      },
      'nodes',
    );
    const all = (kind: ConsoleNodeKind) => nodes.filter((n) => n.kind === kind).map((n) => globals[n.name]);
    globals.bootstrap = strict(
      {
        synchronizer: (...args: unknown[]) => this.#queued(() => this.#bootstrap(bootstrapArgs(args))),
        synchronizer_local: (name: unknown = 'da') =>
          this.#queued(() =>
            this.#bootstrap({
              synchronizerName: name,
              sequencers: all('sequencer'),
              mediators: all('mediator'),
            }),
          ),
      },
      'bootstrap',
    );
    globals.utils = strict(
      {
        retry_until_true: (condition: unknown, timeoutMs: unknown = RETRY_TIMEOUT_MS) =>
          this.#queued((signal) => this.#retryUntilTrue(condition, timeoutMs, signal)),
        write_to_file: (data: unknown, file: unknown) =>
          this.#queued(async () => {
            if (typeof file !== 'string')
              throw invalid('utils.write_to_file: argument fileName takes a string');
            await writeFile(file, `${String(data)}\n`);
          }),
        // At once, not queued: a script reads what another wrote before it started.
        read_first_line_from_file: (file: unknown) => {
          if (typeof file !== 'string')
            throw invalid('utils.read_first_line_from_file: argument fileName takes a string');
          try {
            return readFileSync(file, 'utf8').split('\n')[0]!.trim();
          } catch (e) {
            throw invalid(
              `utils.read_first_line_from_file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`,
            );
          }
        },
      },
      'utils',
    );
    globals.OnboardingRestriction = OnboardingRestrictionNames;
    globals.Seq = Seq;
    globals.ParticipantPermission = ParticipantPermission;
    globals.TrustLevel = TrustLevel;
    globals.ParticipantId = ParticipantId;
    globals.help = (about?: unknown) => this.help(about);
    return globals;
  }

  async #bootstrap(a: BootstrapArgs): Promise<unknown> {
    const name = a.synchronizerName;
    if (typeof name !== 'string' || name === '')
      throw invalid('bootstrap.synchronizer: argument synchronizerName takes a string');
    const members = (value: unknown, kind: ConsoleNodeKind, what: string) => {
      const list = Array.isArray(value) ? value : [value];
      return list.map((x) => {
        const node = nodeOf(x);
        if (node?.kind !== kind)
          throw invalid(`bootstrap.synchronizer: argument ${what} takes a Seq of ${kind} handles`);
        return node;
      });
    };
    const [first, ...others] = members(a.sequencers, 'sequencer', 'sequencers');
    if (!first) throw invalid('bootstrap.synchronizer: argument sequencers needs at least one sequencer');
    const meds = members(a.mediators, 'mediator', 'mediators');
    const restriction = a.onboardingRestriction ?? 'UnrestrictedOpen';
    const code = ONBOARDING[restriction as keyof typeof ONBOARDING];
    if (code === undefined)
      throw invalid(
        `bootstrap.synchronizer: argument onboardingRestriction takes one of ${Object.keys(ONBOARDING).join(', ')}`,
      );
    const r = await this.#admin(first).bootstrap(
      name,
      { onboardingRestriction: code },
      {
        mediators: await Promise.all(meds.map((m) => this.#admin(m).identityTransactions())),
        sequencers: await Promise.all(others.map((s) => this.#admin(s).identityTransactions())),
      },
    );
    return {
      synchronizerId: new ConsoleId(r.synchronizerId),
      sequencers: r.sequencerIds,
      mediators: r.mediatorIds,
    };
  }

  async #retryUntilTrue(condition: unknown, timeoutMs: unknown, signal: AbortSignal): Promise<void> {
    if (typeof condition !== 'function')
      throw invalid('utils.retry_until_true: argument condition takes a function');
    if (!(Number.isInteger(timeoutMs) && (timeoutMs as number) > 0))
      throw invalid('utils.retry_until_true: argument timeoutMs takes a positive integer');
    const deadline = this.#clock.now() + BigInt(timeoutMs as number) * 1000n;
    while (!signal.aborted) {
      if (await (condition as () => unknown)()) return;
      if (this.#clock.now() > deadline) {
        throw new WeftError(
          ConsoleErrors.CONSOLE_CONDITION_TIMEOUT,
          `utils.retry_until_true: the condition did not hold within ${timeoutMs} ms`,
        );
      }
      await sleep(this.#clock, RETRY_INTERVAL_MS, signal);
    }
  }

  /** help(): the handles and helpers; help(x): the commands of a handle, group or command, one line each. */
  help(about?: unknown): string {
    if (about === undefined) {
      const handles = this.handleNames().map((name) => {
        const info = (this.globals[name] as { [HELP]: HelpInfo })[HELP];
        return `  ${name.padEnd(22)} ${info.about ?? ''}`;
      });
      return [
        'Handles (help(handle) lists its commands):',
        ...handles,
        'Groups: participants.all / .local / .remote, sequencers.all, mediators.all (a command runs on each)',
        'Helpers:',
        '  bootstrap.synchronizer(name, Seq(sequencers), Seq(mediators), owners?, threshold?) ',
        "    or ({ synchronizerName, sequencers, mediators, onboardingRestriction }); the owner is the first sequencer's namespace",
        '  bootstrap.synchronizer_local(name?): every sequencer and mediator of the config',
        '  nodes.local.start(), nodes.local.stop(), utils.retry_until_true(() => condition, timeoutMs?)',
        '  utils.write_to_file(text, file), utils.read_first_line_from_file(file)',
        '  Seq(a, b), ParticipantPermission.Submission, TrustLevel.Ordinary, OnboardingRestriction.RestrictedOpen',
        '  ParticipantId.tryFromProtoPrimitive(text)',
        'Results of commands are awaited for you; in scripts, await a command whose result you use.',
      ].join('\n');
    }
    const info = (about as { [HELP]?: HelpInfo } | null)?.[HELP];
    if (!info) throw invalid('help takes a handle, a group of commands (participant1.parties) or a command');
    const rows = info.commands.map(({ path, definition }) => {
      const name = path ? `${info.label}.${path}` : info.label;
      return [`${name}(${signature(definition)})`, definition.summary] as const;
    });
    const width = Math.max(...rows.map(([call]) => call.length));
    return rows.map(([call, summary]) => `${call.padEnd(width)}  ${summary}`).join('\n');
  }
}
