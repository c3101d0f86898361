import { isWeftError } from '../../errors/index.js';
import { readDarFile } from '../dar/index.js';
import {
  blindingInfo,
  type CommittedTransaction,
  Engine,
  type FatContract,
  forEachNode,
  InMemoryLedger,
  type Json,
  type Node,
  type NodeId,
  project,
  renderTransaction,
  shortId,
  transactionEffects,
  valueToJson,
} from '../engine/index.js';
import type { Identifier } from '../lf/ast.js';
import { PackageRegistry } from '../lf/packages.js';
import { validateDar } from '../typecheck/index.js';
import { compareIdentifiers } from '../values/compare.js';
import { qualifiedName } from '../values/value.js';
import type { QueryStep, Scenario, Step, SubmitStep } from './format.js';

/** The outcome of one step. */
export interface StepReport {
  /** 1-based. */
  readonly index: number;
  readonly name: string;
  readonly kind: Step['kind'];
  readonly ok: boolean;
  /** Why the step failed. */
  readonly failure?: string;
  /** What happened: the transaction tree, the rejection, the contracts found, the new time. */
  readonly lines: readonly string[];
  readonly updateId?: string;
}

export interface ScenarioReport {
  readonly name: string;
  readonly ok: boolean;
  /** The steps run: all of them, or up to and including the first that failed. */
  readonly steps: readonly StepReport[];
}

class StepFailure extends Error {}

function fail(message: string): never {
  throw new StepFailure(message);
}

/** Wildcards of expectations: any value, no value (a field that is not there), any contract id. */
const ANY = '$any';
const ABSENT = '$absent';
const CONTRACT_ID = '$contractId';

/**
 * Whether `actual` contains `expected`: objects match when each expected key matches, lists element-wise, and
 * decimal strings or numbers by value (so `"30.0"` matches the Numeric `"30.0000000000"`); the wildcards
 * `$any`, `$absent` and `$contractId` match any value, a missing field, and any contract id.
 */
export function jsonContains(expected: unknown, actual: unknown): boolean {
  if (expected === ANY) return actual !== undefined;
  if (expected === ABSENT) return actual === undefined;
  if (expected === CONTRACT_ID) return typeof actual === 'string' && /^00[0-9a-f]{64,}$/.test(actual);
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => jsonContains(e, actual[i]))
    );
  if (typeof expected === 'object' && expected !== null)
    return (
      typeof actual === 'object' &&
      actual !== null &&
      !Array.isArray(actual) &&
      Object.entries(expected).every(([k, e]) => jsonContains(e, (actual as Record<string, unknown>)[k]))
    );
  if (expected === actual) return true;
  const a = decimal(expected);
  return a !== undefined && a === decimal(actual);
}

/** A decimal number's canonical text (no sign on zero, no leading or trailing zeros), if `v` is one. */
function decimal(v: unknown): string | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return undefined;
  const m = /^([+-]?)0*(\d*?)(?:\.(\d*?)0*)?$/.exec(s);
  if (m === null || !/\d/.test(s)) return undefined;
  const [, sign, int, frac] = m;
  const body = `${int || '0'}${frac ? `.${frac}` : ''}`;
  return body === '0' ? '0' : `${sign === '-' ? '-' : ''}${body}`;
}

const show = (v: unknown) => JSON.stringify(v);

/** Runs the steps of a scenario in order against a fresh in-memory ledger; stops at the first failure. */
export class ScenarioRunner {
  readonly engine: Engine;
  readonly ledger: InMemoryLedger;
  private readonly variables = new Map<string, Json>();
  private readonly registry: PackageRegistry;

  constructor(private readonly scenario: Scenario) {
    const registry = new PackageRegistry();
    for (const d of scenario.dars) registry.addAll(readDarFile(d).packages);
    this.engine = new Engine(registry);
    this.registry = registry;
    this.ledger = new InMemoryLedger(this.engine, {
      time: scenario.time,
      ...(scenario.seed === undefined ? {} : { seed: scenario.seed }),
      ...(scenario.participant === undefined ? {} : { participantId: scenario.participant }),
    });
  }

  async run(onStep: (report: StepReport) => void = () => {}): Promise<ScenarioReport> {
    const reports: StepReport[] = [];
    for (const [i, step] of this.scenario.steps.entries()) {
      const report = await this.step(step, i + 1);
      reports.push(report);
      onStep(report);
      if (!report.ok) return { name: this.scenario.name, ok: false, steps: reports };
    }
    return { name: this.scenario.name, ok: true, steps: reports };
  }

  private async step(step: Step, index: number): Promise<StepReport> {
    const lines: string[] = [];
    const base = { index, name: step.name, kind: step.kind, lines };
    try {
      switch (step.kind) {
        case 'submit': {
          const updateId = await this.submit(step, lines);
          return { ...base, ok: true, ...(updateId === undefined ? {} : { updateId }) };
        }
        case 'query':
          this.query(step, lines);
          return { ...base, ok: true };
        case 'upload':
          this.upload(step.dar, lines);
          return { ...base, ok: true };
        case 'time':
          if (step.set !== undefined) this.ledger.time = step.set;
          if (step.pass !== undefined) this.ledger.time += step.pass;
          lines.push(`ledger time is now ${valueToJson({ kind: 'Timestamp', micros: this.ledger.time })}`);
          return { ...base, ok: true };
      }
    } catch (e) {
      if (e instanceof StepFailure) return { ...base, ok: false, failure: e.message };
      throw e;
    }
  }

  /** Replaces `${name}` in every string by the bound value (a whole-string reference keeps the value's type). */
  private substitute(v: unknown): unknown {
    if (typeof v === 'string') {
      const whole = /^\$\{([^}]+)\}$/.exec(v);
      if (whole !== null) return this.variable(whole[1]!);
      return v.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        const value = this.variable(name);
        return typeof value === 'string' ? value : JSON.stringify(value);
      });
    }
    if (Array.isArray(v)) return v.map((x) => this.substitute(x));
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.substitute(x)]));
    return v;
  }

  private variable(name: string): Json {
    return this.variables.get(name) ?? fail(`unknown variable \${${name}} (bind it in an earlier step)`);
  }

  private async submit(step: SubmitStep, lines: string[]): Promise<string | undefined> {
    const expected = step.expect.error;
    let committed: CommittedTransaction;
    try {
      committed = await this.ledger.submit({
        actAs: this.substitute(step.actAs) as string[],
        readAs: this.substitute(step.readAs) as string[],
        commands: this.substitute(step.commands) as never,
        packagePreference: (this.substitute(step.packagePreference) as string[]).map((p) =>
          this.packageId(p),
        ),
        disclosed: this.substitute(step.disclosed) as string[],
        ...(step.ledgerTime === undefined ? {} : { ledgerTime: step.ledgerTime }),
      });
    } catch (e) {
      if (!isWeftError(e)) throw e;
      lines.push(`rejected: ${e.code}: ${e.message}`);
      if (expected === undefined) fail(`the submission was rejected: ${e.code}: ${e.message}`);
      if (expected.code !== undefined && expected.code !== e.code)
        fail(`expected error ${expected.code}, got ${e.code}: ${e.message}`);
      if (expected.message !== undefined && !e.message.includes(expected.message))
        fail(`expected an error message containing ${show(expected.message)}, got ${show(e.message)}`);
      return undefined;
    }
    lines.push(`update ${committed.updateId.slice(0, 16)}… at offset ${committed.offset}`);
    lines.push(...renderTransaction(committed.transaction, '  ', (id) => this.versionOf(id)));
    if (expected !== undefined)
      fail(
        `expected the submission to fail${expected.code === undefined ? '' : ` with ${expected.code}`}, but it was committed`,
      );
    const effects = transactionEffects(committed.transaction);
    for (const [template, n] of Object.entries(step.expect.created ?? {})) {
      const matches = this.templateMatcher(template);
      const actual = effects.created.filter((c) => matches(c.templateId)).length;
      if (actual !== n) fail(`expected ${n} created ${template} contract(s), got ${actual}`);
    }
    if (step.expect.archived !== undefined && effects.archived.length !== step.expect.archived)
      fail(`expected ${step.expect.archived} archived contract(s), got ${effects.archived.length}`);
    this.checkVisibility(step, committed, lines);
    const results = committed.results.map(valueToJson);
    if (step.expect.result !== undefined) {
      const want = this.substitute(step.expect.result);
      if (!jsonContains(want, results[0]))
        fail(`expected the result to contain ${show(want)}, got ${show(results[0])}`);
    }
    for (const [name, selector] of Object.entries(step.bind)) {
      const value = this.select(selector, committed, results);
      this.variables.set(name, value);
      lines.push(`${name} = ${show(value)}`);
    }
    return committed.updateId;
  }

  /** `result[.path]`, `results[i][.path]` or `created(Template)[i]`. */
  private select(selector: string, committed: CommittedTransaction, results: Json[]): Json {
    const created = /^created\(([^)]+)\)(?:\[(\d+)\])?$/.exec(selector);
    if (created !== null) {
      const matches = this.templateMatcher(created[1]!);
      const all = transactionEffects(committed.transaction).created.filter((c) => matches(c.templateId));
      const c = all[Number(created[2] ?? 0)];
      return (
        c?.contractId.coid ?? fail(`bind ${selector}: the transaction created ${all.length} such contract(s)`)
      );
    }
    const m = /^(?:result|results\[(\d+)\])((?:\.[^.[\]]+|\[\d+\])*)$/.exec(selector);
    if (m === null)
      return fail(`bind ${show(selector)}: expected result.path, results[i].path or created(Template)[i]`);
    return pathInto(results[Number(m[1] ?? 0)], m[2]!, selector);
  }

  /** A query's `contractIds[i]` or `contracts[i][.path]` (the arguments, or the interface views). */
  private selectFound(selector: string, ids: readonly string[], contracts: readonly Json[]): Json {
    const m = /^(contractIds|contracts)\[(\d+)\]((?:\.[^.[\]]+|\[\d+\])*)$/.exec(selector);
    if (m === null) return fail(`bind ${show(selector)}: expected contractIds[i] or contracts[i].path`);
    if (m[1] === 'contractIds')
      return m[3] === ''
        ? (ids[Number(m[2])] ?? fail(`bind ${selector}: found ${ids.length} contract(s)`))
        : fail(`bind ${selector}: a contract id has no fields`);
    return pathInto(contracts[Number(m[2])], m[3]!, selector);
  }

  /** The parties' projections and the nodes' witnesses the step expects (printed as they are). */
  private checkVisibility(step: SubmitStep, committed: CommittedTransaction, lines: string[]): void {
    const tx = committed.transaction;
    const info = blindingInfo(tx);
    for (const [party, want] of Object.entries(step.expect.projections ?? {})) {
      const who = this.substitute(party) as string;
      const seen = project(tx, [who], info).transaction;
      const got: string[] = [];
      forEachNode(seen, (_id, node) => {
        got.push(describeNode(node));
      });
      lines.push(`  projection of ${who}: ${got.length === 0 ? 'nothing' : got.join(', ')}`);
      if (got.join('\n') !== want.join('\n'))
        fail(`expected ${who}'s projection to be ${show(want)}, got ${show(got)}`);
    }
    for (const [description, want] of Object.entries(step.expect.witnesses ?? {})) {
      const named: NodeId[] = [];
      forEachNode(tx, (id, node) => {
        if (describeNode(node) === description) named.push(id);
      });
      const found = named[0] ?? fail(`no node of the transaction is "${description}"`);
      const got = [...(info.disclosure.get(found) ?? [])].sort();
      const expected = [...(this.substitute(want) as string[])].sort();
      lines.push(`  witnesses of ${description}: [${got.join(', ')}]`);
      if (got.join('\n') !== expected.join('\n'))
        fail(`expected the witnesses of "${description}" to be ${show(expected)}, got ${show(got)}`);
    }
  }

  /** A DAR loaded mid-scenario: validated against the packages loaded so far (type checking, upgrades). */
  private upload(path: string, lines: string[]): void {
    let dar: ReturnType<typeof readDarFile>;
    try {
      dar = readDarFile(path);
      validateDar(dar, this.registry);
    } catch (e) {
      if (!isWeftError(e)) throw e;
      fail(`the DAR was refused: ${e.code}: ${e.message}`);
    }
    this.registry.addAll(dar.packages);
    lines.push(`loaded ${dar.main.metadata.name} ${dar.main.metadata.version} (${dar.main.id})`);
  }

  /** A package id, or `package-name@version` resolved to one. */
  private packageId(ref: string): string {
    const at = ref.lastIndexOf('@');
    if (at < 0) return ref;
    const [name, version] = [ref.slice(0, at), ref.slice(at + 1)];
    return (
      this.registry
        .packageIdsByName(name)
        .find((id) => this.registry.getPackage(id).metadata.version === version) ??
      fail(`package preference ${ref}: no package ${name} of version ${version} is loaded`)
    );
  }

  /** `name version` of a node's package, when several versions of its name are loaded (upgrades). */
  private versionOf(id: Identifier): string | undefined {
    const pkg = this.registry.lookupPackage(id.packageId);
    if (pkg === undefined || this.registry.packageIdsByName(pkg.metadata.name).length < 2) return undefined;
    return `${pkg.metadata.name} ${pkg.metadata.version}`;
  }

  /**
   * `Entity`, `Module:Entity` or `PKG:Module:Entity`: PKG a package id, or `#name` for every version of that
   * package name (as the Ledger API's filters take it).
   */
  private templateMatcher(spec: string): (id: Identifier) => boolean {
    const parts = spec.split(':');
    if (parts.length === 3 && parts[0]!.startsWith('#')) {
      const name = parts[0]!.slice(1);
      const qualified = `${parts[1]}:${parts[2]}`;
      if (this.registry.packageIdsByName(name).length === 0)
        return fail(`template ${spec}: no package named ${name}`);
      return (id) =>
        qualifiedName(id) === qualified && this.registry.lookupPackage(id.packageId)?.metadata.name === name;
    }
    if (parts.length === 3) {
      let ref: Identifier;
      try {
        ref = this.engine.packages.parseRef(spec);
      } catch (e) {
        return fail(`template ${spec}: ${(e as Error).message}`);
      }
      return (id) => compareIdentifiers(id, ref) === 0;
    }
    return parts.length === 2 ? (id) => qualifiedName(id) === spec : (id) => id.name.join('.') === spec;
  }

  private query(step: QueryStep, lines: string[]): void {
    const parties = this.substitute(step.parties) as string[];
    const matches = step.template === undefined ? () => true : this.templateMatcher(step.template);
    const iface = step.interface === undefined ? undefined : this.interfaceId(step.interface);
    const found: FatContract[] = this.ledger
      .activeContracts(parties)
      .filter((c) => matches(c.templateId))
      .filter(
        (c) =>
          iface === undefined || this.registry.lookupInterfaceInstance(iface, c.templateId) !== undefined,
      );
    const args = found.map((c) =>
      valueToJson(iface === undefined ? c.arg : this.engine.interfaceView(c, iface)),
    );
    for (const [i, c] of found.entries())
      lines.push(`  ${qualifiedName(c.templateId)} ${shortId(c.contractId)} ${JSON.stringify(args[i])}`);
    if (step.expect.count !== undefined && found.length !== step.expect.count)
      fail(`expected ${step.expect.count} active contract(s), found ${found.length}`);
    const want = step.expect.contracts === undefined ? undefined : this.substitute(step.expect.contracts);
    if (want !== undefined && !jsonContains(want, args))
      fail(
        `expected the contracts' ${iface === undefined ? 'arguments' : 'views'} to be ${show(want)}, found ${show(args)}`,
      );
    const ids = found.map((c) => c.contractId.coid);
    for (const [name, selector] of Object.entries(step.bind)) {
      const value = this.selectFound(selector, ids, args);
      this.variables.set(name, value);
      lines.push(`${name} = ${show(value)}`);
    }
  }

  /** An interface as `PKG:Module:Entity` (PKG a package id or `#name`). */
  private interfaceId(spec: string): Identifier {
    try {
      const id = this.registry.parseRef(spec);
      if (this.registry.lookupInterface(id) === undefined) fail(`interface ${spec}: no such interface`);
      return id;
    } catch (e) {
      if (!isWeftError(e)) throw e;
      return fail(`interface ${spec}: ${e.message}`);
    }
  }
}

/** `create Entity`, `fetch Entity`, `exercise Choice` or `rollback`: how expectations name a node. */
function describeNode(node: Node): string {
  switch (node.tag) {
    case 'Create':
    case 'Fetch':
      return `${node.tag.toLowerCase()} ${node.templateId.name.join('.')}`;
    case 'Exercise':
      return `exercise ${node.choice}`;
    case 'Rollback':
      return 'rollback';
  }
}

/** `.field` and `[index]` steps into a JSON value. */
function pathInto(start: Json | undefined, path: string, selector: string): Json {
  let v = start;
  if (v === undefined) return fail(`bind ${selector}: the result has no such element`);
  for (const [, field, index] of path.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (field !== undefined && typeof v === 'object' && v !== null && !Array.isArray(v))
      v = (v as Record<string, Json>)[field];
    else if (index !== undefined && Array.isArray(v)) v = v[Number(index)];
    else v = undefined;
    if (v === undefined) return fail(`bind ${selector}: the result has no such element`);
  }
  return v;
}
