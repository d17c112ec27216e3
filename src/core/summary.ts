/**
 * The one summary of a transfer (export, fetch, convert, and each batch job): what `--json` prints
 * on success, and what the error object carries when the run fails after its task existed
 * (README.md, "Machine-readable output"). Filled in step by step as the run goes (the tracker),
 * or at once from a finished export (exportSummaryJson, for a batch job).
 */
import { stat } from 'node:fs/promises';
import type { ConvertResult } from '../convert/index.js';
import type { ExportSummary } from './export.js';
import type { SliceSummary } from './split-export.js';

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
  /** `--split`: each slice's bounds, task and records, in period order. */
  slices?: SliceSummary[];
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

export function createSummaryTracker(options: {
  path: string | undefined;
  format: string;
  now: () => number;
}): SummaryTracker {
  const started = options.now();
  const summary: Omit<TransferSummary, 'durationMs'> = {
    taskId: null,
    reused: false,
    state: null,
    records: null,
    rows: null,
    resultBytes: null,
    outputBytes: null,
    path: options.path ?? null,
    format: options.format,
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

/** A finished export's summary: the same shape, every field known. */
export interface ExportSummaryJson extends TransferSummary {
  taskId: string;
  state: 'DONE';
  records: number;
  rows: number;
  resultBytes: number;
}

export async function exportSummaryJson(
  summary: ExportSummary & { slices?: SliceSummary[] },
  info: { format: string; durationMs: number },
): Promise<ExportSummaryJson> {
  const outputBytes = summary.path === undefined ? null : (await stat(summary.path)).size;
  return {
    taskId: summary.taskId,
    reused: summary.reused,
    state: 'DONE',
    records: summary.records,
    rows: summary.lines ?? summary.records,
    resultBytes: summary.bytes,
    outputBytes,
    path: summary.path ?? null,
    format: info.format,
    durationMs: Math.round(info.durationMs),
    ...(summary.slices ? { slices: summary.slices } : {}),
  };
}
