/**
 * Environment-variable substitution, the same three forms in every config format:
 * `${VAR}` (required), `${?VAR}` (optional: an unset variable removes the whole value) and `${VAR:-default}`
 * (shell style: the default applies when VAR is unset or empty).
 *
 * HOCON resolves `${VAR}` and `${?VAR}` itself (config paths first, then the environment); only the `:-` form is
 * expanded here, before parsing. YAML and JSON have no substitution of their own, so {@link substituteValues}
 * expands all three forms in their string values after parsing.
 */

import { join } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
/** `${NAME}`, `${?NAME}`, `${NAME:-default}`; the default runs to the first `}`. */
const REFERENCE = new RegExp(`\\$\\{(\\?)?(${NAME})(?::-([^}]*))?\\}`, 'y');
const DEFAULTED = new RegExp(`\\$\\{\\??(${NAME}):-([^}\\n]*)\\}`, 'y');

/** Where substitution went wrong, for the loader to report. */
export interface SubstitutionIssues {
  /** Required variables that are not set, with the key path that refers to them. */
  readonly unset: { readonly path: string; readonly name: string }[];
  /** Key paths whose value has a `${` that is none of the three forms. */
  readonly malformed: string[];
}

/** The variable, or else the default; a default written as a JSON string (`"a b"`) is unquoted. */
function withDefault(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback.length >= 2 && fallback.startsWith('"') && fallback.endsWith('"')) {
    try {
      return JSON.parse(fallback) as string;
    } catch {
      // Not a valid JSON string: take it as written.
    }
  }
  return fallback;
}

/**
 * Expands `${VAR:-default}` in HOCON text to a quoted string, outside quoted strings and comments (where HOCON
 * does not substitute either). `${VAR}`, `${?VAR}` and config-path references are left to the HOCON parser.
 */
export function expandHoconDefaults(text: string, env: Env): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipQuoted(text, i);
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
    } else if (c === '$' && text[i + 1] === '{') {
      DEFAULTED.lastIndex = i;
      const m = DEFAULTED.exec(text);
      if (m) {
        out += text.slice(copied, i) + JSON.stringify(withDefault(env, m[1]!, m[2]!));
        i += m[0].length;
        copied = i;
      } else {
        i += 2;
      }
    } else {
      i++;
    }
  }
  return out + text.slice(copied);
}

/** The index after the quoted string starting at `start` (HOCON: `"..."` with escapes, or `"""..."""`). */
function skipQuoted(text: string, start: number): number {
  if (text.startsWith('"""', start)) {
    // A run of more than three quotes ends the string with its last three, the rest belong to the string.
    const close = /"{3,}/g;
    close.lastIndex = start + 3;
    const m = close.exec(text);
    return m ? m.index + m[0].length : text.length;
  }
  let i = start + 1;
  while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Marks a value that an unset `${?VAR}` removed. */
const OMIT: unique symbol = Symbol('omit');

/**
 * Expands references in every string value of a parsed YAML/JSON tree. A value that is exactly `${?VAR}` with VAR
 * unset disappears (its key is dropped, like in HOCON); inside a longer string an unset optional is empty.
 */
export function substituteValues(tree: unknown, env: Env): { value: unknown; issues: SubstitutionIssues } {
  const issues: SubstitutionIssues = { unset: [], malformed: [] };
  const value = walk(tree, '', env, issues);
  return { value: value === OMIT ? undefined : value, issues };
}

function walk(node: unknown, path: string, env: Env, issues: SubstitutionIssues): unknown {
  if (typeof node === 'string') return substituteString(node, path, env, issues);
  if (Array.isArray(node)) {
    return node.map((v, i) => walk(v, `${path}[${i}]`, env, issues)).filter((v) => v !== OMIT);
  }
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(node)) {
      const substituted = walk(v, join(path, key), env, issues);
      if (substituted !== OMIT) out[key] = substituted;
    }
    return out;
  }
  return node;
}

function substituteString(
  s: string,
  path: string,
  env: Env,
  issues: SubstitutionIssues,
): string | typeof OMIT {
  let out = '';
  let i = 0;
  for (let start = s.indexOf('${'); start >= 0; start = s.indexOf('${', i)) {
    REFERENCE.lastIndex = start;
    const m = REFERENCE.exec(s);
    if (!m) {
      issues.malformed.push(path);
      return s;
    }
    const [whole, optional, name, fallback] = [m[0], m[1] !== undefined, m[2]!, m[3]];
    out += s.slice(i, start);
    i = start + whole.length;
    if (fallback !== undefined) out += withDefault(env, name, fallback);
    else if (env[name] !== undefined) out += env[name];
    else if (!optional) issues.unset.push({ path, name });
    else if (whole.length === s.length) return OMIT;
  }
  return out + s.slice(i);
}
