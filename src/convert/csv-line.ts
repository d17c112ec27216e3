/**
 * Rows of typed cells (columns.ts) → CSV lines, encoded straight into a staging buffer the output
 * takes after each read (csv-output.ts). Byte cells are copied from the input as they are; string
 * cells are quoted by the one quoting rule (csv-rules.ts).
 */
import {
  CELL_EMPTY,
  CELL_FALSE,
  CELL_JSON,
  CELL_NUMBER,
  CELL_NUMBER_TEXT,
  CELL_STRING,
  CELL_TEXT,
  CELL_TEXT_DELIM,
  CELL_TRUE,
  type CellRow,
  type LineWriter,
} from './columns.js';
import { csvQuoter, isFractionalMoment, MOMENT_POINT, type CsvQuoter } from './csv-rules.js';
import type { CopyTarget } from './scan.js';

export class CsvLineWriter implements LineWriter {
  /** Where lines go; the owner takes buf[0, used) and resets `used`. */
  out: CopyTarget = { buf: Buffer.allocUnsafeSlow(1 << 20), used: 0 };
  readonly quoter: CsvQuoter;
  readonly delimiter: string;
  readonly eol: string;
  private readonly delimByte: number;
  private readonly delimBytes: Buffer;
  private readonly eolBytes: Buffer;
  private readonly trueText: Buffer;
  private readonly falseText: Buffer;
  private outViewBuf: Buffer | null = null;
  private outView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private inViewBuf: Uint8Array | null = null;
  private inView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /** --decimal-comma: numbers and moments' fractions written with ',' (lineComma). */
  private readonly decimalComma: boolean;

  constructor(delimiter: string, crlf: boolean, decimalComma = false) {
    this.decimalComma = decimalComma;
    this.delimiter = delimiter;
    this.eol = crlf ? '\r\n' : '\n';
    this.quoter = csvQuoter(delimiter);
    this.delimBytes = Buffer.from(delimiter, 'utf8');
    this.delimByte = this.delimBytes.length === 1 ? this.delimBytes[0]! : -1;
    this.eolBytes = Buffer.from(this.eol, 'latin1');
    this.trueText = Buffer.from(this.quoter.quote('true'));
    this.falseText = Buffer.from(this.quoter.quote('false'));
  }

  /** The header line (names quoted like any other field). */
  header(names: readonly string[]): string {
    return names.map((n) => this.quoter.quote(n)).join(this.delimiter) + this.eol;
  }

  /**
   * One line. The copy loops are written out here rather than called per cell: this runs once per
   * output line and measured faster inlined (issue 5's bench).
   */
  line(row: CellRow, b: Uint8Array | null, count: number): void {
    if (this.decimalComma) {
      this.lineComma(row, b, count);
      return;
    }
    const { kind: cellKind, s: cellS, e: cellE, str: cellStr } = row;
    const quote = this.quoter;
    // Room for the line: an upper bound first (strings: 3 bytes per char, doubled quotes and 2 more).
    let need = count * this.delimBytes.length + this.eolBytes.length;
    for (let k = 0; k < count; k++) {
      const kind = cellKind[k]!;
      if (kind === CELL_TEXT || kind === CELL_NUMBER) need += cellE[k]! - cellS[k]!;
      else if (kind === CELL_TEXT_DELIM) need += cellE[k]! - cellS[k]! + 2;
      else if (kind >= CELL_STRING && kind !== CELL_TRUE && kind !== CELL_FALSE) need += cellStr[k]!.length * 6 + 2;
      else need += 7;
    }
    const out = this.out;
    if (out.buf.length - out.used < need) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(out.buf.length * 2, out.used + need));
      out.buf.copy(bigger, 0, 0, out.used);
      out.buf = bigger;
    }
    const ob = out.buf;
    let o = out.used;
    if (this.outViewBuf !== ob) {
      this.outViewBuf = ob;
      this.outView = new DataView(ob.buffer, ob.byteOffset, ob.byteLength);
    }
    if (b !== null && this.inViewBuf !== b) {
      this.inViewBuf = b;
      this.inView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const ov = this.outView;
    const iv = this.inView;
    const delim = this.delimByte;
    for (let k = 0; k < count; k++) {
      if (k > 0) {
        if (delim >= 0) ob[o++] = delim;
        else o += this.delimBytes.copy(ob, o);
      }
      const kind = cellKind[k]!;
      if (kind === CELL_EMPTY) continue;
      if (kind === CELL_TEXT || kind === CELL_NUMBER || kind === CELL_TEXT_DELIM) {
        let s = cellS[k]!;
        const e = cellE[k]!;
        const src = b!;
        // Numbers are never quoted: no delimiter can occur in them (csv-rules.ts refuses those).
        const quoted = kind === CELL_TEXT_DELIM;
        if (quoted) ob[o++] = 0x22;
        if (e - s > 96) {
          ob.set(src.subarray(s, e), o);
          o += e - s;
        } else {
          while (s + 4 <= e) {
            ov.setInt32(o, iv.getInt32(s, true), true);
            s += 4;
            o += 4;
          }
          while (s < e) ob[o++] = src[s++]!;
        }
        if (quoted) ob[o++] = 0x22;
      } else if (kind === CELL_TRUE) {
        const t = this.trueText;
        for (let j = 0; j < t.length; j++) ob[o++] = t[j]!;
      } else if (kind === CELL_FALSE) {
        const t = this.falseText;
        for (let j = 0; j < t.length; j++) ob[o++] = t[j]!;
      } else if (kind === CELL_STRING || kind === CELL_JSON || kind === CELL_NUMBER_TEXT) {
        o += ob.write(quote.quote(cellStr[k]!), o, 'utf8');
      }
    }
    const eol = this.eolBytes;
    for (let k = 0; k < eol.length; k++) ob[o++] = eol[k]!;
    out.used = o;
  }

  /**
   * A line with a decimal comma: every number's '.' becomes ',' (`234,392`, rubles too) and so
   * does a moment's before its milliseconds; the rest as in line(). A separate loop, so that the
   * default path stays as measured.
   */
  private lineComma(row: CellRow, b: Uint8Array | null, count: number): void {
    const { kind: cellKind, s: cellS, e: cellE, str: cellStr } = row;
    let need = count * this.delimBytes.length + this.eolBytes.length;
    for (let k = 0; k < count; k++) {
      const kind = cellKind[k]!;
      if (kind === CELL_TEXT || kind === CELL_NUMBER || kind === CELL_TEXT_DELIM) need += cellE[k]! - cellS[k]! + 2;
      else if (kind >= CELL_STRING && kind !== CELL_TRUE && kind !== CELL_FALSE) need += cellStr[k]!.length * 6 + 2;
      else need += 7;
    }
    const out = this.out;
    if (out.buf.length - out.used < need) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(out.buf.length * 2, out.used + need));
      out.buf.copy(bigger, 0, 0, out.used);
      out.buf = bigger;
    }
    const ob = out.buf;
    let o = out.used;
    for (let k = 0; k < count; k++) {
      if (k > 0) o += this.delimBytes.copy(ob, o);
      const kind = cellKind[k]!;
      if (kind === CELL_EMPTY) continue;
      if (kind === CELL_TEXT || kind === CELL_NUMBER || kind === CELL_TEXT_DELIM) {
        const src = b!;
        const s = cellS[k]!;
        const e = cellE[k]!;
        const quoted = kind === CELL_TEXT_DELIM;
        if (quoted) ob[o++] = 0x22;
        const start = o;
        ob.set(src.subarray(s, e), o);
        o += e - s;
        if (kind === CELL_NUMBER) {
          for (let j = start; j < o; j++) if (ob[j] === 0x2e) ob[j] = 0x2c;
        } else if (isFractionalMoment(src, s, e)) {
          ob[start + MOMENT_POINT] = 0x2c;
        }
        if (quoted) ob[o++] = 0x22;
      } else if (kind === CELL_TRUE) {
        o += this.trueText.copy(ob, o);
      } else if (kind === CELL_FALSE) {
        o += this.falseText.copy(ob, o);
      } else {
        let text = cellStr[k]!;
        if (kind === CELL_NUMBER_TEXT) text = text.replace('.', ',');
        else if (kind === CELL_STRING && isFractionalMoment(text, 0, text.length)) {
          text = `${text.slice(0, MOMENT_POINT)},${text.slice(MOMENT_POINT + 1)}`;
        }
        o += ob.write(this.quoter.quote(text), o, 'utf8');
      }
    }
    o += this.eolBytes.copy(ob, o);
    out.used = o;
  }
}
