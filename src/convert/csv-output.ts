/**
 * CSV output: flattened lines (csv.ts) from raw records (flattened from their bytes, or one
 * JSON.parse per record or batch where that path does not apply) or from stream-json's values, and
 * how the header comes first though columns are found while converting: into a file, straight,
 * under the columns of the first lines (HeaderFirst); to stdout, through a temporary body file
 * (CsvBody).
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CsvFlattener } from './csv.js';
import { hasWideEscape } from './csv-objects.js';
import { BufferRing, OutputSink, copyFile, fill, type RecordWriter, type Target } from './output.js';
import { parseExact } from './exact-json.js';
import { JsonSkipper, JsonSyntaxError, createRecordScanner, type RecordBatchSink } from './scan.js';

export interface CsvRecordWriter extends RecordWriter {
  flattener: CsvFlattener;
}

/**
 * CSV: each record is flattened straight from its bytes (the byte path, no JSON.parse); a record
 * that path does not take is JSON.parse'd and flattened as a value, in its place. Both paths
 * encode their lines into the line writer's reused staging buffer, so that neither parsed records
 * nor line strings outlive a batch: they die young instead of piling up as old-space garbage (peak
 * RSS; measured). With a delimiter the byte path cannot use, a batch is one JSON.parse ('[' + the
 * records' bytes + ']').
 */
export function csvWriter(flattener: CsvFlattener): CsvRecordWriter {
  const out = flattener.out;
  const parseBatch = (b: Buffer, starts: Int32Array, ends: Int32Array, count: number): void => {
    const start = starts[0]!;
    const end = ends[count - 1]!;
    const latin1 = !hasWideEscape(b, start, end);
    const encoding = latin1 ? 'latin1' : 'utf8';
    let text: string;
    try {
      if (start > 0 && end < b.length) {
        // Parse the records as one array: borrow the bytes around them for the brackets
        // (a separator or whitespace, consumed already) instead of concatenating strings.
        const before = b[start - 1]!;
        const after = b[end]!;
        b[start - 1] = 0x5b;
        b[end] = 0x5d;
        text = b.toString(encoding, start - 1, end + 1);
        b[start - 1] = before;
        b[end] = after;
      } else {
        text = `[${b.toString(encoding, start, end)}]`;
      }
      JSON.parse(text); // validates (the scanner only found the boundaries)
    } catch (err) {
      throw locateError(b, starts, ends, count, err);
    }
    // Values with every number as its JSON text: CSV never changes a number (exact-json.ts).
    const values = parseExact(text) as unknown[];
    for (let k = 0; k < values.length; k++) flattener.add(values[k], latin1);
  };
  const sink: RecordBatchSink = {
    records(b, starts, ends, _spaced, count) {
      if (flattener.bytesPath) {
        for (let k = 0; k < count; k++) {
          if (!flattener.addBytes(b, starts[k]!, ends[k]!))
            parseBatch(b, starts.subarray(k, k + 1), ends.subarray(k, k + 1), 1);
        }
      } else {
        parseBatch(b, starts, ends, count);
      }
      w.lines = flattener.lines;
    },
  };
  const w: CsvRecordWriter = {
    flattener,
    lines: 0,
    exactNumbers: true,
    createScanner(recordsKeys) {
      // Boundaries only (the byte path or JSON.parse validates), batches bounding JSON.parse's heap.
      return createRecordScanner({
        recordsKeys,
        validate: false,
        sink,
        batchBytes: 64 << 10,
        ...(flattener.bytesPath
          ? {
              direct(b: Buffer, i: number, end: number): number {
                const e = flattener.flattenAt(b, i, end);
                w.lines = flattener.lines;
                return e;
              },
            }
          : {}),
      });
    },
    values(records) {
      for (const r of records) flattener.add(r);
      w.lines = flattener.lines;
    },
    take() {
      if (out.used === 0) return null;
      const view = out.buf.subarray(0, out.used);
      out.used = 0;
      return view;
    },
  };
  return w;
}

/** JSON.parse refused a batch: find the exact byte with the validating scanner. */
function locateError(b: Buffer, starts: Int32Array, ends: Int32Array, count: number, err: unknown): Error {
  const skipper = new JsonSkipper();
  for (let k = 0; k < count; k++) {
    try {
      if (skipper.skipValidated(b, starts[k]!, ends[k]!) !== ends[k])
        throw new JsonSyntaxError(starts[k]!, 'malformed record');
    } catch (e) {
      if (e instanceof JsonSyntaxError) return e;
      throw e;
    }
  }
  return new JsonSyntaxError(starts[0]!, `malformed record (${(err as Error).message.split('\n')[0]})`);
}

/**
 * The CSV body's temporary file. Lines are appended as records are converted; `epochs` says
 * from which line on the column count grew, so that copyInto can pad earlier lines with empty
 * trailing cells (new columns are always appended, never inserted).
 */
export class CsvBody implements Target {
  private readonly scratch = new BufferRing(2);
  private pendingWrite: Promise<void> | null = null;
  private failure: unknown;

  private constructor(
    private readonly path: string,
    private fh: FileHandle | null,
  ) {}

  static async create(dir: string, name: string): Promise<CsvBody> {
    const path = join(
      dir,
      `.${name}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.csv-body`,
    );
    return new CsvBody(path, await open(path, 'wx+', 0o600));
  }

  async write(data: Buffer | string): Promise<void> {
    // One write in flight while the next chunk is converted (two scratch buffers take turns).
    if (this.pendingWrite) await this.pendingWrite;
    const slot = this.scratch.acquire(data.length * 3)!;
    const view = fill(slot, data);
    slot.busy = true;
    this.pendingWrite = this.fh!.write(view, 0, view.length).then(
      () => {
        slot.busy = false;
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    if (this.failure !== undefined) throw this.failure;
  }

  /** Header, then the body with early lines padded (and money columns, see MoneyPadder), to the output. */
  async copyInto(
    sink: OutputSink,
    header: string,
    flattener: CsvFlattener,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.pendingWrite) await this.pendingWrite;
    this.pendingWrite = null;
    if (this.failure !== undefined) throw this.failure;
    await sink.write(header);
    await copyFile(this.fh!, sink, padLines(flattener, flattener.epochs, true), signal);
  }

  async dispose(): Promise<void> {
    await this.pendingWrite;
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
    await rm(this.path, { force: true });
  }
}

/** Lines held back before HeaderFirst writes the header: the columns of some thousands of records. */
const HOLD_BYTES = 4 << 20;

/**
 * A CSV written straight into its output file, header first: no body file and no copy of it
 * behind the header (issue 13: that copy took ~0.4 s of a 1 GB convert, more of a fetch). The
 * first HOLD_BYTES of lines are held back, then written under the header of the columns seen so
 * far, padded to them. The file is complete as written unless a column appeared only after that,
 * or money columns need their decimals evened out (MoneyPadder): then finish() writes the whole
 * CSV again from it, as CsvBody's copy would have.
 */
export class HeaderFirst implements Target {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Once the header is out: its bytes, and the columns and lines it covered. */
  private written: { headerBytes: number; columns: number; lines: number } | undefined;

  constructor(
    private readonly sink: OutputSink,
    private readonly flattener: CsvFlattener,
    private readonly bom: string,
    private readonly holdBytes = HOLD_BYTES,
  ) {}

  async write(data: Buffer | string): Promise<void> {
    if (this.written) return this.sink.write(data);
    const copy = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    this.held.push(copy);
    this.heldBytes += copy.length;
    if (this.heldBytes >= this.holdBytes) await this.writeHeld(false);
  }

  /**
   * After the last line: the file complete. When the columns grew after the header went out, or
   * money decimals need evening out, the whole CSV is written again from it into `file.spare`
   * (the final header, lines padded), renamed over `file.path`.
   */
  async finish(file: { path: string; spare: string }, signal: AbortSignal | undefined): Promise<void> {
    const f = this.flattener;
    if (this.written === undefined) return this.writeHeld(true);
    if (f.columnCount === this.written.columns && f.moneyPads().size === 0) return;
    const { headerBytes, columns, lines } = this.written;
    await this.sink.close();
    // The lines under the first header have its columns already (padded when written).
    const epochs: Array<readonly [number, number]> = [[0, columns]];
    for (const epoch of f.epochs) if (epoch[0] >= lines) epochs.push(epoch);
    const written = await open(file.path, 'r');
    const spare = createWriteStream(file.spare, { flags: 'wx', mode: 0o600 });
    const again = new OutputSink(spare, true);
    try {
      await again.write(this.bom + f.header());
      await copyFile(written, again, padLines(f, epochs, true), signal, headerBytes);
      await again.close();
    } catch (err) {
      again.release();
      spare.destroy();
      throw err;
    } finally {
      await written.close();
    }
    await rename(file.spare, file.path);
  }

  private async writeHeld(last: boolean): Promise<void> {
    const f = this.flattener;
    const header = this.bom + f.header();
    await this.sink.write(header);
    // Decimals are evened out only once every value is known: at the end, or by a second pass.
    const pad = padLines(f, f.epochs, last);
    for (const chunk of this.held) await this.sink.write(pad(chunk));
    this.written = { headerBytes: Buffer.byteLength(header), columns: f.columnCount, lines: f.lines };
    this.held = [];
    this.heldBytes = 0;
  }
}

/**
 * What lines written before the last columns appeared go through on their way out: LinePadder by
 * `epochs`, then, with `evenMoney`, MoneyPadder where a money column needs it.
 */
function padLines(
  f: CsvFlattener,
  epochs: ReadonlyArray<readonly [number, number]>,
  evenMoney: boolean,
): (chunk: Buffer) => Buffer {
  const padder = new LinePadder(epochs, f.columnCount, f.delimiter, f.eol);
  const pads = evenMoney ? f.moneyPads() : new Map<number, number>();
  if (pads.size === 0) return (chunk) => padder.pad(chunk);
  const money = new MoneyPadder(pads, f.delimiter, f.eol, f.decimalComma ? 0x2c : 0x2e);
  return (chunk) => money.pad(padder.pad(chunk));
}

/**
 * Pads the body's lines written before the last columns appeared. A line ends at the first byte of
 * the line terminator outside quotes (CR and LF inside fields are always quoted), so the padding
 * goes right before it; from the last epoch on, lines are complete and chunks pass unchanged.
 */
class LinePadder {
  private line = 0;
  private inQuote = false;
  private epoch = 0;
  private readonly pads: Buffer[];
  private readonly lastStart: number;
  private readonly eolByte: number;

  constructor(
    private readonly epochs: ReadonlyArray<readonly [number, number]>,
    total: number,
    delimiter: string,
    eol: string,
  ) {
    this.pads = epochs.map(([, n]) => Buffer.from(delimiter.repeat(n === 0 ? Math.max(total - 1, 0) : total - n)));
    this.lastStart = epochs.length > 1 ? epochs[epochs.length - 1]![0] : 0;
    this.eolByte = eol.charCodeAt(0);
  }

  pad(chunk: Buffer): Buffer {
    if (this.line >= this.lastStart) return chunk;
    const parts: Buffer[] = [];
    let seg = 0;
    const eolByte = this.eolByte;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === 0x22) {
        this.inQuote = !this.inQuote;
      } else if (c === eolByte && !this.inQuote) {
        while (this.epoch + 1 < this.epochs.length && this.epochs[this.epoch + 1]![0] <= this.line) this.epoch++;
        const pad = this.pads[this.epoch]!;
        if (pad.length > 0) {
          parts.push(chunk.subarray(seg, i), pad);
          seg = i;
        }
        this.line++;
        if (this.line >= this.lastStart) break;
      }
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(seg));
    return Buffer.concat(parts);
  }
}

/**
 * Gives every value of a money column the same number of decimals: when some hold fractional
 * kopecks (`10.505` beside `10.50`), the shorter ones get trailing zeros (`10.500`) — the value
 * is unchanged, and the column reads as one form (README.md, "Excel"). Only runs when a column
 * needs it; lines are cut at the line terminator outside quotes, the partial last one carried.
 */
class MoneyPadder {
  private carry: Buffer = Buffer.alloc(0);
  private readonly delim: Buffer;
  private readonly eolByte: number;
  private readonly eolLength: number;

  constructor(
    private readonly pads: ReadonlyMap<number, number>,
    delimiter: string,
    eol: string,
    private readonly point: number,
  ) {
    this.delim = Buffer.from(delimiter, 'utf8');
    this.eolByte = eol.charCodeAt(0);
    this.eolLength = eol.length;
  }

  pad(chunk: Buffer): Buffer {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const parts: Buffer[] = [];
    const d0 = this.delim[0]!;
    let seg = 0;
    let lineStart = 0;
    let field = 0;
    let fieldStart = 0;
    let inQuote = false;
    // Zeros to insert in the current line: committed at its end (a partial line is carried whole).
    const pending: Array<[number, number]> = [];
    const endField = (fe: number): void => {
      const want = this.pads.get(field);
      if (want === undefined) return;
      const point = data.indexOf(this.point, fieldStart);
      if (point < 0 || point >= fe) return;
      const have = fe - point - 1;
      if (have >= want) return;
      for (let k = fieldStart; k < fe; k++) if (data[k] === 0x65 || data[k] === 0x45) return;
      pending.push([fe, want - have]);
    };
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c === 0x22) {
        inQuote = !inQuote;
      } else if (inQuote) {
      } else if (c === d0 && data.subarray(i, i + this.delim.length).equals(this.delim)) {
        endField(i);
        field++;
        i += this.delim.length - 1;
        fieldStart = i + 1;
      } else if (c === this.eolByte) {
        endField(i);
        for (const [at, zeros] of pending) {
          parts.push(data.subarray(seg, at), Buffer.from('0'.repeat(zeros)));
          seg = at;
        }
        pending.length = 0;
        field = 0;
        i += this.eolLength - 1;
        fieldStart = i + 1;
        lineStart = i + 1;
      }
    }
    parts.push(data.subarray(seg, lineStart));
    this.carry = Buffer.from(data.subarray(lineStart));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
