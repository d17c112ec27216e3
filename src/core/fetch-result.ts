/**
 * Download a DONE task's result and convert it into the target, safely: everything is written to
 * temporary files beside `--out` and renamed over it only when download, parse and conversion
 * all succeeded. A result that turns out cut short or malformed is downloaded once more before
 * giving up with exit 7 (README.md "Exit codes").
 */
import { createWriteStream } from 'node:fs';
import { chmod, rename, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BadResultError, InterruptedError } from '../errors.js';
import { convertFile, type ConvertResult, type CsvOptions } from '../convert/index.js';
import { downloadToFile, type DownloadOptions, type DownloadProgress } from '../download/download.js';
import type { ReportSpec } from '../reports/catalog.js';
import { localFileError } from './local-file.js';
import { finalMode, removeAll, temporaryPath, type OutputTarget } from './output.js';

export interface FetchResultOptions {
  taskId: string;
  /** Asks the API for the storage link of the task's result (a fresh one on each call). */
  getResultLink: (taskId: string) => Promise<string>;
  target: OutputTarget;
  report: ReportSpec | undefined;
  csv: Partial<CsvOptions>;
  /** Where `--out -` writes. */
  stdout: Writable;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  userAgent?: string;
  onDownloadStart?: () => void;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  onConvertStart?: (total: number | undefined) => void;
  onConvertProgress?: (progress: { records: number; total?: number }) => void;
  onLog?: (line: string) => void;
  onWarning?: (line: string) => void;
  /** `--trace`: sees the storage requests of the download. */
  trace?: DownloadOptions['trace'];
}

export interface FetchResultSummary extends ConvertResult {
  bytes: number;
  path: string | undefined;
}

/** How many times a result that downloads but does not parse is fetched in all. */
const DOWNLOADS_FOR_BAD_RESULT = 2;

export async function fetchResult(options: FetchResultOptions): Promise<FetchResultSummary> {
  const { target } = options;
  const downloadPath = temporaryPath(target, 'download.json');
  const partPath = temporaryPath(target, 'part');
  const temporaries = [downloadPath, `${downloadPath}.raw`, partPath];
  try {
    for (let round = 1; ; round += 1) {
      options.onDownloadStart?.();
      // Created 0600 before the download opens them, which keeps the mode: the result may be
      // private data, and with `--out -` it sits in the shared TMPDIR.
      await createPrivate([downloadPath, `${downloadPath}.raw`]);
      const download = await downloadToFile({
        getLink: () => options.getResultLink(options.taskId),
        destPath: downloadPath,
        sleep: options.sleep,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
        ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
        ...(options.onLog ? { onLog: options.onLog } : {}),
        ...(options.trace ? { trace: options.trace } : {}),
      });
      try {
        const result = await convertToTarget(downloadPath, partPath, options);
        return { ...result, bytes: download.bytes, path: target.path };
      } catch (error) {
        if (!(error instanceof BadResultError) || round >= DOWNLOADS_FOR_BAD_RESULT || target.path === undefined) {
          throw error;
        }
        // Storage sometimes hands out a cut file; one fresh download settles whether it is real.
        options.onLog?.(`the downloaded result is broken (${error.message}); downloading it again`);
        await removeAll(temporaries);
      }
    }
  } catch (error) {
    throw localFileError(error, downloadPath) ?? error;
  } finally {
    await removeAll(temporaries);
  }
}

async function createPrivate(paths: readonly string[]): Promise<void> {
  for (const path of paths) await writeFile(path, '', { mode: 0o600 });
}

export interface ConvertToTargetOptions {
  target: OutputTarget;
  report: ReportSpec | undefined;
  csv: Partial<CsvOptions>;
  stdout: Writable;
  signal?: AbortSignal | undefined;
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
    tempDir: options.target.workDir,
    ...(options.onConvertProgress ? { onProgress: options.onConvertProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
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
    let result: ConvertResult;
    try {
      result = await convertFile(inputPath, output, convertOptions);
      if (!output.writableEnded) output.end();
      await finished(output);
    } catch (error) {
      output.destroy();
      throw error;
    }
    await chmod(partPath, await finalMode(options.target.path));
    await rename(partPath, options.target.path);
    warnAbout(result, options.onWarning);
    return result;
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof BadResultError)) {
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
      `${(result.lines ?? result.records).toLocaleString('en-US')} rows do not fit one Excel sheet: ` +
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
