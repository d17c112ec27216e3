/**
 * Records → typed XLSX rows, with the CSV's columns (README.md, "Output formats"): the CSV's byte
 * path (csv-bytes.ts) and object path (csv-objects.ts) flatten them over the shared column table
 * (columns.ts), as for a CSV, so dotted
 * names, `meta` → `meta.id` + `meta.type`, a collection's `size`, the exploded detail array, other
 * arrays as one JSON cell, the first-appearance column order and `--columns` are the CSV's own
 * rules, written once. This file only turns the table's typed cells into workbook cells
 * (XlsxCellWriter): numbers as numbers (their JSON text), money columns in rubles with a money
 * format, moment columns as date-times, booleans as booleans, every string as text.
 */
import {
  CELL_EMPTY,
  CELL_JSON,
  CELL_NUMBER,
  CELL_NUMBER_TEXT,
  CELL_STRING,
  CELL_TEXT,
  CELL_TEXT_DELIM,
  CELL_TRUE,
  type CellRow,
  ColumnTable,
  type LineWriter,
} from '../columns.js';
import { ByteFlattener } from '../csv-bytes.js';
import { ObjectFlattener } from '../csv-objects.js';
import { type CsvReportRules, formatRubles, rublesText } from '../csv-rules.js';
import type { XlsxWriter } from './workbook.js';

/** A number a double cannot hold, kept as its JSON text by markLongNumbers (index.ts). */
const LONG_NUMBER_MARK = /^\0-?\d/;
/** A marked long number as JSON.stringify writes it: `"\u0000123.45678901234567"`. */
const MARKED_IN_JSON = /"\\u0000(-?[0-9][0-9.eE+-]*)"/g;

/**
 * A column holds moments when its last name segment says so: the API's date-time fields are
 * `moment`, `created`, `updated`, `deleted` and names ending in `Date` or `Moment`
 * (docs/api-facts.md §1.5, §5). Per column, not per value, so that a name or code that happens
 * to look like a date stays text.
 */
export function isMomentColumn(name: string): boolean {
  // `export --split` tags each record with its slice's bounds, moments too (README.md, "Periods").
  if (name === 'period.from' || name === 'period.to') return true;
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return /^(?:moment|date|created|updated|deleted)$/.test(leaf) || /[a-z](?:Date|Moment)$/.test(leaf);
}

/** Excel's number range (beyond it a cell is an error or 0); a double's normal range inside it. */
const MIN_NUMBER = 2.2250738585072014e-308;
const MAX_NUMBER = 9.99999999999999e307;

/** A number's text as `<significant digits>e<exponent>` (sign kept), to compare values exactly. */
function decimalKey(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const all = int + frac;
  const digits = all.replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '');
  if (significant === '') return '0';
  return `${sign}${significant}e${Number(exp) + int.length - (all.length - digits.length)}`;
}

/**
 * Whether a JSON number's text survives as a number cell: the double nearest to it prints back
 * as the same value (`9007199254740993` and `12345678901234567890` do not; the API's 17-digit
 * fractional prices, written from doubles, do) and lies within Excel's range — `1e400` is
 * Infinity and `1e-400` is 0 as a double. Other numbers are written as text, their JSON text
 * (README.md, "XLSX").
 */
export function fitsNumberCell(text: string): boolean {
  if (text.length <= 15 && !/[eE]/.test(text)) return true;
  const v = Number(text);
  const a = Math.abs(v);
  if (a === 0 ? decimalKey(text) !== '0' : a < MIN_NUMBER || a > MAX_NUMBER) return false;
  return decimalKey(String(v)) === decimalKey(text);
}

export interface XlsxRowsOptions {
  columns?: readonly string[] | undefined;
  /** Money columns in rubles (numbers with a money format) rather than kopecks. */
  rubles: boolean;
}

/** What a column's cells become besides their JSON type, by its name (XlsxCellWriter's `types`). */
const T_MONEY = 1;
const T_MOMENT = 2;

/**
 * The LineWriter of XLSX: a finished row of the column table → cells of the workbook, in column
 * order. Money is decided here rather than by the table (whose `rubles` is off for XLSX): whether a
 * number fits a number cell is a question about its JSON text in kopecks, and a number that does
 * not fit stays text, that exact text (in rubles if money).
 */
class XlsxCellWriter implements LineWriter {
  /** T_MONEY | T_MOMENT by slot, for the slots [0, types.length) named so far. */
  private types = new Uint8Array(0);
  private typed = 0;

  constructor(
    private readonly writer: XlsxWriter,
    private readonly table: ColumnTable,
    /** Money columns in rubles; false (--no-rubles): kopecks, plain numbers. */
    private readonly rubles: boolean,
  ) {}

  /** Column types of slots [typed, count): their names are known once they have a slot. */
  private type(count: number): void {
    if (count > this.types.length) {
      const bigger = new Uint8Array(Math.max(count, this.types.length * 2, 64));
      bigger.set(this.types);
      this.types = bigger;
    }
    for (let slot = this.typed; slot < count; slot++) {
      const name = this.table.names[slot]!;
      const money = this.rubles && this.table.isMoneyColumn(name);
      this.types[slot] = (money ? T_MONEY : 0) | (isMomentColumn(name) ? T_MOMENT : 0);
    }
    this.typed = count;
  }

  line(row: CellRow, b: Uint8Array | null, count: number): void {
    if (count > this.typed) this.type(count);
    const w = this.writer;
    const { kind, str } = row;
    const types = this.types;
    w.beginRow();
    for (let slot = 0; slot < count; slot++) {
      const k = kind[slot]!;
      if (k === CELL_EMPTY) continue;
      if (k === CELL_TEXT || k === CELL_TEXT_DELIM) {
        // The byte path: a string's UTF-8 bytes in the input, with no escapes.
        const s = (b as Buffer).toString('utf8', row.s[slot], row.e[slot]);
        if (types[slot]! & T_MOMENT) w.moment(slot, s);
        else w.text(slot, s);
      } else if (k === CELL_NUMBER) {
        // The byte path: a number's JSON text, as received.
        this.numberText(slot, (b as Buffer).toString('latin1', row.s[slot], row.e[slot]));
      } else if (k === CELL_STRING) {
        const s = str[slot]!;
        if (s.charCodeAt(0) === 0 && LONG_NUMBER_MARK.test(s)) this.inexact(slot, s.slice(1));
        else if (types[slot]! & T_MOMENT) w.moment(slot, s);
        else w.text(slot, s);
      } else if (k === CELL_NUMBER_TEXT) {
        // Its JSON text (the stream-json engine's JsonNumber) or a parsed number's shortest text.
        this.numberText(slot, str[slot]!);
      } else if (k === CELL_JSON) {
        // Long numbers inside were marked as strings (index.ts, markLongNumbers): back to their text,
        // or a fractional-kopeck price in salePrices[] shows as "\u0000…" (docs/api-facts.md §10.3).
        const json = str[slot]!;
        w.text(slot, json.includes('\\u0000') ? json.replace(MARKED_IN_JSON, '$1') : json);
      } else {
        w.boolean(slot, k === CELL_TRUE);
      }
    }
    w.endRow();
  }

  private numberText(slot: number, text: string): void {
    if (!fitsNumberCell(text)) this.inexact(slot, text);
    else if (this.types[slot]! & T_MONEY) this.writer.money(slot, formatRubles(Number(text)));
    else this.writer.number(slot, text);
  }

  /** A number a number cell would change (fitsNumberCell): a text cell, its exact text, in rubles if money. */
  private inexact(slot: number, text: string): void {
    this.writer.text(slot, this.types[slot]! & T_MONEY ? rublesText(text) : text);
  }
}

/**
 * Records (as JSON.parse or stream-json give them) → typed rows of an XlsxWriter: the CSV's object
 * path over a column table of its own, whose lines go to an XlsxCellWriter.
 */
export class XlsxRows {
  private readonly table: ColumnTable;
  private readonly flattener: ObjectFlattener;
  private readonly bytes: ByteFlattener;

  constructor(writer: XlsxWriter, options: XlsxRowsOptions, report: CsvReportRules = {}) {
    // rubles: false — the table leaves numbers as they are; XlsxCellWriter decides on money.
    this.table = new ColumnTable({ columns: options.columns, rubles: false }, report);
    const cells = new XlsxCellWriter(writer, this.table, options.rubles);
    this.flattener = new ObjectFlattener(this.table, cells);
    // The CSV's byte path, as CSV uses it: cells are byte ranges of the input (its delimiter
    // only marks strings a CSV would quote, which XLSX does not care about).
    this.bytes = new ByteFlattener(this.table, cells, ',');
  }

  /** The object record at b[i] from its bytes: the index after it, or -1 (declined: use add). */
  flattenAt(b: Buffer, i: number, end: number): number {
    return this.bytes.flattenAt(b, i, end);
  }

  /** Column names by slot (the header). */
  get names(): readonly string[] {
    return this.table.names;
  }
  get discovered(): readonly string[] {
    return this.table.discovered;
  }
  /** Rows written (after explode). */
  get lines(): number {
    return this.table.lines;
  }

  /** `--columns` names that no record had. */
  missingColumns(): string[] {
    return this.table.missingColumns();
  }

  /**
   * One record: one row, or one per exploded element. `latin1`: it was parsed from UTF-8 bytes
   * decoded as latin1 (ObjectFlattener.add).
   */
  add(record: unknown, latin1 = false): void {
    this.flattener.add(record, latin1);
  }
}
