/** The last line of a transfer, from its summary (pure). */
import type { TransferSummary } from '../core/summary.js';
import { formatBytes } from './progress.js';
import { formatCount } from '../count.js';

/**
 * `wrote 3,000 rows (1,000 records) to stock.csv in 3.4s (120 KiB csv, from a 1.1 MiB result)`:
 * the last line of a transfer.
 */
export function describeSummary(summary: TransferSummary, outArgument: string): string {
  const n = formatCount;
  const records = summary.records ?? 0;
  const rows = summary.rows ?? records;
  const what =
    rows === records
      ? `${n(records)} record${records === 1 ? '' : 's'}`
      : `${n(rows)} row${rows === 1 ? '' : 's'} (${n(records)} record${records === 1 ? '' : 's'})`;
  const sizes = [
    summary.outputBytes === null ? undefined : `${formatBytes(summary.outputBytes)} ${summary.format}`,
    summary.resultBytes === null ? undefined : `from a ${formatBytes(summary.resultBytes)} result`,
  ].filter((s) => s !== undefined);
  const tail = sizes.length > 0 ? ` (${sizes.join(', ')})` : '';
  return `wrote ${what} to ${outArgument} in ${formatSeconds(summary.durationMs)}${tail}`;
}

/** `0.4s`, `3.4s`, `59.9s`, then `1m 05s`, `2h 03m`. */
export function formatSeconds(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
