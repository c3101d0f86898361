/**
 * Trigger packages: ES modules whose named exports are triggers (a trigger object, or a function of the trigger
 * API returning one, so that a package needs no import of Weft). A package is loaded from a `.js`/`.mjs` file, an
 * npm-style package directory (its package.json `main`), or uploaded source; a trigger is named
 * `package:export`, as Daml names one `packageId:Module:name`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WeftError } from '../errors/index.js';
import { identifier, ledger, type Trigger } from './api.js';
import { TriggerErrors } from './errors.js';

/** What a trigger defined as a function receives. */
export const TRIGGER_API = { ledger, identifier } as const;
export type TriggerApi = typeof TRIGGER_API;

const PACKAGE_NAME = /^[A-Za-z0-9@][A-Za-z0-9._/-]{0,127}$/;

function invalid(name: string, message: string): WeftError {
  return new WeftError(TriggerErrors.TRIGGER_PACKAGE_INVALID, `trigger package ${name}: ${message}`, {
    package: name,
  });
}

/** The triggers a module exports; TRIGGER_PACKAGE_INVALID when it exports none or a malformed one. */
export function triggersOf(name: string, module: Record<string, unknown>): Map<string, Trigger> {
  const out = new Map<string, Trigger>();
  for (const [key, value] of Object.entries(module)) {
    if (key === 'default') continue;
    let t: unknown;
    try {
      t = typeof value === 'function' ? (value as (api: TriggerApi) => unknown)(TRIGGER_API) : value;
    } catch (e) {
      throw invalid(name, `export ${key} threw when built: ${(e as Error).message}`);
    }
    const candidate = t as Partial<Trigger> | null;
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      !Array.isArray(candidate.registeredTemplates) ||
      typeof candidate.initialize !== 'function' ||
      typeof candidate.rule !== 'function'
    ) {
      throw invalid(name, `export ${key} is not a trigger (registeredTemplates, initialize and rule)`);
    }
    if (
      candidate.heartbeatMs !== undefined &&
      !(Number.isInteger(candidate.heartbeatMs) && candidate.heartbeatMs >= 10)
    ) {
      throw invalid(name, `export ${key} has heartbeatMs ${candidate.heartbeatMs}; give at least 10 ms`);
    }
    out.set(key, candidate as Trigger);
  }
  if (out.size === 0) throw invalid(name, 'it exports no trigger');
  return out;
}

/** The loaded trigger packages by name. */
export class TriggerPackages {
  readonly #packages = new Map<string, Map<string, Trigger>>();

  constructor(private readonly maxPackages: number) {}

  names(): string[] {
    return [...this.#packages.keys()].sort();
  }

  /** Adds (or replaces) a package from its module's exports. */
  register(name: string, module: Record<string, unknown>): string[] {
    if (!PACKAGE_NAME.test(name)) throw invalid(name, 'the name must be 1..128 letters, digits, @ . _ / -');
    if (!this.#packages.has(name) && this.#packages.size >= this.maxPackages) {
      throw new WeftError(
        TriggerErrors.TRIGGER_LIMIT_EXCEEDED,
        `the service holds ${this.#packages.size} trigger packages, the most allowed`,
        { package: name },
      );
    }
    const triggers = triggersOf(name, module);
    this.#packages.set(name, triggers);
    return [...triggers.keys()].map((t) => `${name}:${t}`);
  }

  /** Loads ES module source (an upload), without touching the disk. */
  async registerSource(name: string, source: string): Promise<string[]> {
    let module: Record<string, unknown>;
    try {
      module = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
    } catch (e) {
      throw invalid(name, `it is not a loadable ES module: ${(e as Error).message}`);
    }
    return this.register(name, module);
  }

  /** Loads every `.js`/`.mjs` file and npm-style package directory of `dir`. */
  async loadDirectory(dir: string): Promise<string[]> {
    const loaded: string[] = [];
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        const manifest = join(path, 'package.json');
        let pkg: { name?: string; main?: string };
        try {
          pkg = JSON.parse(readFileSync(manifest, 'utf8')) as typeof pkg;
        } catch (e) {
          throw invalid(entry, `${manifest} is missing or not JSON: ${(e as Error).message}`);
        }
        const name = pkg.name ?? entry;
        loaded.push(...this.register(name, await importFile(name, join(path, pkg.main ?? 'index.js'))));
      } else if (['.js', '.mjs'].includes(extname(entry))) {
        const name = basename(entry, extname(entry));
        loaded.push(...this.register(name, await importFile(name, path)));
      }
    }
    return loaded;
  }

  /** The trigger `package:export`; TRIGGER_NOT_FOUND when no loaded package has it. */
  get(triggerName: string): Trigger {
    const at = triggerName.lastIndexOf(':');
    const trigger =
      at < 0 ? undefined : this.#packages.get(triggerName.slice(0, at))?.get(triggerName.slice(at + 1));
    if (trigger === undefined) {
      throw new WeftError(
        TriggerErrors.TRIGGER_NOT_FOUND,
        `no loaded trigger package exports a trigger named ${triggerName} (package:export); loaded: ${this.names().join(', ') || 'none'}`,
        { triggerName },
      );
    }
    return trigger;
  }
}

async function importFile(name: string, path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw invalid(name, `${path} is not a loadable ES module: ${(e as Error).message}`);
  }
}
