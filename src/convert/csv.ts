/**
 * Records → CSV lines (cli-contract.md, "Output formats"). Flattening rules:
 * - nested objects become dotted column names (`folder.name`);
 * - an object under the key `meta` becomes two columns, `<prefix>meta.id` (the last path segment of
 *   its href, query stripped: the entity's UUID) and `<prefix>meta.type`; its other fields are dropped;
 * - the catalogue's `explode` array (top level) yields one CSV record per element carrying the
 *   parent's columns, element columns prefixed with the array's name; an empty or absent array still
 *   yields one record with empty element columns;
 * - any other array is one JSON-encoded cell; null is an empty cell; a record that is not an object
 *   is one column named `value`.
 * Columns are the union over all records in first-appearance order (the parent's fields before the
 * exploded element's fields of the same record).
 */
import { UsageError } from '../errors.js';

export interface CsvOptions {
  /** Pick and order columns by name; unknown names are a UsageError once the file is read. */
  columns?: string[];
  delimiter: string;
  bom: boolean;
  crlf: boolean;
  /** Divide the catalogue's money columns by 100. */
  rubles: boolean;
}

export const DEFAULT_CSV: CsvOptions = { delimiter: ',', bom: false, crlf: false, rubles: false };

export function resolveCsvOptions(partial: Partial<CsvOptions> | undefined): CsvOptions {
  const o: CsvOptions = { ...DEFAULT_CSV };
  if (partial) {
    if (partial.delimiter !== undefined) o.delimiter = partial.delimiter;
    if (partial.bom !== undefined) o.bom = partial.bom;
    if (partial.crlf !== undefined) o.crlf = partial.crlf;
    if (partial.rubles !== undefined) o.rubles = partial.rubles;
    if (partial.columns !== undefined) o.columns = partial.columns;
  }
  const d = o.delimiter === '\\t' ? '\t' : o.delimiter;
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') {
    throw new UsageError(`--delimiter must be one character other than a quote or a line break (got ${JSON.stringify(o.delimiter)})`);
  }
  o.delimiter = d;
  if (o.columns !== undefined) {
    const cols = o.columns.map((c) => c.trim()).filter((c) => c !== '');
    if (cols.length === 0) throw new UsageError('--columns needs at least one column name');
    const dup = cols.find((c, k) => cols.indexOf(c) !== k);
    if (dup !== undefined) throw new UsageError(`--columns names "${dup}" twice`);
    o.columns = cols;
  }
  return o;
}

/**
 * Kopecks → rubles without float artefacts: the decimal point of the number's shortest
 * representation is moved two places (exact), and at least two decimals are shown.
 */
export function formatRubles(kopecks: number): string {
  const s = String(kopecks);
  const exp = /^(-?\d+(?:\.\d+)?)e([+-]\d+)$/.exec(s);
  if (exp) {
    const e = Number(exp[2]) - 2; // 1e+21 → 1e+19, 1e-7 → 1e-9: still exact
    return `${exp[1]}e${e < 0 ? '' : '+'}${e}`;
  }
  if (!/^-?\d+(\.\d+)?$/.test(s)) return s; // NaN/Infinity cannot come from JSON
  const negative = s.startsWith('-');
  const [intPart = '0', frac = ''] = (negative ? s.slice(1) : s).split('.');
  const digits = intPart.padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/^0+(?=\d)/, '');
  const decimals = (digits.slice(-2) + frac).replace(/0+$/, '').padEnd(2, '0');
  const out = `${whole}.${decimals}`;
  return negative && /[1-9]/.test(out) ? `-${out}` : out;
}

/** A node of the column tree: one key path. `slot` is its output position or -1. */
interface ColumnNode {
  name: string;
  slot: number;
  money: boolean;
  children: Map<string, ColumnNode> | null;
  /** The same children keyed by their latin1-decoded UTF-8 bytes (see `add`'s latin1 flag). */
  latin1Children: Map<string, ColumnNode> | null;
  /** For a `meta` node: its `id` and `type` columns. */
  idNode?: ColumnNode;
  typeNode?: ColumnNode;
}

/** Re-decodes a string whose chars are UTF-8 bytes (latin1-decoded text) when it has any. */
function fromLatin1(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}
const NON_ASCII = /[\x80-\xff]/;

function hrefId(href: unknown): string {
  if (typeof href !== 'string') return '';
  let end = href.length;
  const q = href.indexOf('?');
  if (q >= 0) end = q;
  const h = href.indexOf('#');
  if (h >= 0 && h < end) end = h;
  while (end > 0 && href.charCodeAt(end - 1) === 0x2f) end--;
  return href.slice(href.lastIndexOf('/', end - 1) + 1, end);
}

/**
 * Flattens records into CSV lines. Lines are accumulated into `batch` (a string the caller takes
 * and writes in big chunks). Without `columns`, `columnCount` grows as columns appear, so early
 * lines may be shorter than the final header (the caller pads them: CsvBody in index.ts).
 */
export class CsvFlattener {
  batch = '';
  /** Output lines written so far (after explode). */
  lines = 0;
  /** Number of output columns (grows without --columns). */
  columnCount = 0;
  /** Column names by slot (all discovered names when no --columns). */
  readonly names: string[] = [];
  /** Every column name discovered, in first-appearance order (for the --columns error message). */
  readonly discovered: string[] = [];
  /** [firstLine, columnCount] each time the column count changed: lines before need padding. */
  readonly epochs: Array<[number, number]> = [];
  private readonly root: ColumnNode = { name: '', slot: -1, money: false, children: new Map(), latin1Children: new Map() };
  private readonly cells: string[] = [];
  private readonly touched: number[] = [];
  private readonly select: Map<string, number> | null;
  private readonly money: ReadonlySet<string>;
  private readonly explode: string | undefined;
  readonly delimiter: string;
  readonly eol: string;
  private readonly needsQuotes: RegExp;
  /** needsQuotes or a non-ASCII char: the strings of latin1-decoded text that need work. */
  private readonly needsWorkLatin1: RegExp;
  /** The record being added was JSON.parse'd from latin1-decoded UTF-8 (the CSV fast path). */
  private latin1 = false;
  private readonly rubles: boolean;

  constructor(options: CsvOptions, report: { explode?: string | undefined; money?: readonly string[] } = {}) {
    this.delimiter = options.delimiter;
    this.eol = options.crlf ? '\r\n' : '\n';
    this.rubles = options.rubles;
    this.money = new Set(report.money ?? []);
    this.explode = report.explode;
    const d = options.delimiter.replace(/[\\\]^-]/g, '\\$&');
    this.needsQuotes = new RegExp(`[${d}"\\r\\n]`);
    this.needsWorkLatin1 = new RegExp(`[${d}"\\r\\n\\x80-\\xff]`);
    if (options.columns) {
      this.select = new Map(options.columns.map((c, k) => [c, k]));
      this.columnCount = options.columns.length;
      this.names.push(...options.columns);
      for (let k = 0; k < this.columnCount; k++) this.cells.push('');
    } else {
      this.select = null;
    }
  }

  /** The header line (names quoted like any other field). */
  header(): string {
    return this.names.map((n) => this.quote(n)).join(this.delimiter) + this.eol;
  }

  /** Requested columns that no record had (only meaningful with --columns). */
  missingColumns(): string[] {
    if (!this.select) return [];
    const seen = new Set(this.discovered);
    return [...this.select.keys()].filter((c) => !seen.has(c));
  }

  quote(s: string): string {
    return this.needsQuotes.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  private child(parent: ColumnNode, key: string): ColumnNode {
    if (this.latin1) {
      const l1 = (parent.latin1Children ??= new Map());
      let node = l1.get(key);
      if (node === undefined) {
        node = this.childByKey(parent, fromLatin1(key));
        l1.set(key, node);
      }
      return node;
    }
    return this.childByKey(parent, key);
  }

  private childByKey(parent: ColumnNode, key: string): ColumnNode {
    const children = (parent.children ??= new Map());
    let node = children.get(key);
    if (node === undefined) {
      const name = parent === this.root ? key : `${parent.name}.${key}`;
      node = { name, slot: -1, money: false, children: null, latin1Children: null };
      children.set(key, node);
    }
    return node;
  }

  /** A string value as a CSV field: re-decoded if it came latin1-decoded, quoted if needed. */
  private text(v: string): string {
    if (this.latin1) {
      if (!this.needsWorkLatin1.test(v)) return v;
      v = fromLatin1(v);
    }
    return this.needsQuotes.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }

  /** Gives the node an output slot the first time it holds a value. */
  private register(node: ColumnNode): void {
    if (node.slot !== -1) return;
    this.discovered.push(node.name);
    node.money = this.rubles && this.money.has(node.name);
    if (this.select) {
      node.slot = this.select.get(node.name) ?? -2; // -2: known, not selected
      return;
    }
    node.slot = this.columnCount++;
    this.names.push(node.name);
    this.cells.push('');
  }

  private setCell(node: ColumnNode, text: string): void {
    if (node.slot === -1) this.register(node);
    const slot = node.slot;
    if (slot < 0) return;
    this.cells[slot] = text;
    this.touched.push(slot);
  }

  private walk(obj: Record<string, unknown>, node: ColumnNode, skipKey: string | undefined): void {
    for (const key in obj) {
      if (key === skipKey) continue;
      const v = obj[key];
      const child = this.child(node, key);
      if (typeof v === 'string') {
        this.setCell(child, this.text(v));
      } else if (typeof v === 'number') {
        if (child.slot === -1) this.register(child);
        this.setCell(child, child.money ? formatRubles(v) : String(v));
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        if (key === 'meta') this.meta(child, v as Record<string, unknown>);
        else this.walk(v as Record<string, unknown>, child, undefined);
      } else {
        this.scalar(child, v);
      }
    }
  }

  /** `meta` → `<prefix>meta.id` and `<prefix>meta.type` (the nodes are cached on the meta node). */
  private meta(node: ColumnNode, meta: Record<string, unknown>): void {
    const idNode = (node.idNode ??= this.childByKey(node, 'id'));
    const typeNode = (node.typeNode ??= this.childByKey(node, 'type'));
    this.setCell(idNode, this.text(hrefId(meta['href'])));
    const type = meta['type'];
    this.scalar(typeNode, type === undefined ? null : type);
  }

  private scalar(node: ColumnNode, v: unknown): void {
    if (v === null) {
      this.setCell(node, '');
    } else if (typeof v === 'string') {
      this.setCell(node, this.text(v));
    } else if (typeof v === 'number') {
      if (node.slot === -1) this.register(node);
      this.setCell(node, node.money ? formatRubles(v) : String(v));
    } else if (typeof v === 'boolean') {
      this.setCell(node, v ? 'true' : 'false');
    } else {
      // Arrays that are not exploded (and objects in odd places): one JSON cell.
      this.setCell(node, this.text(JSON.stringify(v)));
    }
  }

  private emitLine(): void {
    const epochs = this.epochs;
    const last = epochs[epochs.length - 1];
    if (last === undefined || last[1] !== this.columnCount) epochs.push([this.lines, this.columnCount]);
    this.batch += this.cells.join(this.delimiter) + this.eol;
    this.lines++;
  }

  private clearTouched(from: number): void {
    const { touched, cells } = this;
    for (let k = from; k < touched.length; k++) cells[touched[k]!] = '';
    touched.length = from;
  }

  /**
   * Adds one record (as JSON.parse gives it): one line, or one per exploded element. `latin1`:
   * the record was parsed from UTF-8 bytes decoded as latin1 (each byte one char), which makes
   * decoding and JSON.parse about twice as fast; strings and keys are re-decoded here, only when
   * they have non-ASCII chars. The caller guarantees no \\u escape ≥ U+0080 in such text.
   */
  add(record: unknown, latin1 = false): void {
    this.latin1 = latin1;
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      this.scalar(this.child(this.root, 'value'), record);
      this.emitLine();
      this.clearTouched(0);
      return;
    }
    const obj = record as Record<string, unknown>;
    const explode = this.explode;
    const items = explode === undefined ? undefined : obj[explode];
    if (!Array.isArray(items)) {
      this.walk(obj, this.root, undefined);
      this.emitLine();
      this.clearTouched(0);
      return;
    }
    this.walk(obj, this.root, explode);
    const node = this.child(this.root, explode!);
    const parentCells = this.touched.length;
    if (items.length === 0) {
      this.emitLine();
    } else {
      for (const item of items) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          this.walk(item as Record<string, unknown>, node, undefined);
        } else {
          this.scalar(node, item);
        }
        this.emitLine();
        this.clearTouched(parentCells);
      }
    }
    this.clearTouched(0);
  }

  takeBatch(): string {
    const b = this.batch;
    this.batch = '';
    return b;
  }
}
