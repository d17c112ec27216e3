/**
 * The summary of one export as `--json` prints it (README "Batch": the same fields for every job
 * of a batch). One function, so that the export path and a batch describe a run alike.
 */
import { stat } from 'node:fs/promises';
import type { ExportSummary } from './export.js';
import type { SliceSummary } from './split-export.js';

export interface ExportSummaryJson {
  taskId: string;
  reused: boolean;
  state: 'DONE';
  /** Records of the result (before a CSV explode). */
  records: number;
  /** Records written: CSV lines after the header, NDJSON lines; = records otherwise. */
  rows: number;
  resultBytes: number;
  /** Size of the written file; null for stdout. */
  outputBytes: number | null;
  path: string | null;
  format: string;
  durationMs: number;
  /** `--split`: each slice's bounds, task and records, in period order. */
  slices?: SliceSummary[];
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
