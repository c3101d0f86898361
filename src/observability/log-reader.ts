import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { WeftError } from '../errors/index.js';
import { ObservabilityErrors } from './errors.js';

/** One log line of a trace, as `weft logs trace` prints it. */
export interface TraceLine {
  readonly time: string;
  readonly node: string;
  readonly component: string;
  /** The span the line was logged in (`participant.event`, `mediator.verdict`, an API method, ...). */
  readonly phase: string;
  readonly level: string;
  readonly msg: string;
  readonly file: string;
}

/** A trace as `weft logs slowest` lists it: its first and last line across the files. */
export interface TraceSummary {
  readonly traceId: string;
  readonly first: string;
  readonly last: string;
  readonly durationMs: number;
  readonly lines: number;
  readonly nodes: readonly string[];
}

/** Lines of one trace kept at most: a trace that logs more is cut, and the cut is reported. */
export const MAX_TRACE_LINES = 100_000;
/** Traces `slowest` tracks at most; lines of traces first seen after that are skipped, and that is reported. */
export const MAX_TRACES = 500_000;

interface Parsed {
  readonly trace_id?: unknown;
  readonly time?: unknown;
  readonly node?: unknown;
  readonly component?: unknown;
  readonly span_name?: unknown;
  readonly level?: unknown;
  readonly msg?: unknown;
}

/** Calls `each` with every JSON log line of `files` that has a trace id (other lines are skipped). */
async function scan(files: readonly string[], each: (line: Parsed, file: string) => void): Promise<void> {
  for (const file of files) {
    const input = createReadStream(file, { encoding: 'utf8' });
    const opened = new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve());
      input.once('error', reject);
    });
    try {
      await opened;
    } catch (e) {
      throw new WeftError(
        ObservabilityErrors.LOG_READ_FAILED,
        `cannot read log file ${file}: ${(e as Error).message}`,
        { file },
        { cause: e },
      );
    }
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      // A cheap test first: most lines of a busy node carry no trace.
      if (!text.includes('"trace_id"')) continue;
      let line: Parsed;
      try {
        line = JSON.parse(text) as Parsed;
      } catch {
        continue;
      }
      if (typeof line.trace_id === 'string' && typeof line.time === 'string') each(line, file);
    }
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The lines of trace `traceId` in `files`, in time order; `cut` when the trace had more than the limit. */
export async function traceTimeline(
  traceId: string,
  files: readonly string[],
): Promise<{ readonly lines: TraceLine[]; readonly cut: boolean }> {
  const lines: TraceLine[] = [];
  let cut = false;
  await scan(files, (l, file) => {
    if (l.trace_id !== traceId) return;
    if (lines.length >= MAX_TRACE_LINES) {
      cut = true;
      return;
    }
    lines.push({
      time: str(l.time),
      node: str(l.node),
      component: str(l.component),
      phase: str(l.span_name),
      level: str(l.level),
      msg: str(l.msg),
      file,
    });
  });
  // ISO-8601 UTC times sort as strings; the sort is stable, so a node's lines keep their order on ties.
  lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return { lines, cut };
}

/** The `top` traces of `files` that took longest from their first to their last line. */
export async function slowestTraces(
  files: readonly string[],
  top: number,
): Promise<{ readonly traces: TraceSummary[]; readonly skipped: number }> {
  const traces = new Map<string, { first: string; last: string; lines: number; nodes: Set<string> }>();
  let skipped = 0;
  await scan(files, (l) => {
    const id = l.trace_id as string;
    const time = l.time as string;
    let t = traces.get(id);
    if (t === undefined) {
      if (traces.size >= MAX_TRACES) {
        skipped++;
        return;
      }
      t = { first: time, last: time, lines: 0, nodes: new Set() };
      traces.set(id, t);
    }
    if (time < t.first) t.first = time;
    if (time > t.last) t.last = time;
    t.lines++;
    if (typeof l.node === 'string') t.nodes.add(l.node);
  });
  const all = [...traces].map(
    ([traceId, t]): TraceSummary => ({
      traceId,
      first: t.first,
      last: t.last,
      durationMs: Date.parse(t.last) - Date.parse(t.first),
      lines: t.lines,
      nodes: [...t.nodes].sort(),
    }),
  );
  all.sort((a, b) => b.durationMs - a.durationMs);
  return { traces: all.slice(0, top), skipped };
}
