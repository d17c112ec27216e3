/**
 * A streamed XLSX writer (README.md, "XLSX"): typed cells go, row by row, as sheet XML, deflated
 * in zlib's thread pool while the next rows are built, into a temporary body file; at the end the
 * workbook is zipped around it (zip.ts), each sheet's header row (whose columns are known only
 * then) deflated and put first. Inline strings only, so nothing grows with the result in memory.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BufferRing, fill, type Target } from '../output.js';
import {
  MAX_CELL_CHARS,
  MAX_RECORDS_PER_SHEET,
  columnLetters,
  escapeAttr,
  escapeText,
  momentSerial,
  needsPreserve,
} from './xml.js';
import {
  crc32Combine,
  deflateFinal,
  deflateOpen,
  deflateOpenAsync,
  smallMember,
  writeZip,
  type ZipMember,
} from './zip.js';

/** One sheet's rows in the body file: deflated, and what the CRC and size of them are. */
interface SheetBody {
  /** Byte range of the deflated rows in the body file. */
  start: number;
  end: number;
  /** CRC-32 and length of the rows' XML before deflating. */
  crc: number;
  size: number;
}

/** Cell styles of styles.xml, by index. */
const S_MONEY = 1;
const S_MOMENT = 2;
const S_HEADER = 3;
/** Records whose cell lengths size the columns. */
const WIDTH_SAMPLE = 200;
const ENCODE_CHARS = 1 << 14;
/** Moments are shown as `yyyy-mm-dd hh:mm:ss.000`: 23 characters. */
const MOMENT_WIDTH = 23;

export interface XlsxWriterOptions {
  /** Folder of the temporary body file (beside the output, like every temporary file). */
  dir: string;
  /** Name the body file after (the input's). */
  name: string;
  /** First sheet's name (more sheets get ` (2)`, …). */
  sheetName?: string;
  /** Records per sheet; tests make it small (default: Excel's 1,048,575). */
  maxRecordsPerSheet?: number;
  /** zlib level of the sheets (README.md, "XLSX": level 1 measured best for time and size). */
  compressionLevel?: number;
}

export interface XlsxSummary {
  sheets: number;
  /** Text cells cut to Excel's 32,767 characters. */
  truncatedCells: number;
}

/**
 * Cells are set between beginRow() and endRow() in increasing column order; a column index may be
 * any number (the columns' names are given at finish()); unset cells stay empty.
 */
export class XlsxWriter implements Target {
  private xml = '';
  private fh: FileHandle | null = null;
  private readonly path: string;
  private written = 0;
  private pendingWrite: Promise<void> | null = null;
  private failure: unknown;
  /**
   * The sheets' rows, deflated as they are written (in zlib's thread pool, while the next rows are
   * converted) in pieces that end with a sync flush, so that the header row, known only at the
   * end, can be put in front of them (zip.ts).
   */
  private readonly sheets: SheetBody[] = [{ start: -1, end: -1, crc: 0, size: 0 }];
  /** Chunks being deflated or written: at most two (a third waits). */
  private readonly inFlight: Array<Promise<void>> = [];
  /** The file writes, in order. */
  private fileChain: Promise<void> = Promise.resolve();
  /**
   * Rows are encoded from a short string into this reused buffer every few KB: a long-lived string
   * of many small pieces would be promoted to the old space and pile up there as garbage (peak RSS).
   */
  private stage = Buffer.allocUnsafeSlow(1 << 20);
  private used = 0;
  private readonly ring = new BufferRing(3);
  /** Sheet starts in the staged bytes not yet written (offsets into the stage). */
  private pendingSplits: number[] = [];
  private takenSplits: number[] = [];
  private readonly letters: string[] = [];
  private readonly widths: number[] = [];
  private rowInSheet = 0;
  private row = '';
  /** Records written (rows after the header, over all sheets). */
  records = 0;
  truncatedCells = 0;
  private readonly maxRecords: number;

  private constructor(
    private readonly options: XlsxWriterOptions,
    path: string,
  ) {
    this.path = path;
    this.maxRecords = options.maxRecordsPerSheet ?? MAX_RECORDS_PER_SHEET;
  }

  static async create(options: XlsxWriterOptions): Promise<XlsxWriter> {
    const rand = `${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const path = join(options.dir, `.${options.name}.${rand}.xlsx-body`);
    const w = new XlsxWriter(options, path);
    w.fh = await open(path, 'wx+', 0o600);
    return w;
  }

  private letter(col: number): string {
    let l = this.letters[col];
    if (l === undefined) {
      for (let k = this.letters.length; k <= col; k++) this.letters.push(columnLetters(k));
      l = this.letters[col]!;
    }
    return l;
  }

  private widen(col: number, chars: number): void {
    if (this.records >= WIDTH_SAMPLE) return;
    while (this.widths.length <= col) this.widths.push(0);
    if (chars > this.widths[col]!) this.widths[col] = chars;
  }

  beginRow(): void {
    if (this.rowInSheet === this.maxRecords) {
      this.encode();
      this.pendingSplits.push(this.used);
      this.rowInSheet = 0;
    }
    this.rowInSheet++;
    this.row = String(this.rowInSheet + 1);
    this.xml += `<row r="${this.row}">`;
  }

  endRow(): void {
    this.xml += '</row>';
    this.records++;
    if (this.xml.length >= ENCODE_CHARS) this.encode();
  }

  /** A number cell from a JSON number's text (valid xsd:double as it is). */
  number(col: number, text: string): void {
    this.widen(col, text.length);
    this.xml += `<c r="${this.letter(col)}${this.row}"><v>${text}</v></c>`;
  }

  /** Rubles (exact decimal text), shown with a thousands separator and two decimals. */
  money(col: number, text: string): void {
    this.widen(col, text.length + 4);
    this.xml += `<c r="${this.letter(col)}${this.row}" s="${S_MONEY}"><v>${text}</v></c>`;
  }

  /** An API moment as a date-time cell; text that is not a moment stays text. */
  moment(col: number, text: string): void {
    const serial = momentSerial(text);
    if (serial === undefined) {
      this.text(col, text);
      return;
    }
    this.widen(col, MOMENT_WIDTH);
    this.xml += `<c r="${this.letter(col)}${this.row}" s="${S_MOMENT}"><v>${serial}</v></c>`;
  }

  boolean(col: number, value: boolean): void {
    this.widen(col, 5);
    this.xml += `<c r="${this.letter(col)}${this.row}" t="b"><v>${value ? 1 : 0}</v></c>`;
  }

  /** A text cell holding exactly `s` (an empty string is an empty cell). */
  text(col: number, s: string): void {
    if (s === '') return;
    if (s.length > MAX_CELL_CHARS) {
      s = s.slice(0, MAX_CELL_CHARS);
      this.truncatedCells++;
    }
    this.widen(col, s.length);
    this.xml += `<c r="${this.letter(col)}${this.row}" t="inlineStr"><is>${tElement(s)}</is></c>`;
  }

  private encode(): void {
    const xml = this.xml;
    if (xml === '') return;
    const need = xml.length * 3;
    if (this.stage.length - this.used < need) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.used + need, this.stage.length * 2));
      this.stage.copy(bigger, 0, 0, this.used);
      this.stage = bigger;
    }
    this.used += this.stage.write(xml, this.used, 'utf8');
    this.xml = '';
  }

  /** Writes the rows so far to the body file (standalone use; the converter uses take + write). */
  async flush(): Promise<void> {
    const bytes = this.take();
    if (bytes !== null) await this.write(bytes);
  }

  /** The rows encoded since the last take: a view valid until the next rows (write copies it). */
  take(): Buffer | null {
    this.encode();
    if (this.used === 0) return null;
    const view = this.stage.subarray(0, this.used);
    this.used = 0;
    this.takenSplits = this.pendingSplits;
    this.pendingSplits = [];
    return view;
  }

  /**
   * Appends what take() gave to the body file. Up to two chunks are deflated at once in zlib's
   * thread pool while the next rows are built; their bytes reach the file in order.
   */
  async write(data: Buffer | string): Promise<void> {
    while (this.inFlight.length >= 2) await this.inFlight.shift();
    if (this.failure !== undefined) throw this.failure;
    const slot = this.ring.acquire(typeof data === 'string' ? data.length * 3 : data.length)!;
    const view = fill(slot, data);
    // Sheet boundaries inside these bytes: the rows before each go to the sheet that ends there.
    const pieces: Array<{ bytes: Buffer; sheet: SheetBody }> = [];
    let from = 0;
    for (const at of this.takenSplits) {
      pieces.push({ bytes: view.subarray(from, at), sheet: this.currentSheet() });
      this.sheets.push({ start: -1, end: -1, crc: 0, size: 0 });
      from = at;
    }
    this.takenSplits = [];
    pieces.push({ bytes: view.subarray(from), sheet: this.currentSheet() });
    const level = this.options.compressionLevel ?? 1;
    const deflated = pieces.map(({ bytes, sheet }) => {
      sheet.crc = crc32(bytes, sheet.crc);
      sheet.size += bytes.length;
      return bytes.length === 0 ? Promise.resolve(Buffer.alloc(0)) : deflateOpenAsync(bytes, level);
    });
    slot.busy = true;
    const done = this.fileChain.then(async () => {
      for (const [k, { sheet }] of pieces.entries()) {
        const z = await deflated[k]!;
        if (sheet.start < 0) sheet.start = sheet.end = this.written;
        if (z.length === 0) continue;
        await this.fh!.write(z, 0, z.length, this.written);
        this.written += z.length;
        sheet.end = this.written;
      }
    });
    // A failure is kept for the next write or finish; the chain goes on (to settle every job).
    this.fileChain = done.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    const written = this.fileChain;
    // The slot is read by the deflates only; the job counts until its bytes are in the file.
    const deflatedAll = Promise.allSettled(deflated).then(() => {
      slot.busy = false;
    });
    this.inFlight.push(deflatedAll.then(() => written));
    this.pendingWrite = written;
  }

  private currentSheet(): SheetBody {
    return this.sheets[this.sheets.length - 1]!;
  }

  /**
   * Zips the workbook into `write` (called with each chunk, in order; it may apply backpressure):
   * every sheet gets the header row of `columns` (bold, frozen, with an autofilter over the data).
   */
  async finish(
    columns: readonly string[],
    write: (chunk: Buffer) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<XlsxSummary> {
    await this.flush();
    await this.pendingWrite;
    this.pendingWrite = null;
    if (this.failure !== undefined) throw this.failure;
    const sheets = this.sheets;
    const count = sheets.length;
    const names = sheetNames(this.options.sheetName ?? 'Data', count);
    const level = this.options.compressionLevel ?? 1;
    const rows = sheets.map((_, k) => this.rowsOfSheet(k, count));
    const members: ZipMember[] = [
      smallMember('[Content_Types].xml', contentTypes(count)),
      smallMember('_rels/.rels', ROOT_RELS),
      smallMember('xl/workbook.xml', workbookXml(names, columns.length, rows)),
      smallMember('xl/_rels/workbook.xml.rels', workbookRels(count)),
      smallMember('xl/styles.xml', STYLES),
    ];
    for (const [k, body] of sheets.entries()) {
      const head = Buffer.from(sheetHead(columns, this.widths, rows[k]!, k === 0), 'utf8');
      const tail = Buffer.from(sheetTail(columns.length, rows[k]!), 'utf8');
      const headDeflated = deflateOpen(head, level);
      const tailDeflated = deflateFinal(tail, level);
      const crc = crc32Combine(crc32Combine(crc32(head), body.crc, body.size), crc32(tail), tail.length);
      members.push({
        name: `xl/worksheets/sheet${k + 1}.xml`,
        crc,
        size: head.length + body.size + tail.length,
        compressedSize: headDeflated.length + (body.end - body.start) + tailDeflated.length,
        pieces: () => concat(headDeflated, this.readRange(body.start, body.end, signal), tailDeflated),
      });
    }
    await writeZip(members, write, new Date(), signal);
    return { sheets: count, truncatedCells: this.truncatedCells };
  }

  /** Records on sheet k of n. */
  private rowsOfSheet(k: number, n: number): number {
    return k < n - 1 ? this.maxRecords : this.records - this.maxRecords * (n - 1);
  }

  private async *readRange(start: number, end: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
    const size = 256 << 10;
    for (let pos = start; pos < end; ) {
      signal?.throwIfAborted();
      // A fresh buffer per chunk: the deflate stream holds on to what it was given.
      const buf = Buffer.allocUnsafe(Math.min(size, end - pos));
      const { bytesRead } = await this.fh!.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new Error(`xlsx body file ended early at byte ${pos}`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }

  async dispose(): Promise<void> {
    await this.pendingWrite?.catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
    await rm(this.path, { force: true });
  }
}

function tElement(s: string): string {
  return needsPreserve(s) ? `<t xml:space="preserve">${escapeText(s)}</t>` : `<t>${escapeText(s)}</t>`;
}

async function* concat(head: Buffer, body: AsyncIterable<Buffer>, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  yield* body;
  yield tail;
}

/** Sheet names: at most 31 characters, none of `[]:*?/\`, unique. */
export function sheetNames(base: string, count: number): string[] {
  const clean = base.replace(/[[\]:*?/\\]/g, '_').slice(0, 25) || 'Data';
  return Array.from({ length: count }, (_, k) => (k === 0 ? clean : `${clean} (${k + 1})`));
}

function lastCell(columns: number, records: number): string {
  return `${columnLetters(Math.max(columns, 1) - 1)}${records + 1}`;
}

/** Column width in Excel's character units from the longest sampled text, within bounds. */
function widthOf(chars: number): number {
  return Math.min(Math.max(chars + 2, 8), 60);
}

function sheetHead(columns: readonly string[], widths: readonly number[], records: number, selected: boolean): string {
  let cols = '';
  for (let k = 0; k < columns.length; k++) {
    const w = widthOf(Math.max(widths[k] ?? 0, columns[k]!.length));
    cols += `<col min="${k + 1}" max="${k + 1}" width="${w}" customWidth="1"/>`;
  }
  let header = '<row r="1">';
  for (let k = 0; k < columns.length; k++) {
    header += `<c r="${columnLetters(k)}1" t="inlineStr" s="${S_HEADER}"><is>${tElement(columns[k]!)}</is></c>`;
  }
  header += '</row>';
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_REL}">` +
    `<dimension ref="A1:${lastCell(columns.length, records)}"/>` +
    `<sheetViews><sheetView workbookViewId="0"${selected ? ' tabSelected="1"' : ''}>` +
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' +
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>' +
    '<sheetFormatPr defaultRowHeight="15"/>' +
    (cols === '' ? '' : `<cols>${cols}</cols>`) +
    `<sheetData>${columns.length === 0 ? '' : header}`
  );
}

function sheetTail(columns: number, records: number): string {
  return `</sheetData>${columns === 0 ? '' : `<autoFilter ref="A1:${lastCell(columns, records)}"/>`}</worksheet>`;
}

const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const NS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

function contentTypes(sheets: number): string {
  let overrides = '';
  for (let k = 1; k <= sheets; k++) {
    overrides += `<Override PartName="/xl/worksheets/sheet${k}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`;
  }
  return (
    XML_DECL +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
    `${overrides}</Types>`
  );
}

const ROOT_RELS =
  XML_DECL +
  `<Relationships xmlns="${NS_PKG_REL}">` +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>' +
  '</Relationships>';

function workbookXml(names: readonly string[], columns: number, records: readonly number[]): string {
  let sheets = '';
  let filters = '';
  names.forEach((name, k) => {
    sheets += `<sheet name="${escapeAttr(name)}" sheetId="${k + 1}" r:id="rId${k + 1}"/>`;
    if (columns > 0) {
      const ref = `'${name.replace(/'/g, "''")}'!$A$1:$${columnLetters(columns - 1)}$${records[k]! + 1}`;
      filters += `<definedName name="_xlnm._FilterDatabase" localSheetId="${k}" hidden="1">${escapeText(ref)}</definedName>`;
    }
  });
  return (
    XML_DECL +
    `<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_REL}">` +
    '<bookViews><workbookView activeTab="0"/></bookViews>' +
    `<sheets>${sheets}</sheets>` +
    (filters === '' ? '' : `<definedNames>${filters}</definedNames>`) +
    '</workbook>'
  );
}

function workbookRels(sheets: number): string {
  let rels = '';
  for (let k = 1; k <= sheets; k++) {
    rels += `<Relationship Id="rId${k}" Type="${NS_REL}/worksheet" Target="worksheets/sheet${k}.xml"/>`;
  }
  rels += `<Relationship Id="rId${sheets + 1}" Type="${NS_REL}/styles" Target="styles.xml"/>`;
  return `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}">${rels}</Relationships>`;
}

/**
 * Styles: 0 plain; 1 money (built-in format 4, `#,##0.00`, which a Russian locale shows as
 * `1 234,50`); 2 moments (`yyyy-mm-dd hh:mm:ss.000`, the API's own notation with milliseconds);
 * 3 the bold header.
 */
const STYLES =
  XML_DECL +
  `<styleSheet xmlns="${NS_MAIN}">` +
  '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss.000"/></numFmts>' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
  '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';
