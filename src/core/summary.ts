/**
 * The one summary of a transfer (export, fetch, convert, and each batch job): what `--json` prints
 * on success, and what the error object carries when the run fails after its task existed
 * (README.md, "Machine-readable output"). Filled in step by step as the run goes.
 */
import type { ConvertResult } from '../convert/index.js';

export interface TransferSummary {
  taskId: string | null;
  /** An identical task was followed or downloaded instead of starting one (`--reuse`). */
  reused: boolean;
  /** The task's last known state. */
  state: string | null;
  /** Records read from the result (before a CSV explodes its detail array). */
  records: number | null;
  /** Rows written after the header (CSV), or records written (NDJSON, JSON). */
  rows: number | null;
  /** Size of the result file as downloaded. */
  resultBytes: number | null;
  /** Size of the written output; null when it went to stdout. */
  outputBytes: number | null;
  /** Absolute path of the output; null for stdout. */
  path: string | null;
  format: string;
  durationMs: number;
}

export interface SummaryTracker {
  task(id: string, reused: boolean): void;
  state(state: string): void;
  converted(result: ConvertResult & { bytes?: number }, outputBytes: number | null): void;
  /** The summary as it stands, its duration measured now. */
  snapshot(): TransferSummary;
  /** Whether a task existed: only then does a failure carry the summary. */
  readonly hasTask: boolean;
}

export function createSummaryTracker(options: { path: string | undefined; format: string; now: () => number }): SummaryTracker {
  const started = options.now();
  const summary: Omit<TransferSummary, 'durationMs'> = {
    taskId: null, reused: false, state: null, records: null, rows: null,
    resultBytes: null, outputBytes: null, path: options.path ?? null, format: options.format,
  };
  return {
    task(id, reused) {
      summary.taskId = id;
      summary.reused = reused;
    },
    state(state) {
      summary.state = state;
    },
    converted(result, outputBytes) {
      summary.records = result.records;
      summary.rows = result.lines ?? result.records;
      summary.resultBytes = result.bytes ?? null;
      summary.outputBytes = outputBytes;
    },
    snapshot: () => ({ ...summary, durationMs: Math.max(0, options.now() - started) }),
    get hasTask() {
      return summary.taskId !== null;
    },
  };
}

/** `wrote 3,000 rows (1,000 records) to stock.csv in 3.4s` — the last line of a transfer. */
export function describeSummary(summary: TransferSummary, outArgument: string): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const records = summary.records ?? 0;
  const rows = summary.rows ?? records;
  const what = rows === records
    ? `${n(records)} record${records === 1 ? '' : 's'}`
    : `${n(rows)} row${rows === 1 ? '' : 's'} (${n(records)} record${records === 1 ? '' : 's'})`;
  return `wrote ${what} to ${outArgument} in ${formatSeconds(summary.durationMs)}`;
}

/** `0.4s`, `3.4s`, `59.9s`, then `1m 05s`, `2h 03m`. */
export function formatSeconds(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
