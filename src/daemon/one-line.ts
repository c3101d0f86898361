import { isWeftError } from '../errors/index.js';

/** One line for stderr: the code and message of a WeftError, the message of anything else. */
export function oneLine(e: unknown): string {
  const text = isWeftError(e) ? e.toString() : e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, ' ');
}
