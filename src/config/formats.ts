import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { CommonErrors, WeftError } from '../errors/index.js';
import { ConfigErrors } from './errors.js';
import { type Env, expandHoconDefaults, type SubstitutionIssues, substituteValues } from './substitution.js';

export type ConfigFormat = 'hocon' | 'yaml' | 'json';

const FORMATS: Readonly<Record<string, ConfigFormat>> = {
  '.conf': 'hocon',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
};

/** The format a file name implies, or an INVALID_ARGUMENT naming the extensions Weft reads. */
export function formatOf(path: string): ConfigFormat {
  const format = FORMATS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `config file ${path}: unknown extension; use ${Object.keys(FORMATS).join(', ')}`,
    );
  }
  return format;
}

/**
 * Reads a config file into a plain tree with environment variables substituted, choosing the parser by extension.
 * Keys are as written (kebab-case); validation against a schema comes after.
 */
export async function readConfigTree(path: string, env: Env): Promise<unknown> {
  const format = formatOf(path);
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new WeftError(
      ConfigErrors.CONFIG_FILE_NOT_FOUND,
      `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file: path },
      { cause: e },
    );
  }
  // The HOCON parser reads the file again itself, through a source that also serves its includes.
  if (format === 'hocon') return parseHocon(file, path, env);
  const tree = format === 'yaml' ? parseYaml(text, path) : parseJson(text, path);
  const { value, issues } = substituteValues(tree, env);
  reportSubstitutionIssues(issues, path);
  return value;
}

function parseYaml(text: string, path: string): unknown {
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `${path}:${at.line}:${at.col}` : path;
    // The message repeats the position and quotes the source after its first line.
    const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '');
    throw new WeftError(ConfigErrors.CONFIG_SYNTAX_ERROR, `${where}: ${reason}`, { file: path });
  }
  return doc.toJS();
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? `${path}:${lineCol(text, Number(position[1]))}` : path;
    throw new WeftError(ConfigErrors.CONFIG_SYNTAX_ERROR, `${where}: ${message}`, { file: path });
  }
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

function reportSubstitutionIssues(issues: SubstitutionIssues, path: string): void {
  if (issues.malformed.length > 0) {
    throw new WeftError(
      ConfigErrors.CONFIG_SYNTAX_ERROR,
      `${path}: malformed substitution at ${issues.malformed.join(', ')}; write \${VAR}, \${?VAR} or \${VAR:-default}`,
      { file: path },
    );
  }
  if (issues.unset.length > 0) {
    const names = [...new Set(issues.unset.map((u) => u.name))];
    const where = issues.unset.map((u) => `${u.path} needs \${${u.name}}`).join(', ');
    throw new WeftError(
      ConfigErrors.CONFIG_VARIABLE_UNSET,
      `${path}: environment variable ${names.join(', ')} not set (${where}); set it, or write \${?VAR} or \${VAR:-default}`,
      { file: path, variable: names[0] },
    );
  }
}

// ---- HOCON via @pushcorn/hocon-parser (CommonJS, untyped) ----

interface HoconOptions {
  readonly url: string;
  readonly strict: boolean;
  readonly env: boolean;
  readonly scope: Env;
}

/** The including file's context; `createContext` is how the parser opens every include, and nothing else. */
interface HoconContext {
  /** Weft parses only files, so every including context has one. */
  readonly url: { readonly href: string };
  createContext(options: unknown, owner: unknown): unknown;
}

interface HoconParser {
  (options: HoconOptions): Promise<unknown>;
  getClass(name: string): unknown;
  registerComponent(...classes: unknown[]): void;
  readonly Context: { readonly prototype: HoconContext };
}

/** The parts of the parser's FileSource that the subclass below relies on. */
interface FileSourceBase {
  readonly context: { readonly url: { readonly href: string }; readonly scope: Env | undefined };
  readonly notFound: unknown;
}

const hocon = createRequire(import.meta.url)('@pushcorn/hocon-parser') as HoconParser;
const FileSource = hocon.getClass('sources.FileSource') as new (...args: never[]) => FileSourceBase;

/**
 * The parser picks a source by URL protocol, and relative includes inherit the protocol of the including file.
 * Reading Weft's config files through `weftfile:` URLs therefore expands `${VAR:-default}` in included files as well,
 * without changing how the parser reads `file:` URLs for anyone else.
 */
const PROTOCOL = 'weftfile:';

class WeftfileSource extends FileSource {
  async onLoadFile(): Promise<unknown> {
    const file = toPath(this.context.url.href);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return this.notFound;
    }
    // The parser has no YAML builder; an object it merges as it would an included HOCON object.
    if (FORMATS[extname(file).toLowerCase()] === 'yaml') {
      const { value, issues } = substituteValues(parseYaml(text, file), this.context.scope ?? {});
      reportSubstitutionIssues(issues, file);
      return value;
    }
    return expandHoconDefaults(text, this.context.scope ?? {});
  }
}
hocon.registerComponent(WeftfileSource);

/**
 * Config is data: the parser would otherwise run an included `.js` file, fetch `url(...)` and pick sources and
 * builders by name (`script(...)`, `http(...)`). Every include passes through here, so only a file with a config
 * extension, resolved against the including file and read through {@link WeftfileSource}, is ever opened.
 * Weft is the parser's only user in the process, so the policy holds for every parse.
 */
const openInclude = hocon.Context.prototype.createContext;
hocon.Context.prototype.createContext = function (this: HoconContext, resource: unknown, owner: unknown) {
  const including = toPath(this.url.href);
  const { file, required } = includedFile(resource, including);
  return openInclude.call(this, { url: toUrl(resolve(dirname(including), file)), required }, owner);
};

/** The file an include names (`"f"`, `file("f")`, `required("f")`, `required(file("f"))`), or CONFIG_INCLUDE_REJECTED. */
function includedFile(resource: unknown, including: string): { file: string; required: boolean } {
  const reject = (why: string): never => {
    throw new WeftError(
      ConfigErrors.CONFIG_INCLUDE_REJECTED,
      `${including}: include ${JSON.stringify(resource)} rejected: ${why}`,
      { file: including },
    );
  };
  if (typeof resource !== 'string') return reject('only a file path may be included');
  let file = resource.trim();
  let required = false;
  const FORM = /^([A-Za-z][\w-]*)\s*\((.*)\)$/s;
  for (let form = FORM.exec(file); form; form = FORM.exec(file)) {
    if (form[1] === 'required') required = true;
    else if (form[1] !== 'file') return reject(`${form[1]}(...) is not a file include; only files are read`);
    file = form[2]!.trim().replace(/^"(.*)"$/s, '$1');
  }
  if (/^[A-Za-z][\w+.-]*:/.test(file)) return reject('URLs are never fetched; include a file');
  const extension = extname(file).toLowerCase();
  if (FORMATS[extension] === undefined) {
    return reject(
      `${extension === '' ? 'no extension' : `extension ${extension}`}: only ${Object.keys(FORMATS).join(', ')} files are included, never code`,
    );
  }
  return { file, required };
}

function toUrl(file: string): string {
  return pathToFileURL(file).href.replace('file:', PROTOCOL);
}

function toPath(url: string): string {
  return fileURLToPath(url.replace(PROTOCOL, 'file:'));
}

async function parseHocon(file: string, path: string, env: Env): Promise<unknown> {
  // A null-prototype copy: the parser looks variables up as properties, and only real ones may resolve.
  const scope: Env = Object.assign(Object.create(null), env);
  try {
    return await hocon({
      url: toUrl(file),
      strict: true,
      env: false,
      scope,
    });
  } catch (e) {
    if (e instanceof WeftError) throw e;
    throw hoconError(e as Error, file, path);
  }
}

/** Turns the parser's messages ("Unable to resolve 'X'. Token: { ..., line: 3, col: 9, file: ... }") into ours. */
function hoconError(e: Error, file: string, path: string): WeftError {
  const message = e.message.replace(/weftfile:\/\/[^\s,)}]+/g, (url) => toPath(url));
  const at = /line: (\d+), col: (\d+)(?:, file: ([^\s,)}]+))?/.exec(message);
  // Name the file as the caller did, unless the error is in an included one.
  const inFile = at?.[3] === undefined || at[3] === file ? path : at[3];
  const where = at ? `${inFile}:${at[1]}:${at[2]}` : path;
  const unresolved = /^Unable to resolve '([^']+)'/.exec(message);
  if (unresolved) {
    const name = unresolved[1]!;
    return new WeftError(
      ConfigErrors.CONFIG_VARIABLE_UNSET,
      `${where}: \${${name}} is neither a config path nor a set environment variable; set it, or write \${?${name}} or \${${name}:-default}`,
      { file: path, variable: name },
      { cause: e },
    );
  }
  const reason = message.split(/ \(|\. Token:/)[0]!.replace(/\.$/, '');
  return new WeftError(ConfigErrors.CONFIG_SYNTAX_ERROR, `${where}: ${reason}`, { file: path }, { cause: e });
}
