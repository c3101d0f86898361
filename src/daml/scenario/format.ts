import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { defineErrorCode, WeftError } from '../../errors/index.js';
import { parseTimestamp } from '../values/time.js';

export const DamlScenarioErrors = {
  DAML_SCENARIO_INVALID: defineErrorCode(
    'DAML_SCENARIO_INVALID',
    'InvalidIndependentOfSystemState',
    'A Daml scenario file cannot be read, is not YAML or JSON, or does not follow the scenario format (the message names the field).',
    'Fix the field the message names; docs/daml-scenarios.md describes the format.',
  ),
} as const;

/**
 * A scenario: DARs to load, then steps run in order against an in-memory ledger (see docs/daml-scenarios.md).
 * Strings anywhere in a step may refer to values bound by earlier steps as `${name}`.
 */
export interface Scenario {
  readonly name: string;
  /** Absolute paths of the DARs. */
  readonly dars: readonly string[];
  /** The initial ledger time, µs since the epoch. */
  readonly time: bigint;
  /** 32 bytes from which the ledger derives submission seeds. */
  readonly seed?: Uint8Array;
  readonly participant?: string;
  readonly steps: readonly Step[];
}

export type Step = SubmitStep | QueryStep | TimeStep | UploadStep;

export interface SubmitStep {
  readonly kind: 'submit';
  readonly name: string;
  readonly actAs: readonly string[];
  readonly readAs: readonly string[];
  /** Ledger API JSON commands (`CreateCommand`, `ExerciseCommand`, `CreateAndExerciseCommand`). */
  readonly commands: readonly unknown[];
  /** Package ids, or `package-name@version`, that `#package-name` references resolve to. */
  readonly packagePreference: readonly string[];
  /** Contract ids disclosed to the submission (explicit disclosure). */
  readonly disclosed: readonly string[];
  /** The submission's ledger time (µs), apart from the scenario clock; default: the clock. */
  readonly ledgerTime?: bigint;
  readonly expect: SubmitExpectation;
  /** Variables to bind from the outcome: name → selector (`result.path`, `results[i].path`, `created(T)[i]`). */
  readonly bind: Readonly<Record<string, string>>;
}

export interface SubmitExpectation {
  /** The submission must fail with this error code and/or an error message containing this text. */
  readonly error?: { readonly code?: string; readonly message?: string };
  /** Number of contracts created (and not archived) per template. */
  readonly created?: Readonly<Record<string, number>>;
  /** Number of contracts archived. */
  readonly archived?: number;
  /** The first command's result must contain this JSON (objects match by subset). */
  readonly result?: unknown;
  /**
   * Per party, the nodes of its projection in evaluation order, each described as `create Entity`, `fetch Entity`,
   * `exercise Choice` or `rollback`.
   */
  readonly projections?: Readonly<Record<string, readonly string[]>>;
  /** Per node description (the first node so described), its witnesses: the parties it is disclosed to. */
  readonly witnesses?: Readonly<Record<string, readonly string[]>>;
}

export interface QueryStep {
  readonly kind: 'query';
  readonly name: string;
  /** Active contracts of which one of these parties is a stakeholder. */
  readonly parties: readonly string[];
  /** Only contracts of this template (`Entity`, `Module:Entity` or `PKG:Module:Entity`). */
  readonly template?: string;
  /** Only contracts whose template implements this interface; `contracts` are then their interface views. */
  readonly interface?: string;
  readonly expect: { readonly count?: number; readonly contracts?: readonly unknown[] };
  /** Variables to bind: name → `contractIds[i]` or `contracts[i].path`. */
  readonly bind: Readonly<Record<string, string>>;
}

/** Loads a DAR in the middle of a scenario (validated as an upload is, upgrades included). */
export interface UploadStep {
  readonly kind: 'upload';
  readonly name: string;
  /** Absolute path. */
  readonly dar: string;
}

export interface TimeStep {
  readonly kind: 'time';
  readonly name: string;
  /** Set the ledger time to this (µs), or move it forward by `pass` µs. */
  readonly set?: bigint;
  readonly pass?: bigint;
}

function invalid(path: string, message: string): never {
  throw new WeftError(DamlScenarioErrors.DAML_SCENARIO_INVALID, `${path}: ${message}`, { path });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, path: string): Obj {
  return isObj(v) ? v : invalid(path, 'expected a mapping');
}

function onlyKeys(o: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) invalid(path, `unknown key ${k} (expected ${keys.join(', ')})`);
}

function str(v: unknown, path: string): string {
  return typeof v === 'string' && v !== '' ? v : invalid(path, 'expected a non-empty string');
}

function strings(v: unknown, path: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return invalid(path, 'expected a list of strings');
  return v.map((x, i) => str(x, `${path}[${i}]`));
}

function count(v: unknown, path: string): number {
  return Number.isInteger(v) && (v as number) >= 0
    ? (v as number)
    : invalid(path, 'expected a non-negative integer');
}

function time(v: unknown, path: string): bigint {
  return (
    (typeof v === 'string' ? parseTimestamp(v) : undefined) ??
    invalid(path, 'expected a time like 2025-01-31T12:00:00Z')
  );
}

const UNITS: Readonly<Record<string, bigint>> = {
  us: 1n,
  ms: 1000n,
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
};

/** A duration like `90s`, `15m`, `2h`, `1d`, in µs. */
export function parseDuration(v: unknown, path: string): bigint {
  const m = typeof v === 'string' ? /^(\d+)(us|ms|s|m|h|d)$/.exec(v) : null;
  if (m === null) return invalid(path, 'expected a duration like 30s, 15m, 2h or 1d');
  return BigInt(m[1]!) * UNITS[m[2]!]!;
}

function bindings(v: unknown, path: string): Record<string, string> {
  const b = v === undefined ? {} : obj(v, path);
  return Object.fromEntries(Object.entries(b).map(([k, x]) => [k, str(x, `${path}.${k}`)]));
}

function step(raw: unknown, i: number, baseDir: string): Step {
  const path = `steps[${i}]`;
  const s = obj(raw, path);
  const defaultName =
    s.setTime !== undefined
      ? `setTime ${s.setTime}`
      : s.passTime !== undefined
        ? `passTime ${s.passTime}`
        : `step ${i + 1}`;
  const name = s.name === undefined ? defaultName : str(s.name, `${path}.name`);
  if ('submit' in s) {
    onlyKeys(s, path, ['name', 'submit', 'expect', 'bind']);
    const sub = obj(s.submit, `${path}.submit`);
    onlyKeys(sub, `${path}.submit`, [
      'actAs',
      'readAs',
      'commands',
      'packagePreference',
      'disclosed',
      'ledgerTime',
    ]);
    const actAs = strings(sub.actAs, `${path}.submit.actAs`);
    if (actAs.length === 0) invalid(`${path}.submit.actAs`, 'at least one party must submit');
    if (!Array.isArray(sub.commands) || sub.commands.length === 0)
      invalid(`${path}.submit.commands`, 'expected a non-empty list of commands');
    const e = s.expect === undefined ? {} : obj(s.expect, `${path}.expect`);
    onlyKeys(e, `${path}.expect`, ['error', 'created', 'archived', 'result', 'projections', 'witnesses']);
    const lists = (v: unknown, at: string) =>
      v === undefined
        ? undefined
        : Object.fromEntries(Object.entries(obj(v, at)).map(([k, x]) => [k, strings(x, `${at}.${k}`)]));
    const projections = lists(e.projections, `${path}.expect.projections`);
    const witnesses = lists(e.witnesses, `${path}.expect.witnesses`);
    let error: SubmitExpectation['error'];
    if (e.error !== undefined) {
      const err = typeof e.error === 'string' ? { code: e.error } : obj(e.error, `${path}.expect.error`);
      onlyKeys(err, `${path}.expect.error`, ['code', 'message']);
      error = {
        ...(err.code === undefined ? {} : { code: str(err.code, `${path}.expect.error.code`) }),
        ...(err.message === undefined ? {} : { message: str(err.message, `${path}.expect.error.message`) }),
      };
    }
    let created: Record<string, number> | undefined;
    if (e.created !== undefined) {
      const c = obj(e.created, `${path}.expect.created`);
      created = Object.fromEntries(
        Object.entries(c).map(([k, n]) => [k, count(n, `${path}.expect.created.${k}`)]),
      );
    }
    return {
      kind: 'submit',
      name,
      actAs,
      readAs: strings(sub.readAs, `${path}.submit.readAs`),
      commands: sub.commands as unknown[],
      packagePreference: strings(sub.packagePreference, `${path}.submit.packagePreference`),
      disclosed: strings(sub.disclosed, `${path}.submit.disclosed`),
      ...(sub.ledgerTime === undefined
        ? {}
        : { ledgerTime: time(sub.ledgerTime, `${path}.submit.ledgerTime`) }),
      expect: {
        ...(error === undefined ? {} : { error }),
        ...(created === undefined ? {} : { created }),
        ...(e.archived === undefined ? {} : { archived: count(e.archived, `${path}.expect.archived`) }),
        ...(e.result === undefined ? {} : { result: e.result }),
        ...(projections === undefined ? {} : { projections }),
        ...(witnesses === undefined ? {} : { witnesses }),
      },
      bind: bindings(s.bind, `${path}.bind`),
    };
  }
  if ('query' in s) {
    onlyKeys(s, path, ['name', 'query', 'expect', 'bind']);
    const q = obj(s.query, `${path}.query`);
    onlyKeys(q, `${path}.query`, ['party', 'parties', 'template', 'interface']);
    const parties = [
      ...strings(q.party, `${path}.query.party`),
      ...strings(q.parties, `${path}.query.parties`),
    ];
    if (parties.length === 0) invalid(`${path}.query`, 'name a party or parties');
    const e = s.expect === undefined ? {} : obj(s.expect, `${path}.expect`);
    onlyKeys(e, `${path}.expect`, ['count', 'contracts']);
    if (e.contracts !== undefined && !Array.isArray(e.contracts))
      invalid(`${path}.expect.contracts`, 'expected a list');
    return {
      kind: 'query',
      name,
      parties,
      ...(q.template === undefined ? {} : { template: str(q.template, `${path}.query.template`) }),
      ...(q.interface === undefined ? {} : { interface: str(q.interface, `${path}.query.interface`) }),
      expect: {
        ...(e.count === undefined ? {} : { count: count(e.count, `${path}.expect.count`) }),
        ...(e.contracts === undefined ? {} : { contracts: e.contracts as unknown[] }),
      },
      bind: bindings(s.bind, `${path}.bind`),
    };
  }
  if ('uploadDar' in s) {
    onlyKeys(s, path, ['name', 'uploadDar']);
    const dar = str(s.uploadDar, `${path}.uploadDar`);
    return {
      kind: 'upload',
      name: s.name === undefined ? `uploadDar ${dar}` : name,
      dar: resolve(baseDir, dar),
    };
  }
  if ('setTime' in s || 'passTime' in s) {
    onlyKeys(s, path, ['name', 'setTime', 'passTime']);
    return {
      kind: 'time',
      name,
      ...(s.setTime === undefined ? {} : { set: time(s.setTime, `${path}.setTime`) }),
      ...(s.passTime === undefined ? {} : { pass: parseDuration(s.passTime, `${path}.passTime`) }),
    };
  }
  return invalid(path, 'expected a submit, query, uploadDar, setTime or passTime step');
}

/** Parses and validates a scenario (YAML or JSON text); DAR paths are resolved against `baseDir`. */
export function parseScenario(text: string, baseDir: string, fileName = 'scenario'): Scenario {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return invalid(fileName, `not YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const s = obj(doc, fileName);
  onlyKeys(s, fileName, ['name', 'dars', 'time', 'seed', 'participant', 'steps']);
  const dars = strings(s.dars, 'dars');
  if (dars.length === 0) invalid('dars', 'list at least one DAR');
  if (!Array.isArray(s.steps)) invalid('steps', 'expected a list of steps');
  let seed: Uint8Array | undefined;
  if (s.seed !== undefined) {
    const hex = str(s.seed, 'seed');
    if (!/^[0-9a-f]{64}$/.test(hex)) invalid('seed', 'expected 64 lowercase hex digits');
    seed = Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  return {
    name: s.name === undefined ? fileName : str(s.name, 'name'),
    dars: dars.map((d) => resolve(baseDir, d)),
    time: s.time === undefined ? 0n : time(s.time, 'time'),
    ...(seed === undefined ? {} : { seed }),
    ...(s.participant === undefined ? {} : { participant: str(s.participant, 'participant') }),
    steps: s.steps.map((x, i) => step(x, i, baseDir)),
  };
}

/** Reads and validates a scenario file. */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return invalid(path, `cannot read the file: ${(e as Error).message}`);
  }
  return parseScenario(text, dirname(resolve(path)), path);
}
