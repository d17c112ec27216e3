/**
 * The column table both flattening paths fill (csv-objects.ts, csv-bytes.ts): a tree of column
 * nodes by key path, their output slots (register a column), one row of typed cells (set a cell)
 * and the hand-over of a finished row to a line writer (emit a line: CSV in csv-line.ts, XLSX in
 * xlsx/rows.ts; both implement LineWriter). It knows no JSON and no CSV syntax.
 */
import { columnName, type CsvReportRules } from './csv-rules.js';

/** A node of the column tree: one key path. `slot` is its output position, -1 unseen, -2 not selected. */
export interface ColumnNode {
  name: string;
  slot: number;
  /** A money column of the report, divided by 100 (--rubles). */
  money: boolean;
  /** Money columns: the fewest and most decimals written so far (noteMoney). */
  minDecimals?: number;
  maxDecimals?: number;
  children: Map<string, ColumnNode> | null;
  /** The same children keyed by their latin1-decoded UTF-8 bytes (csv-objects.ts' latin1 mode). */
  latin1Children: Map<string, ColumnNode> | null;
  /** For a `meta` node: its `id` and `type` columns. */
  idNode?: ColumnNode;
  typeNode?: ColumnNode;
  /** For a `meta` node of a collection: the parent's `size` column. */
  sizeNode?: ColumnNode;
  /** What the byte path keeps on a node (csv-bytes.ts). */
  b?: ByteNode;
}

/**
 * What the byte path keeps on a column node: the key's bytes as last seen, the sibling that
 * followed it last time (records of one report share their shape, so the next key is nearly always
 * predicted by one byte comparison instead of a string allocation and a Map lookup), and the
 * object-instance stamp that detects duplicate keys.
 */
export interface ByteNode {
  key: Uint8Array;
  /** ROLE_META, ROLE_EXPLODE (the exploded array, top level), ROLE_INDEX (an array-index key) or 0. */
  role: number;
  next: ColumnNode | null;
  first: ColumnNode | null;
  stamp: number;
}

/**
 * The kinds of a typed cell. Byte kinds point into the input buffer the line is written from;
 * string kinds hold a JS string. A writer gets the exact JSON text of every number (NUMBER or
 * NUMBER_TEXT), and strings as they are (not quoted: quoting is the CSV writer's business).
 */
export const CELL_EMPTY = 0; // null or absent
export const CELL_TEXT = 1; // b[s, e): a string's UTF-8 bytes, no escapes, no delimiter byte
export const CELL_TEXT_DELIM = 2; // b[s, e): the same, holding the delimiter byte (CSV quotes it)
export const CELL_NUMBER = 3; // b[s, e): a number's JSON text
export const CELL_STRING = 4; // str: a string value
export const CELL_TRUE = 5;
export const CELL_FALSE = 6;
export const CELL_NUMBER_TEXT = 7; // str: a number's text (rubles, or a parsed number)
export const CELL_JSON = 8; // str: an array (or odd object) kept whole, as JSON text

/** One row of typed cells by slot, and the slots set so far (to clear them). */
export class CellRow {
  kind = new Uint8Array(64);
  s = new Int32Array(64);
  e = new Int32Array(64);
  str: Array<string | null> = [];
  readonly touched: number[] = [];

  grow(n: number): void {
    if (n <= this.kind.length) return;
    const len = Math.max(n, this.kind.length * 2);
    const kind = new Uint8Array(len);
    kind.set(this.kind);
    this.kind = kind;
    const s = new Int32Array(len);
    s.set(this.s);
    this.s = s;
    const e = new Int32Array(len);
    e.set(this.e);
    this.e = e;
  }

  /** Empties the cells set since touched.length was `from` (the parent's stay for the next element). */
  clear(from: number): void {
    const t = this.touched;
    for (let k = from; k < t.length; k++) {
      this.kind[t[k]!] = CELL_EMPTY;
      this.str[t[k]!] = null;
    }
    t.length = from;
  }
}

/** Receives finished rows: cells [0, count) of `row`; byte kinds point into `b`. */
export interface LineWriter {
  line(row: CellRow, b: Uint8Array | null, count: number): void;
}

export interface ColumnTableOptions {
  /** --columns: only these, in this order. */
  columns?: readonly string[] | undefined;
  /** --rubles: money columns are marked. */
  rubles: boolean;
}

export class ColumnTable {
  readonly root: ColumnNode = { name: '', slot: -1, money: false, children: new Map(), latin1Children: new Map() };
  /** Output lines so far (after explode). */
  lines = 0;
  /** Number of output columns (grows without --columns). */
  columnCount = 0;
  /** Column names by slot (all discovered names when no --columns). */
  readonly names: string[] = [];
  /** Every column name discovered, in first-appearance order. */
  readonly discovered: string[] = [];
  /** [firstLine, columnCount] each time the column count changed: lines before need padding. */
  readonly epochs: Array<[number, number]> = [];
  readonly row = new CellRow();
  readonly explode: string | undefined;
  private readonly select: Map<string, number> | null;
  private readonly money: ReadonlySet<string>;
  private readonly rubles: boolean;

  constructor(options: ColumnTableOptions, report: CsvReportRules) {
    this.rubles = options.rubles;
    this.money = new Set(report.money ?? []);
    this.explode = report.explode;
    if (options.columns) {
      this.select = new Map(options.columns.map((c, k) => [c, k]));
      this.columnCount = options.columns.length;
      this.names.push(...options.columns);
    } else {
      this.select = null;
    }
  }

  /** The node for `key` under parent (created on first sight; no slot until it holds a value). */
  childByKey(parent: ColumnNode, key: string): ColumnNode {
    const children = (parent.children ??= new Map());
    let node = children.get(key);
    if (node === undefined) {
      node = {
        name: columnName(parent === this.root ? null : parent.name, key),
        slot: -1,
        money: false,
        children: null,
        latin1Children: null,
      };
      children.set(key, node);
    }
    return node;
  }

  /** Gives the node an output slot the first time it holds a value (-2: not selected). */
  register(node: ColumnNode): void {
    if (node.slot !== -1) return;
    this.discovered.push(node.name);
    node.money = this.rubles && this.isMoneyColumn(node.name);
    if (this.select) {
      node.slot = this.select.get(node.name) ?? -2;
      return;
    }
    node.slot = this.columnCount++;
    this.names.push(node.name);
  }

  /** A money column of the report (kopecks), whatever --rubles says (xlsx/rows.ts converts on its own). */
  isMoneyColumn(name: string): boolean {
    return this.money.has(name);
  }

  /** Sets a string-kind cell (the byte path sets byte kinds on `row` itself, inline). */
  setString(node: ColumnNode, kind: number, str: string): void {
    if (node.slot === -1) this.register(node);
    const slot = node.slot;
    if (slot < 0) return;
    const row = this.row;
    if (slot >= row.kind.length) row.grow(slot + 1);
    row.kind[slot] = kind;
    row.str[slot] = str;
    row.touched.push(slot);
  }

  setEmpty(node: ColumnNode): void {
    if (node.slot === -1) this.register(node);
    const slot = node.slot;
    if (slot < 0) return;
    this.row.kind[slot] = CELL_EMPTY;
    this.row.touched.push(slot);
  }

  setKind(node: ColumnNode, kind: number): void {
    if (node.slot === -1) this.register(node);
    const slot = node.slot;
    if (slot < 0) return;
    const row = this.row;
    if (slot >= row.kind.length) row.grow(slot + 1);
    row.kind[slot] = kind;
    row.touched.push(slot);
  }

  /** Hands the row to the writer as one line (noting when the column count changed). */
  emit(writer: LineWriter, b: Uint8Array | null): void {
    const epochs = this.epochs;
    const last = epochs[epochs.length - 1];
    const count = this.columnCount;
    if (last === undefined || last[1] !== count) epochs.push([this.lines, count]);
    this.row.grow(count);
    writer.line(this.row, b, count);
    this.lines++;
  }

  /** A money cell's text was written: its decimals count towards the column's form. */
  noteMoney(node: ColumnNode, text: string): void {
    const point = text.indexOf('.');
    if (point < 0 || text.includes('e')) return; // an exponent form is left as it is
    const decimals = text.length - point - 1;
    if (node.maxDecimals === undefined || decimals > node.maxDecimals) node.maxDecimals = decimals;
    if (node.minDecimals === undefined || decimals < node.minDecimals) node.minDecimals = decimals;
  }

  /**
   * Money columns whose values were written with different numbers of decimals (fractional
   * kopecks beside whole ones): slot → the decimals every value of it gets (csv-rules.ts).
   */
  moneyPads(): Map<number, number> {
    const pads = new Map<number, number>();
    const visit = (node: ColumnNode): void => {
      if (node.slot >= 0 && node.maxDecimals !== undefined && node.minDecimals !== node.maxDecimals) {
        pads.set(node.slot, node.maxDecimals);
      }
      for (const child of node.children?.values() ?? []) visit(child);
    };
    visit(this.root);
    return pads;
  }

  /** Requested columns that no record had (only meaningful with --columns). */
  missingColumns(): string[] {
    if (!this.select) return [];
    const seen = new Set(this.discovered);
    return [...this.select.keys()].filter((c) => !seen.has(c));
  }
}
