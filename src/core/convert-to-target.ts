/**
 * The conversion step shared by fetch/export (fetch-result.ts), split exports and `convert`: a
 * result file on disk into the target, renamed into place only when whole. Its own module so
 * that `convert` loads no download code.
 */
import { createWriteStream } from 'node:fs';
import { chmod, rename } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { convertFile, type ConvertResult, type CsvOptions, type GrowingInput } from '../convert/index.js';
import { BadResultError, InterruptedError } from '../errors.js';
import type { ReportSpec } from '../reports/catalog.js';
import { localFileError } from './local-file.js';
import { discardStream, finalMode, removeAll, temporaryPath, type OutputTarget } from './output.js';
import { formatCount } from '../count.js';

export interface ConvertToTargetOptions {
  target: OutputTarget;
  report: ReportSpec | undefined;
  csv: Partial<CsvOptions>;
  stdout: Writable;
  signal?: AbortSignal | undefined;
  /** The input is still being downloaded (see GrowingInput). */
  growing?: GrowingInput | undefined;
  /** Where the CSV body's scratch file goes (default: beside --out). */
  scratchDir?: string | undefined;
  /** The user's Ctrl-C, when `signal` may also be aborted for other reasons. */
  interruptSignal?: AbortSignal | undefined;
  onConvertStart?: ((total: number | undefined) => void) | undefined;
  onConvertProgress?: ((progress: { records: number; total?: number }) => void) | undefined;
  onWarning?: ((line: string) => void) | undefined;
  /** XLSX records per sheet (tests: a split without a million rows). */
  maxRecordsPerSheet?: number | undefined;
  /** `convert`: the input as the user named it, and --out (for messages about what the file is). */
  localFile?: { name: string; out?: string | undefined } | undefined;
}

/**
 * Converts a complete result file into the target: into `partPath` and then renamed over
 * `--out`, or straight to stdout. The part file is the caller's to remove on failure.
 */
export async function convertToTarget(
  inputPath: string,
  partPath: string,
  options: ConvertToTargetOptions,
): Promise<ConvertResult> {
  const convertOptions = {
    format: options.target.format,
    ...(options.report ? { report: options.report } : {}),
    csv: options.csv,
    // The CSV body's temporary file goes where we may write: beside --out (or the system tmp).
    tempDir: options.scratchDir ?? options.target.workDir,
    ...(options.onConvertProgress ? { onProgress: options.onConvertProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.growing ? { growing: options.growing } : {}),
    ...(options.maxRecordsPerSheet ? { maxRecordsPerSheet: options.maxRecordsPerSheet } : {}),
    ...(options.localFile ? { localFile: options.localFile } : {}),
  };
  options.onConvertStart?.(undefined);
  try {
    if (options.target.path === undefined) {
      const result = await convertFile(inputPath, options.stdout, { ...convertOptions, end: false });
      warnAbout(result, options.onWarning);
      return result;
    }
    const output = createWriteStream(partPath, { flags: 'wx', mode: 0o600 });
    // Where a CSV is written again when columns appear late (convertFile's outputFile).
    const spare = temporaryPath(options.target, 'part');
    let result: ConvertResult;
    try {
      result = await convertFile(inputPath, output, { ...convertOptions, outputFile: { path: partPath, spare } });
      if (!output.writableEnded) output.end();
      await finished(output);
    } catch (error) {
      await discardStream(output);
      await removeAll([spare]);
      throw error;
    }
    await chmod(partPath, await finalMode(options.target.path));
    await rename(partPath, options.target.path);
    warnAbout(result, options.onWarning);
    return result;
  } catch (error) {
    if ((options.interruptSignal ?? options.signal)?.aborted && !(error instanceof BadResultError)) {
      throw new InterruptedError('interrupted during the conversion', { cause: error });
    }
    throw localFileError(error, options.target.path ?? 'stdout') ?? error;
  }
}

/** What the user should know about a conversion that succeeded. */
function warnAbout(result: ConvertResult, onWarning: ((line: string) => void) | undefined): void {
  if (result.missingColumns) {
    onWarning?.(
      `--columns: no record has ${result.missingColumns.map((c) => `"${c}"`).join(', ')} (left empty); ` +
        `the result's columns are: ${(result.availableColumns ?? []).join(', ')}`,
    );
  }
  if (result.sheets !== undefined && result.sheets > 1) {
    onWarning?.(
      `${formatCount(result.lines ?? result.records)} rows do not fit one Excel sheet: ` +
        `written on ${result.sheets} sheets, the header repeated on each`,
    );
  }
  if (result.truncatedCells) {
    onWarning?.(`${result.truncatedCells} text cells were longer than Excel's 32,767 characters and were cut to that`);
  }
  if (result.metaSize !== undefined && result.metaSize !== result.records) {
    onWarning?.(
      `the result holds ${result.records} records but its meta.size says ${result.metaSize}; ` +
        'MoySklad may add or drop items changed while the report ran',
    );
  }
}
