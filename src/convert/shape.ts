/**
 * Is this file a result at all? A DONE task's result (or a file handed to `convert`) can be an API
 * error body, an empty object, a task object or a webhook event instead (docs/api-facts.md §10.8);
 * converting any of them would write an empty output and report success. This looks at the
 * top-level keys only — it stops where the records array opens, usually within the first read —
 * and says where the records are, or throws the error that names what the file is.
 */
import { open } from 'node:fs/promises';
import { parseApiErrors } from '../api/parse.js';
import { ApiError, AUTH_API_CODES, AuthError, BadResultError, UsageError } from '../errors.js';
import type { RecordsLocation, ReportSpec } from '../reports/catalog.js';
import { JsonSyntaxError, NotAnEnvelopeError, createRecordScanner, type RecordBatchSink } from './scan.js';

export interface InspectOptions {
  report: ReportSpec | undefined;
  chunkSize: number;
  signal: AbortSignal | undefined;
  /** A file still being downloaded: reads wait for its bytes (see GrowingInput in output.ts). */
  growing?: { waitFor(size: number, signal?: AbortSignal): Promise<void> } | undefined;
  /** The file was given to `convert` (a task object or an event is then a usage error, exit 2). */
  local?: boolean | undefined;
  /** The file name to put in messages, and the output to put in a hint (convert). */
  name?: string | undefined;
  out?: string | undefined;
}

/** A value this large in the envelope is not looked into (the conversion reports what it is). */
const MAX_CARRY = 256 << 20;

/**
 * Where the records of the file are (the report's location, or for a raw file: `rows`, else
 * `series`, else the whole body). Throws AuthError/ApiError for an API error body, BadResultError
 * for a file that is not a result of the report, UsageError (local files) for a task or an event.
 * A malformed file is left to the conversion, which reports the exact byte.
 */
export async function inspectResult(inputPath: string, options: InspectOptions): Promise<RecordsLocation> {
  const { report } = options;
  const keys = report === undefined ? ['rows', 'series'] : report.records === 'root' ? [] : [report.records];
  const noop: RecordBatchSink = { records() {} };
  const scanner = createRecordScanner({ recordsKeys: keys, validate: false, sink: noop, stopAtRecords: true });
  let complete = false;
  let first = -1;
  const fh = await open(inputPath, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.max(options.chunkSize * 2, 64));
    let carry = 0;
    let pos = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      if (carry + options.chunkSize > buf.length) {
        if (carry > MAX_CARRY) break;
        const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, carry + options.chunkSize));
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      await options.growing?.waitFor(pos + options.chunkSize, options.signal);
      const { bytesRead } = await fh.read(buf, carry, options.chunkSize, pos);
      const end = carry + bytesRead;
      if (first < 0) first = firstByte(buf, end);
      let consumed: number;
      try {
        consumed = scanner.feed(buf, end);
        // A raw file's rows[] wins over a series[] that came first (then read on, as records).
        if (scanner.atRecords && (report !== undefined || scanner.topKeys.at(-1)?.key === 'rows')) break;
        scanner.atRecords = false;
        if (bytesRead === 0) {
          scanner.finish();
          complete = true;
          break;
        }
      } catch (err) {
        if (err instanceof NotAnEnvelopeError) return notAnObject(first, options);
        if (err instanceof JsonSyntaxError) break; // the conversion reports it with its byte offset
        throw err;
      }
      buf.copyWithin(0, consumed, end);
      carry = end - consumed;
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const has = (key: string): boolean => scanner.topKeys.some((k) => k.key === key && k.isArray);
  if (report !== undefined && report.records !== 'root') {
    if (has(report.records)) return report.records;
    if (!complete) return report.records; // cut short or malformed: the conversion says so
  } else {
    if (has('rows')) return 'rows';
    if (has('series') && report === undefined) return 'series';
    if (!complete) return 'root';
  }
  // A complete top-level object without the records: what is it?
  const names = scanner.topKeys.map((k) => k.key);
  if (scanner.metaType === 'async' || (names.includes('state') && names.includes('request') && names.includes('id'))) {
    const hint = `download its result: ms-async fetch ${scanner.id ?? '<id>'} --out ${options.out ?? 'result.csv'}`;
    throw local(options, 'it is an async task object (the answer of /async/{id}), not its result', hint);
  }
  if (scanner.errorsText !== undefined) throw apiErrorBody(scanner.errorsText, report);
  if (has('events')) {
    throw local(
      options,
      'it is a webhook event (events[]), not a result',
      'the event names the task: fetch its result',
    );
  }
  if (report?.records === 'root' || report === undefined) {
    if (names.length > 0) return 'root';
    throw notAResult(report, 'an empty object');
  }
  throw notAResult(
    report,
    names.length === 0 ? 'an empty object' : `no "${report.records}" array (top-level keys: ${names.join(', ')})`,
  );
}

function notAResult(report: ReportSpec | undefined, what: string): BadResultError {
  return new BadResultError(`not a result of ${report === undefined ? 'a report' : report.alias}: ${what}`);
}

/** A top-level array, string, number …: dashboards and record arrays are always inside an object. */
function notAnObject(first: number, options: InspectOptions): RecordsLocation {
  if (options.report === undefined) return 'root';
  const kind = first === 0x5b ? 'a JSON array' : first === 0x22 ? 'a JSON string' : 'a JSON scalar';
  const expected = options.report.records === 'root' ? 'an object' : `an object with ${options.report.records}[]`;
  throw notAResult(options.report, `the file is ${kind}, not ${expected}`);
}

function local(options: InspectOptions, what: string, hint: string | undefined): Error {
  if (!options.local) return new BadResultError(`not a result: ${what}`);
  return new UsageError(
    `${options.name ?? 'the file'} is not a result file: ${what}`,
    hint === undefined ? {} : { hint },
  );
}

/** An API error body (`{"errors":[…]}`) as the contract's error: 3 for permission codes, else 4. */
function apiErrorBody(errorsText: string, report: ReportSpec | undefined): Error {
  const apiErrors = parseApiErrors(`{"errors":${errorsText}}`);
  const codes = apiErrors.flatMap((e) => (e.code === undefined ? [] : [e.code]));
  const headline = apiErrors[0]?.error ?? 'no error text';
  const of = report === undefined ? 'a result' : `a result of ${report.alias}`;
  if (codes.some((c) => AUTH_API_CODES.has(c))) {
    return new AuthError(`the file holds the API's refusal instead of ${of}: ${headline}`, {
      apiErrors,
      hint: "the user lacks a permission for this report: ask the account's administrator",
    });
  }
  return new ApiError(`the file holds API errors instead of ${of}: ${headline}`, { apiErrors });
}

function firstByte(b: Buffer, end: number): number {
  for (let i = 0; i < end; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  }
  return -1;
}
