/**
 * Conversion of a downloaded result file (plain JSON on disk) to the output formats of README.md
 * ("Output formats"), in flat memory and close to JSON-parse speed (issue 5).
 *
 * First shape.ts checks that the file is a result of the report at all. Then two engines give the
 * same records:
 * - the fast scanner (scan.ts) for results whose records are a top-level array (`rows`, `series`):
 *   raw record bytes for NDJSON (ndjson.ts, minified while validated), CSV lines flattened straight
 *   from the record bytes (csv-bytes.ts; JSON.parse and csv-objects.ts only for the records that
 *   path declines: csv-output.ts);
 * - stream-json (records.ts), the parser of record, for dashboards (the whole body is one small
 *   record) and for files whose top level is not an object.
 * csv.ts assembles the CSV layers (rules, column table, the two paths, the line writer); output.ts
 * holds the backpressure and buffer handling all formats share.
 */
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BadResultError } from '../errors.js';
import type { RecordsLocation, ReportSpec } from '../reports/catalog.js';
import type { CsvFlattener } from './csv.js';
import type { OutputFormat } from './formats.js';
import { resolveCsvOptions, type CsvOptions } from './csv-rules.js';
import { ndjsonWriter } from './ndjson.js';
import { OutputSink, PrefetchReader, copyFile, type GrowingInput, type RecordWriter, type Target } from './output.js';
export type { GrowingInput } from './output.js';
import { JsonSyntaxError, NotAnEnvelopeError, createRecordScanner, checkUtf8 } from './scan.js';
import { inspectResult } from './shape.js';

export type { CsvOptions } from './csv-rules.js';
export { formatRubles, resolveCsvOptions } from './csv-rules.js';

export { FORMATS, formatFromPath, type OutputFormat } from './formats.js';

export interface ConvertProgress {
  records: number;
  /** meta.size when the file has it (it may be learned only after the records). */
  total?: number;
}

export interface ConvertOptions {
  format: OutputFormat;
  /** The catalogue entry; undefined for a raw path: records are rows[] when present, else series[], else the root. */
  report?: ReportSpec;
  csv?: Partial<CsvOptions>;
  /** Called at most every 100 ms and once at the end. */
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
  /** End the output when done. Default: true, except for process.stdout. */
  end?: boolean;
  /** Directory for the CSV body's temporary file. Default: the input file's directory. */
  tempDir?: string;
  /** The input is still being downloaded: reads wait for its bytes instead of ending early. */
  growing?: GrowingInput;
  /** Internal (tests, bench): read size, and the engine ('auto': fast scanner for rows/series). */
  chunkSize?: number;
  engine?: 'auto' | 'fast' | 'stream-json';
  /** CSV into outputFile: bytes of lines held back before the header goes out (tests; default 4 MiB). */
  holdBytes?: number;
  /** XLSX: records per sheet (tests; default Excel's 1,048,575). */
  maxRecordsPerSheet?: number;
  /**
   * The new file `output` writes, from its start, and a spare temporary path beside it: a CSV goes
   * straight into the file, header first (HeaderFirst in csv-output.ts), and is written again into
   * the spare, renamed over it, only when columns appear late. The caller removes both on failure.
   */
  outputFile?: { path: string; spare: string };
  /** The file was given to `convert` by a person (names it in messages; a task object is exit 2). */
  localFile?: { name: string; out?: string | undefined };
}

export interface ConvertResult {
  /** Records read from the file (before CSV explode), to compare with metaSize. */
  records: number;
  metaSize?: number;
  /** Lines written after the header (CSV; = records for NDJSON). */
  lines?: number;
  /** Which engine did the work. */
  engine: 'fast' | 'stream-json';
  /** `--columns` names that no record had (their cells are empty), and the columns there were. */
  missingColumns?: string[];
  availableColumns?: string[];
  /** XLSX: sheets written (more than one when the records exceed a sheet), text cells cut to Excel's limit. */
  sheets?: number;
  truncatedCells?: number;
}

/**
 * Read size. With the byte-level paths (no JSON.parse heap that grows with the read size any more)
 * 1 MiB reads measured ~8% faster than 256 KiB on pretty input (fewer chunks, fewer records cut at
 * chunk boundaries and re-scanned), ~2% on compact, at the same peak RSS.
 */
const DEFAULT_CHUNK = 1 << 20;
/** A single record (or envelope value) this large means a broken file, not a real result. */
const MAX_CARRY = 256 << 20;
const PROGRESS_EVERY_MS = 100;

function throttle(
  onProgress: ConvertOptions['onProgress'],
): (records: number, total: number | undefined, force?: boolean) => void {
  let last = 0;
  return (records, total, force = false) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    onProgress(total === undefined ? { records } : { records, total });
  };
}

/**
 * Converts the result file at inputPath to `output`. Throws BadResultError for a truncated or
 * malformed file and UsageError for bad CSV options (the caller deletes the partial output).
 */
export async function convertFile(
  inputPath: string,
  output: NodeJS.WritableStream,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const csv = options.format === 'csv' ? resolveCsvOptions(options.csv) : undefined;
  const sink = new OutputSink(output, options.end ?? output !== process.stdout);
  try {
    const result = await convert(inputPath, sink, options, csv);
    await sink.close();
    return result;
  } catch (err) {
    sink.release();
    throw err;
  }
}

async function convert(
  inputPath: string,
  sink: OutputSink,
  options: ConvertOptions,
  csv: CsvOptions | undefined,
): Promise<ConvertResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const signal = options.signal;
  // Before any output: is it a result of the report at all (not an error body, `{}`, a task …)?
  const location = await inspectResult(inputPath, {
    report: options.report,
    chunkSize,
    signal,
    growing: options.growing,
    local: options.localFile !== undefined,
    name: options.localFile?.name,
    out: options.localFile?.out,
  });
  // The fast scanner takes records arrays; a dashboard is one small object: stream-json's job.
  const engine = options.engine === 'stream-json' || location === 'root' ? 'stream-json' : 'fast';
  const run = {
    inputPath,
    location,
    engine,
    chunkSize,
    signal,
    growing: options.growing,
    progress: throttle(options.onProgress),
  } as const;

  if (options.format === 'json') {
    // Validate the whole file first, then copy it byte for byte: a bad file never reaches the output.
    const found = await runEngine(run, countingWriter(), null);
    const fh = await open(inputPath, 'r');
    try {
      await copyFile(fh, sink, null, signal);
    } finally {
      await fh.close();
    }
    return resultOf(found, undefined);
  }

  if (options.format === 'ndjson') {
    const writer = ndjsonWriter();
    return resultOf(await runEngine(run, writer, sink), writer.lines);
  }

  if (options.format === 'xlsx') return convertXlsx(run, sink, options);

  // The CSV modules load only for CSV: an NDJSON run starts without them (start-up time).
  const [{ CsvFlattener }, { CsvBody, HeaderFirst, csvWriter }] = await Promise.all([
    import('./csv.js'),
    import('./csv-output.js'),
  ]);
  const flattener = new CsvFlattener(csv!, options.report ?? {});
  const writer = csvWriter(flattener);
  const bom = csv!.bom ? '\uFEFF' : '';
  // With --rubles a money column may need its decimals evened out once all values are seen
  // (MoneyPadder), which takes a second pass over the lines.
  const evenMoney = csv!.rubles && (options.report?.money.length ?? 0) > 0;
  if (csv!.columns && !evenMoney) {
    // Columns known up front: header now, lines straight to the output, one pass.
    await sink.write(bom + flattener.header());
    const found = await runEngine(run, writer, sink);
    return { ...resultOf(found, writer.lines), ...missingColumns(flattener, found.records) };
  }
  const file = options.outputFile;
  if (file) {
    // Into a file: header first, under the columns of the first lines; written again only when
    // more appear later.
    const head = new HeaderFirst(sink, flattener, bom, options.holdBytes);
    const found = await runEngine(run, writer, head);
    await head.finish(file, signal);
    return { ...resultOf(found, writer.lines), ...missingColumns(flattener, found.records) };
  }
  // To stdout, where nothing can be taken back: lines go to a temporary body file, then the header
  // and the body (early lines padded with empty cells for columns that appeared later) are copied
  // to the output. A discovery pass would need JSON.parse of every record again (~40% more).
  const body = await CsvBody.create(options.tempDir ?? dirname(inputPath), basename(inputPath));
  try {
    const found = await runEngine(run, writer, body);
    await body.copyInto(sink, bom + flattener.header(), flattener, signal);
    return { ...resultOf(found, writer.lines), ...missingColumns(flattener, found.records) };
  } finally {
    await body.dispose();
  }
}

/** XLSX: typed rows to a temporary body file, then the zip with each sheet's header first (xlsx/). */
async function convertXlsx(run: EngineRun, sink: OutputSink, options: ConvertOptions): Promise<ConvertResult> {
  const { createXlsxOutput } = await import('./xlsx/index.js');
  const csv = resolveCsvOptions(options.csv);
  const xlsx = await createXlsxOutput({
    dir: options.tempDir ?? dirname(run.inputPath),
    inputPath: run.inputPath,
    report: options.report,
    columns: csv.columns,
    // A spreadsheet wants rubles (README.md, "XLSX"); rubles: false (--no-rubles) keeps kopecks.
    rubles: options.csv?.rubles ?? true,
    maxRecordsPerSheet: options.maxRecordsPerSheet,
  });
  try {
    const found = await runEngine(run, xlsx.writer, xlsx.body);
    const summary = await xlsx.finish((chunk) => sink.write(chunk), run.signal);
    const missing = xlsx.rows.missingColumns();
    return {
      ...resultOf(found, xlsx.writer.lines),
      sheets: summary.sheets,
      ...(summary.truncatedCells > 0 ? { truncatedCells: summary.truncatedCells } : {}),
      ...(missing.length > 0 && found.records > 0
        ? { missingColumns: missing, availableColumns: [...xlsx.rows.discovered] }
        : {}),
    };
  } finally {
    await xlsx.dispose();
  }
}

interface EngineRun {
  inputPath: string;
  location: RecordsLocation;
  engine: 'fast' | 'stream-json';
  chunkSize: number;
  signal: AbortSignal | undefined;
  growing: GrowingInput | undefined;
  progress: (records: number, total: number | undefined, force?: boolean) => void;
}

interface Found {
  records: number;
  metaSize: number | undefined;
  engine: 'fast' | 'stream-json';
}

function resultOf(found: Found, lines: number | undefined): ConvertResult {
  return {
    records: found.records,
    ...(found.metaSize === undefined ? {} : { metaSize: found.metaSize }),
    ...(lines === undefined ? {} : { lines }),
    engine: found.engine,
  };
}

/**
 * `--columns` names no record had: their cells stay empty and the caller warns. Not an error: a
 * nightly job must not fail on the night an optional field happens to be absent everywhere.
 */
function missingColumns(
  flattener: CsvFlattener,
  records: number,
): Pick<ConvertResult, 'missingColumns' | 'availableColumns'> {
  const missing = flattener.missingColumns();
  if (missing.length === 0 || records === 0) return {};
  return { missingColumns: missing, availableColumns: [...flattener.discovered] };
}

const RECORDS_KEYS: Record<RecordsLocation, readonly string[]> = { rows: ['rows'], series: ['series'], root: [] };

async function runEngine(run: EngineRun, writer: RecordWriter, target: Target | null): Promise<Found> {
  if (run.engine === 'fast') {
    try {
      return await runFast(run, writer, target);
    } catch (err) {
      // Not an object at the top level: nothing was written yet; the parser of record takes it.
      if (!(err instanceof NotAnEnvelopeError)) throw err;
    }
  }
  // stream-json loads only when needed (start-up time, issue 5).
  const { streamRecords } = await import('./records.js');
  // stream-json reads to the end of the file: let the download finish first (these are small).
  await run.growing?.waitFor(Number.MAX_SAFE_INTEGER, run.signal);
  const streamOptions = {
    location: run.location,
    chunkSize: run.chunkSize,
    signal: run.signal,
    exactNumbers: writer.exactNumbers ?? false,
  };
  const found = await streamRecords(run.inputPath, streamOptions, async (records) => {
    writer.values(records);
    const out = writer.take();
    if (out !== null && target) await target.write(out);
  });
  run.progress(found.records, found.metaSize, true);
  return { records: found.records, metaSize: found.metaSize, engine: 'stream-json' };
}

function badJson(err: JsonSyntaxError, base: number, fileSize: number): BadResultError {
  if (err.pos < 0)
    return new BadResultError(
      `result file is cut short: ${fileSize === 0 ? 'it is empty' : `${err.message} after ${fileSize} bytes`}`,
    );
  return new BadResultError(`result file is not well-formed JSON: ${err.message} at byte ${base + err.pos}`);
}

/** The fast engine's read loop: big chunks, partial records carried into the next read. */
async function runFast(run: EngineRun, writer: RecordWriter, target: Target | null): Promise<Found> {
  const scanner = writer.createScanner(RECORDS_KEYS[run.location]);
  const fh = await open(run.inputPath, 'r');
  const reader = new PrefetchReader(fh, run.chunkSize, run.growing, run.signal);
  try {
    let buf: Buffer = Buffer.alloc(0);
    let consumed = 0;
    let end = 0;
    let pos = 0;
    for (;;) {
      run.signal?.throwIfAborted();
      const carry = end - consumed;
      if (carry > MAX_CARRY) {
        throw new BadResultError(
          `result file has a value over ${MAX_CARRY >> 20} MiB at byte ${pos - carry}: not a result file or broken`,
        );
      }
      const next = await reader.next(buf, consumed, end);
      const bytesRead = next.bytesRead;
      buf = next.view;
      end = buf.length;
      const base = pos - carry;
      try {
        consumed = scanner.feed(buf, end);
        if (bytesRead === 0) scanner.finish();
      } catch (err) {
        if (err instanceof JsonSyntaxError) throw badJson(err, base, (await fh.stat()).size);
        throw err;
      }
      if (!checkUtf8(buf, 0, consumed))
        throw new BadResultError(`result file is not valid UTF-8 (between bytes ${base} and ${base + consumed})`);
      if (target instanceof OutputSink && writer.copyTo) {
        await target.writeTarget(writer.copyTo); // NDJSON: no copy of the output
      } else {
        const out = writer.take();
        if (out !== null && target) await target.write(out);
      }
      run.progress(scanner.records, scanner.metaSize, bytesRead === 0);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
    return { records: scanner.records, metaSize: scanner.metaSize, engine: 'fast' };
  } finally {
    await reader.settle();
    await fh.close();
  }
}

/** JSON format: only validates and counts records (the file is copied afterwards). */
function countingWriter(): RecordWriter {
  return {
    createScanner: (recordsKeys) => createRecordScanner({ recordsKeys, validate: true, sink: { records() {} } }),
    values() {},
    take: () => null,
    lines: 0,
  };
}
