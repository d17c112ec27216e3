/**
 * `export --split`: one task per slice of the period, all within the account's limits, merged
 * into ONE output in period order, each record tagged with its slice's bounds (issue 9).
 *
 * Each slice's result is fetched with the ordinary fetch (download, validation, one fresh
 * download of a broken file) into a temporary NDJSON file (a JSON file for `--format json`).
 * The merge then writes, in slice order:
 * - json: an array of the slices' result files, byte for byte;
 * - ndjson: each record with `"period":{"from":…,"to":…}` inserted as its first member;
 * - any other format: the tagged records as one result envelope, converted once, so that CSV
 *   (and any later format) sees every slice's columns — `period.from` and `period.to` lead
 *   because they come first in the first record — and no converter needs to know of periods.
 * A slice that fails fails the export: the others are stopped and nothing is written.
 */
import { setMaxListeners } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { InterruptedError } from '../errors.js';
import type { CsvOptions } from '../convert/index.js';
import { periodParams, type Period } from '../reports/period.js';
import { exportReport, type ExportOptions, type ExportSummary, type TaskSteps } from './export.js';
import { convertToTarget } from './convert-to-target.js';
import { discardStream, removeAll, temporaryPath } from './output.js';
import type { PlannedSlice } from './export-plan.js';

export interface SplitExportOptions extends Omit<ExportOptions, 'pathAndQuery' | 'onTaskStarted'> {
  slices: readonly PlannedSlice[];
  /** Steps bound to `signal`: the split stops its other slices through it when one fails. */
  stepsFor: (signal: AbortSignal) => TaskSteps;
  onSliceTask?: (slice: number, task: { id: string; reused: boolean }) => void;
  onSliceDone?: (slice: number, records: number) => void;
}

export interface SliceSummary {
  from: string;
  to: string;
  taskId: string;
  reused: boolean;
  records: number;
  bytes: number;
}

export interface SplitExportSummary extends ExportSummary {
  slices: SliceSummary[];
}

export async function exportSplit(options: SplitExportOptions): Promise<SplitExportSummary> {
  const { target } = options;
  const sliceFormat = target.format === 'json' ? 'json' : 'ndjson';
  const files = options.slices.map((_, i) => temporaryPath(target, `slice${i + 1}.${sliceFormat}`));
  const envelopePath = temporaryPath(target, 'merged.json');
  const partPath = temporaryPath(target, 'part');
  const stop = new AbortController();
  // Every job (slice) and each of its requests and waits listens to this one signal: not a leak.
  setMaxListeners(0, stop.signal);
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const steps = options.stepsFor(stop.signal);
  try {
    const outcomes = await Promise.allSettled(
      options.slices.map(async (slice, i) => {
        try {
          const summary = await exportReport(steps, {
            ...options,
            signal: stop.signal,
            pathAndQuery: slice.pathAndQuery,
            target: { path: files[i] as string, format: sliceFormat, workDir: target.workDir },
            csv: {},
            // Per-slice progress would jump back and forth; the merge reports progress.
            onConvertProgress: undefined,
            onDownloadProgress: undefined,
            onWarning: undefined,
            onTaskStarted: (task) => options.onSliceTask?.(i, task),
          });
          options.onSliceDone?.(i, summary.records);
          return summary;
        } catch (error) {
          if (!stop.signal.aborted) stop.abort(error); // no silent gaps: one failed slice stops the rest
          throw error;
        }
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      if (options.signal?.aborted) {
        throw new InterruptedError("interrupted; the slices' tasks go on running on the server", {
          hint: 'run the same command again with --reuse to pick them up',
        });
      }
      // The first failure in time is the cause; the others were stopped because of it.
      throw stop.signal.reason ?? failed.reason;
    }
    const summaries = outcomes.map((o) => (o as PromiseFulfilledResult<ExportSummary>).value);
    const tags = options.slices.map((slice) => periodTag(slice.period));
    let result: { records: number; lines?: number; metaSize?: number; engine: 'fast' | 'stream-json' };
    const records = summaries.reduce((n, s) => n + s.records, 0);
    if (target.format === 'json' || target.format === 'ndjson') {
      await writeMerged(target.path === undefined ? options.stdout : undefined, partPath, async (out) => {
        if (target.format === 'json') await concatJson(files, out);
        else for (const [i, file] of files.entries()) await tagLines(file, tags[i] as string, out);
      });
      if (target.path !== undefined) await rename(partPath, target.path);
      options.onConvertProgress?.({ records, total: records });
      result = { records, engine: 'fast', ...(target.format === 'ndjson' ? { lines: records } : {}) };
    } else {
      await writeEnvelope(files, tags, envelopePath, options.report?.records === 'series' ? 'series' : 'rows', records);
      result = await convertToTarget(envelopePath, partPath, {
        target,
        report: options.report,
        csv: withPeriodColumns(options.csv),
        stdout: options.stdout,
        signal: options.signal,
        onConvertProgress: options.onConvertProgress,
        onWarning: options.onWarning,
      });
    }
    return {
      ...result,
      records,
      bytes: summaries.reduce((n, s) => n + s.bytes, 0),
      resumedFrom: summaries.reduce((n, s) => n + s.resumedFrom, 0),
      path: target.path,
      taskId: summaries[0]?.taskId ?? '',
      reused: summaries.every((s) => s.reused),
      slices: summaries.map((s, i) => ({
        ...fromTo(options.slices[i]?.period as Period),
        taskId: s.taskId,
        reused: s.reused,
        records: s.records,
        bytes: s.bytes,
      })),
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await removeAll([...files, envelopePath, partPath]);
  }
}

function fromTo(period: Period): { from: string; to: string } {
  const { momentFrom, momentTo } = periodParams(period);
  return { from: momentFrom, to: momentTo };
}

/** `"period":{"from":"2026-01-01 00:00:00","to":"2026-01-31 23:59:59"}` */
function periodTag(period: Period): string {
  return `"period":${JSON.stringify(fromTo(period))}`;
}

/** --columns named without the period columns gets them in front: the slices must stay told apart. */
function withPeriodColumns(csv: Partial<CsvOptions>): Partial<CsvOptions> {
  if (!csv.columns) return csv;
  const lead = ['period.from', 'period.to'].filter((c) => !csv.columns?.includes(c));
  return { ...csv, columns: [...lead, ...csv.columns] };
}

async function writeMerged(
  stdout: Writable | undefined,
  partPath: string,
  body: (out: Writable) => Promise<void>,
): Promise<void> {
  if (stdout) {
    await body(stdout);
    return;
  }
  const out = createWriteStream(partPath, { flags: 'wx' });
  try {
    await body(out);
    out.end();
    await new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('error', reject);
    });
  } catch (error) {
    await discardStream(out);
    throw error;
  }
}

/** Copies a file into `out` (not ending it) with backpressure, through `tagger` if given. */
async function copyInto(path: string, out: Writable, tagger?: LineTagger): Promise<void> {
  for await (const chunk of createReadStream(path)) {
    const data = tagger ? tagger.push(chunk as Buffer) : (chunk as Buffer);
    if (data) await writeText(out, data);
  }
  const rest = tagger?.end();
  if (rest) await writeText(out, rest);
}

async function writeText(out: Writable, data: string | Buffer): Promise<void> {
  if (out.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

async function concatJson(files: readonly string[], out: Writable): Promise<void> {
  await writeText(out, '[');
  for (const [i, file] of files.entries()) {
    if (i > 0) await writeText(out, ',\n');
    await copyInto(file, out);
  }
  await writeText(out, ']\n');
}

async function tagLines(file: string, tag: string, out: Writable): Promise<void> {
  await copyInto(file, out, new LineTagger(tag, { count: 0, array: false }));
}

/**
 * NDJSON lines (records, one object each) → the same records with `tag` as their first member:
 * one a line (NDJSON), or comma-separated across every file of a merge (`array`; `state.count`
 * carries over from file to file). Works on bytes: a record is never parsed again.
 */
class LineTagger {
  private carry: Buffer = Buffer.alloc(0);
  private readonly open: Buffer;

  constructor(
    tag: string,
    private readonly state: { count: number; array: boolean },
  ) {
    this.open = Buffer.from(`{${tag}`);
  }

  push(chunk: Buffer): Buffer | undefined {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const parts: Buffer[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
      this.line(data.subarray(start, nl), parts);
      start = nl + 1;
    }
    this.carry = Buffer.from(data.subarray(start));
    return parts.length > 0 ? Buffer.concat(parts) : undefined;
  }

  end(): Buffer | undefined {
    const parts: Buffer[] = [];
    this.line(this.carry, parts);
    this.carry = Buffer.alloc(0);
    return parts.length > 0 ? Buffer.concat(parts) : undefined;
  }

  private line(line: Buffer, parts: Buffer[]): void {
    if (line.length === 0) return;
    if (this.state.array && this.state.count > 0) parts.push(COMMA);
    this.state.count += 1;
    // `{}` has no member to put a comma before; a non-object record (never seen) is kept whole.
    if (line[0] !== 0x7b) parts.push(this.open, Buffer.from(',"value":'), line, CLOSE);
    else if (line.length === 2 && line[1] === 0x7d) parts.push(this.open, CLOSE);
    else parts.push(this.open, COMMA, line.subarray(1));
    if (!this.state.array) parts.push(NEWLINE);
  }
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');
const NEWLINE = Buffer.from('\n');

/** `{"rows":[tagged records…],"meta":{"size":N}}`: the merged slices as one result file. */
async function writeEnvelope(
  files: readonly string[],
  tags: readonly string[],
  path: string,
  key: 'rows' | 'series',
  records: number,
): Promise<void> {
  const out = createWriteStream(path, { flags: 'wx' });
  try {
    await writeText(out, `{"${key}":[`);
    const state = { count: 0, array: true };
    for (const [i, file] of files.entries()) await copyInto(file, out, new LineTagger(tags[i] as string, state));
    await writeText(out, `],"meta":{"size":${records}}}`);
    out.end();
    await new Promise<void>((resolve, reject) => {
      out.once('finish', resolve);
      out.once('error', reject);
    });
  } catch (error) {
    await discardStream(out);
    throw error;
  }
}
