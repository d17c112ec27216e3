/**
 * The output formats and the extensions that name them: their own module, so that checking
 * `--out` and `--format` (core/output.ts) loads none of the converter, which a file output runs
 * in a worker thread (core/convert-thread.ts).
 */
import { extname } from 'node:path';

export type OutputFormat = 'csv' | 'ndjson' | 'json' | 'xlsx';

/** One row per format; the keys feed commander's `.choices()`. */
export const FORMATS: Record<OutputFormat, { extensions: string[]; contentType: string }> = {
  csv: { extensions: ['.csv'], contentType: 'text/csv; charset=utf-8' },
  ndjson: { extensions: ['.ndjson', '.jsonl'], contentType: 'application/x-ndjson' },
  json: { extensions: ['.json'], contentType: 'application/json' },
  xlsx: { extensions: ['.xlsx'], contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
};

/** The format an output path's extension names (case-insensitive), if any. */
export function formatFromPath(path: string): OutputFormat | undefined {
  const ext = extname(path).toLowerCase();
  for (const [format, spec] of Object.entries(FORMATS) as Array<[OutputFormat, (typeof FORMATS)[OutputFormat]]>) {
    if (spec.extensions.includes(ext)) return format;
  }
  return undefined;
}
