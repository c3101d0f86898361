import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';

/** The DAR attributes Weft uses from `META-INF/MANIFEST.MF`. */
export interface DarManifest {
  /** Zip path of the main package's dalf. */
  readonly mainDalf: string;
  /** Zip paths of all dalfs, main first, in manifest order without duplicates. */
  readonly dalfs: readonly string[];
  readonly name?: string;
  readonly sdkVersion?: string;
  readonly format: string;
}

/**
 * Parses the main section of a JAR-style manifest: `Key: value` lines, where a line starting with one space
 * continues the previous line (lines are folded at 72 bytes). The main section ends at the first empty line.
 */
export function parseManifestAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  let key: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (attributes.size > 0) break;
      continue;
    }
    if (line.startsWith(' ')) {
      if (key === undefined) throw invalid('manifest starts with a continuation line');
      attributes.set(key, attributes.get(key)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid(`malformed manifest line ${JSON.stringify(line.slice(0, 80))}`);
    key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    attributes.set(key, value.startsWith(' ') ? value.slice(1) : value);
  }
  return attributes;
}

/** Reads the DAR manifest: `Main-Dalf`, `Dalfs` (comma-separated) and `Format: daml-lf` are required. */
export function parseDarManifest(text: string): DarManifest {
  const attributes = parseManifestAttributes(text);
  const required = (key: string): string => {
    const v = attributes.get(key)?.trim();
    if (v === undefined || v === '') throw invalid(`the manifest has no ${key} attribute`);
    return v;
  };
  const mainDalf = required('Main-Dalf');
  const listed = required('Dalfs')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const format = required('Format');
  if (format !== 'daml-lf')
    throw invalid(`unsupported DAR format ${JSON.stringify(format)} (expected daml-lf)`);
  const dalfs = [...new Set([mainDalf, ...listed])];
  const name = attributes.get('Name')?.trim();
  const sdkVersion = attributes.get('Sdk-Version')?.trim();
  return {
    mainDalf,
    dalfs,
    format,
    ...(name === undefined ? {} : { name }),
    ...(sdkVersion === undefined ? {} : { sdkVersion }),
  };
}

function invalid(message: string): WeftError {
  return new WeftError(DamlLfErrors.DAR_MANIFEST_INVALID, message);
}
