import type { Command } from 'commander';
import { oneLine } from '../../daemon/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { slowestTraces, traceTimeline } from '../../observability/index.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
/** Traces `slowest` prints at most: a screenful to pick from, not a report. */
const MAX_TOP = 1000;

function fail(command: string, e: unknown): void {
  process.stderr.write(`weft logs ${command}: ${oneLine(e)}\n`);
  process.exitCode = 1;
}

/**
 * `weft logs …`: reads the JSON log files of several nodes (what `monitoring.logging.file` writes, rotated files
 * included) and follows traces across them, as an SRE does with the trace ids of the log lines.
 */
export function registerLogsCommands(program: Command): void {
  const logs = program
    .command('logs')
    .description('follow traces through the JSON log files of several nodes (docs/monitoring.md)');

  logs
    .command('trace')
    .description("one timeline of a trace across the nodes' log files: time, node, component, phase, message")
    .argument('<trace-id>', 'the 32 hex digits of the trace_id field (or of an error’s correlation id)')
    .argument('<files...>', 'log files of the nodes')
    .option('--json', 'print the lines as JSON')
    .action(async (traceId: string, files: string[], o: { json?: boolean }) => {
      try {
        if (!TRACE_ID.test(traceId)) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `'${traceId}' is not a trace id (32 lowercase hex digits)`,
          );
        }
        const { lines, cut } = await traceTimeline(traceId, files);
        if (o.json) process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
        else if (lines.length === 0)
          process.stdout.write(`no line of trace ${traceId} in ${files.length} file(s)\n`);
        else {
          const rows = lines.map((l) => [l.time, l.node, l.component, l.phase, l.level, l.msg]);
          process.stdout.write(table(['time', 'node', 'component', 'phase', 'level', 'message'], rows));
        }
        if (cut) process.stderr.write('weft logs trace: the trace has more lines than shown\n');
      } catch (e) {
        fail('trace', e);
      }
    });

  logs
    .command('slowest')
    .description('the traces that took longest from their first to their last log line, across the files')
    .argument('<files...>', 'log files of the nodes')
    .option('--top <n>', `how many traces (1..${MAX_TOP})`, '10')
    .option('--json', 'print the traces as JSON')
    .action(async (files: string[], o: { top: string; json?: boolean }) => {
      try {
        const top = Number(o.top);
        if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `--top must be an integer in 1..${MAX_TOP}, not ${o.top}`,
          );
        }
        const { traces, skipped } = await slowestTraces(files, top);
        if (o.json) process.stdout.write(`${JSON.stringify(traces, null, 2)}\n`);
        else {
          const rows = traces.map((t) => [
            t.traceId,
            `${t.durationMs}`,
            t.first,
            `${t.lines}`,
            t.nodes.join(','),
          ]);
          process.stdout.write(table(['trace', 'ms', 'first', 'lines', 'nodes'], rows));
        }
        if (skipped > 0) {
          process.stderr.write(
            `weft logs slowest: ${skipped} lines of traces beyond the first ones tracked were skipped\n`,
          );
        }
      } catch (e) {
        fail('slowest', e);
      }
    });
}

/** Columns padded to their widest cell; the last column is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n')
    .concat('\n');
}
