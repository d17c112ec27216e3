/** `ms-async convert`: a result file already on disk → the target, through the export's own code. */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { BadResultError, UsageError } from '../errors.js';
import { resolveCsvOptions, type ConvertResult, type CsvOptions } from '../convert/index.js';
import { reportFromArgument } from '../reports/request.js';
import { convertToTarget } from './convert-to-target.js';
import { refuseColumnsWithoutCsv, removeAll, resolveOutputTarget, temporaryPath } from './output.js';

export interface ConvertLocalOptions {
  input: string;
  report: string | undefined;
  out: string | undefined;
  format: string | undefined;
  csv: Partial<CsvOptions>;
  stdout: Writable;
  signal?: AbortSignal | undefined;
  onConvertProgress?: ((progress: { records: number; total?: number }) => void) | undefined;
  onWarning?: ((line: string) => void) | undefined;
}

export interface ConvertLocalResult extends ConvertResult {
  /** The written file; undefined for stdout. */
  path: string | undefined;
  format: string;
}

export async function convertLocalFile(options: ConvertLocalOptions): Promise<ConvertLocalResult> {
  const report = reportFromArgument(options.report);
  const inputStat = await stat(options.input).catch(() => undefined);
  if (inputStat?.isDirectory()) throw new UsageError(`${options.input} is a folder, not a result file`);
  if (!inputStat) throw new UsageError(`no such file: ${options.input}`);
  if (!inputStat.isFile()) throw new UsageError(`${options.input} is not a regular file`);
  const target = await resolveOutputTarget(options.out, options.format);
  refuseColumnsWithoutCsv(target, options.csv);
  if (target.format === 'csv') resolveCsvOptions(options.csv); // a bad --delimiter is exit 2 before any file is made
  const partPath = temporaryPath(target, 'part');
  const plainPath = temporaryPath(target, 'gunzip.json');
  try {
    // A result saved by curl without --compressed is gzip: decoded transparently (docs/api-facts.md §10.8).
    const input = (await isGzip(options.input))
      ? await gunzipTo(options.input, plainPath, options.signal)
      : options.input;
    const result = await convertToTarget(input, partPath, {
      target,
      report,
      csv: options.csv,
      stdout: options.stdout,
      signal: options.signal,
      onConvertProgress: options.onConvertProgress,
      onWarning: options.onWarning,
      localFile: { name: options.input, out: options.out },
    });
    return { ...result, path: target.path, format: target.format };
  } finally {
    await removeAll([partPath, plainPath]);
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function gunzipTo(input: string, output: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    await pipeline(createReadStream(input), createGunzip(), createWriteStream(output, { flags: 'wx', mode: 0o600 }), {
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'AbortError') throw error;
    throw new BadResultError(`${input} is gzip but does not decode: ${(error as Error).message}`, { cause: error });
  }
  return output;
}
