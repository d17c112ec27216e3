/**
 * `--format xlsx` (README.md, "XLSX"): the converter's engines hand records to XlsxRows, which
 * flattens them by the CSV's rules and paths (csv-bytes.ts straight from the bytes, csv-objects.ts
 * for what that declines, both over columns.ts) and sets typed cells on an XlsxWriter; the writer
 * is also the Target its sheet XML goes to (the body file), and finish() zips the workbook into the
 * output at the end.
 */
import { basename } from 'node:path';
import { BadResultError } from '../../errors.js';
import type { ReportSpec } from '../../reports/catalog.js';
import { hasWideEscape } from '../csv-objects.js';
import type { RecordWriter } from '../output.js';
import { JsonSkipper, JsonSyntaxError, createRecordScanner, type RecordBatchSink } from '../scan.js';
import { fitsNumberCell, XlsxRows, type XlsxRowsOptions } from './rows.js';
import { XlsxWriter, type XlsxSummary } from './workbook.js';

export interface XlsxOutputOptions extends XlsxRowsOptions {
  /** Folder of the temporary body file. */
  dir: string;
  inputPath: string;
  report: ReportSpec | undefined;
  maxRecordsPerSheet?: number | undefined;
}

export interface XlsxOutput {
  writer: RecordWriter;
  body: XlsxWriter;
  rows: XlsxRows;
  /** Zips the workbook into `write`, the header being the columns found. */
  finish(write: (chunk: Buffer) => Promise<void>, signal?: AbortSignal): Promise<XlsxSummary>;
  dispose(): Promise<void>;
}

/**
 * Both paths walk a record recursively: a record nested thousands of levels deep (no MoySklad
 * result is) ends with a clear error instead of a stack overflow (issue 14 item 6).
 */
function withinDepth<T>(flatten: () => T): T {
  try {
    return flatten();
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new BadResultError('a record nests too deeply to flatten: this is not a MoySklad result', { cause: error });
    }
    throw error;
  }
}

export async function createXlsxOutput(options: XlsxOutputOptions): Promise<XlsxOutput> {
  const body = await XlsxWriter.create({
    dir: options.dir,
    name: basename(options.inputPath),
    sheetName: options.report?.alias ?? 'Data',
    ...(options.maxRecordsPerSheet ? { maxRecordsPerSheet: options.maxRecordsPerSheet } : {}),
  });
  const rows = new XlsxRows(body, { columns: options.columns, rubles: options.rubles }, options.report ?? {});
  const sink: RecordBatchSink = {
    records(b, starts, ends, _spaced, count) {
      const latin1 = !hasWideEscape(b, starts[0]!, ends[count - 1]!);
      withinDepth(() => {
        for (const record of parseBatch(b, starts, ends, count, latin1)) rows.add(record, latin1);
      });
      w.lines = rows.lines;
    },
  };
  const w: RecordWriter = {
    lines: 0,
    // The stream-json engine then gives numbers as their JSON text, as markLongNumbers does here.
    exactNumbers: true,
    // Object records straight from their bytes (the CSV's byte path); the rest by boundaries and
    // JSON.parse (which validates), in batches of about 64 KiB.
    createScanner: (recordsKeys) =>
      createRecordScanner({
        recordsKeys,
        validate: false,
        sink,
        batchBytes: 64 << 10,
        direct(b: Buffer, i: number, end: number): number {
          const e = withinDepth(() => rows.flattenAt(b, i, end));
          w.lines = rows.lines;
          return e;
        },
      }),
    values(records) {
      withinDepth(() => {
        for (const r of records) rows.add(r);
      });
      w.lines = rows.lines;
    },
    take: () => body.take(),
  };
  return {
    writer: w,
    body,
    rows,
    finish: (write, signal) => body.finish(rows.names, write, signal),
    dispose: () => body.dispose(),
  };
}

/**
 * A value that starts with a run of 16 digits (a dot may interrupt it) or has a 3-digit exponent:
 * a number JSON.parse might not keep exactly. Only where a JSON value starts (after `:`, `,` or
 * `[`): unanchored, the hex of the ids in every href matched it (`…4e912…`), and every batch paid
 * markLongNumbers' scan, 8% of an XLSX conversion. A false positive in a string only costs the scan.
 */
const LONG_NUMBER = /[:,[]\s*-?\d(?:[\d.]{15}|[\d.]*[eE][+-]?\d{3})/;

/**
 * The records of one scanner batch, parsed as one JSON array. `latin1`: decode the UTF-8 bytes as
 * latin1 (one char per byte), which makes decoding and JSON.parse about twice as fast (measured
 * for the CSV, csv-output.ts); the object path re-decodes the strings and keys that have non-ASCII
 * chars (csv-objects.ts).
 */
function parseBatch(b: Buffer, starts: Int32Array, ends: Int32Array, count: number, latin1: boolean): unknown[] {
  let text = `[${b.toString(latin1 ? 'latin1' : 'utf8', starts[0]!, ends[count - 1]!)}]`;
  if (LONG_NUMBER.test(text)) text = markLongNumbers(text);
  try {
    return JSON.parse(text) as unknown[];
  } catch (err) {
    // Find the exact byte of the malformed record with the validating scanner.
    const skipper = new JsonSkipper();
    for (let k = 0; k < count; k++) {
      if (skipper.skipValidated(b, starts[k]!, ends[k]!) !== ends[k])
        throw new JsonSyntaxError(starts[k]!, 'malformed record');
    }
    throw new JsonSyntaxError(starts[0]!, `malformed record (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * Numbers a number cell would change (rows.ts fitsNumberCell: `12345678901234567890`, `1e400`,
 * `1e-400`) become strings `"\u0000<text>"` (a character JSON strings cannot hold raw),
 * so that XlsxRows writes the JSON text itself as text rather than the nearest double
 * (`12345678901234567890` stays that, not `12345678901234567000`; `1e400` not `Infinity`).
 */
export function markLongNumbers(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string, escapes included.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && isNumberChar(text.charCodeAt(j))) j++;
      const num = text.slice(i, j);
      if (!fitsNumberCell(num)) {
        out += `${text.slice(from, i)}"\\u0000${num}"`;
        from = j;
      }
      i = j - 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/** `0-9 . e E + -`: the characters of a JSON number after its first. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
