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
import { JsonSyntaxError, SPACES8, skipNumber, skipValidated, viewOf, type CopyTarget } from './scan.js';

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
  /** Byte-level flattening (addBytes): see ByteNode. */
  b?: ByteNode;
}

/**
 * What addBytes keeps on a column node: the key's bytes as last seen, the sibling that followed it
 * last time (records of one report share their shape, so the next key is nearly always predicted
 * by one byte comparison instead of a string allocation and a Map lookup), and the object-instance
 * stamp that detects duplicate keys.
 */
interface ByteNode {
  key: Uint8Array;
  /** 1: the key is `meta`, 2: the exploded array (top level), 3: an array index (JSON.parse reorders those). */
  role: number;
  next: ColumnNode | null;
  first: ColumnNode | null;
  stamp: number;
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

// addBytes' cell kinds.
const K_EMPTY = 0;
const K_RANGE = 1; // input bytes as they are
const K_QRANGE = 2; // input bytes in quotes (they hold the delimiter)
const K_NUM = 3; // a number's bytes (canonical ones as they are)
const K_STR = 4; // a JS string, CSV-ready
const K_TRUE = 5;
const K_FALSE = 6;
const K_LINE = 7; // (op only) end of a line
const ROLE_META = 1;
const ROLE_EXPLODE = 2;
const ROLE_INDEX = 3;
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');
const NULL_BYTES = Buffer.from('null');

function isSpaceByte(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the first non-whitespace byte at or after i (end at most); indentation 4 bytes at a time. */
function ws(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c > 0x20) return i;
    if (c === 0x0a) {
      i++;
      const view = viewOf(b);
      while (i + 8 <= end && view.getFloat64(i, true) === SPACES8) i += 8;
      if (i + 4 <= end && view.getInt32(i, true) === 0x20202020) i += 4;
    } else if (c === 0x20 || c === 0x0d || c === 0x09) {
      i++;
    } else {
      return i;
    }
  }
  return i;
}

/** End of the valid JSON value at b[i] within end, or -1. */
function validEnd(b: Buffer, i: number, end: number): number {
  try {
    return skipValidated(b, i, end);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return -1;
    throw err;
  }
}

/** A meta key without escapes: 'href', 'type', or '' for any other. */
function keyOf(b: Buffer, s: number, e: number): string {
  if (e - s !== 4) return '';
  const c0 = b[s];
  if (c0 === 0x68 && b[s + 1] === 0x72 && b[s + 2] === 0x65 && b[s + 3] === 0x66) return 'href';
  if (c0 === 0x74 && b[s + 1] === 0x79 && b[s + 2] === 0x70 && b[s + 3] === 0x65) return 'type';
  return '';
}

/**
 * Whether the (valid) JSON number b[s, e) prints as itself after JSON.parse + String(): no
 * exponent, no trailing zero in the fraction, not negative zero, at most 15 significant digits
 * (a decimal of ≤ 15 digits is the shortest that round-trips through its double, so String()
 * gives back exactly those digits) and at least 1e-6 (below that String() uses an exponent).
 */
export function canonicalNumber(b: Uint8Array, s: number, e: number): boolean {
  const negative = b[s] === 0x2d;
  if (negative) s++;
  let k = s;
  while (k < e && b[k]! >= 0x30 && b[k]! <= 0x39) k++;
  const intLen = k - s;
  const zeroInt = b[s] === 0x30; // then intLen is 1 (valid JSON)
  if (k === e) return intLen <= 15 && !(zeroInt && negative);
  if (b[k] !== 0x2e) return false; // an exponent
  const f = k + 1;
  k = f;
  while (k < e && b[k]! >= 0x30 && b[k]! <= 0x39) k++;
  if (k !== e || b[e - 1] === 0x30) return false;
  if (!zeroInt) return intLen + (e - f) <= 15;
  let z = f;
  while (b[z] === 0x30) z++;
  return z - f <= 5 && e - z <= 15;
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
    const dc = options.delimiter.charCodeAt(0);
    this.delimByte = dc < 0x80 && dc !== 0x5c ? dc : -1;
    this.delimWord = this.delimByte < 0 ? 0 : Math.imul(this.delimByte, 0x01010101);
    this.eolBytes = Buffer.from(this.eol, 'latin1');
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

  // ---------------------------------------------------------------------------------------------
  // Byte-level flattening: the CSV fast path. addBytes reads one record's JSON bytes and writes its
  // lines straight into `out`, without JSON.parse, strings or the `cells` array: cell values are
  // byte ranges of the input (a string without escapes is its own UTF-8 text). It gives exactly
  // what add(JSON.parse(record)) gives; whatever it does not handle the same way (duplicate keys:
  // the last value wins at the first key's place; array-index keys: enumerated first; records that
  // are not objects; anything malformed: JSON.parse reports it) makes it return false *before*
  // anything is registered or written, and the caller takes the JSON.parse path for that record.
  // Pass 1 validates the record and lists its cells as ops in the order walk() would set them;
  // pass 2 registers columns and writes the lines.

  /** Where addBytes writes lines (set by the caller; it takes and resets `used`). */
  out: CopyTarget | null = null;
  /** -1 when the delimiter is not a plain ASCII byte (then addBytes is not used). */
  readonly delimByte: number;
  private readonly delimWord: number;
  private readonly eolBytes: Buffer;
  private stampCounter = 0;
  private outViewBuf: Buffer | null = null;
  private outView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private explodeItems = -1;
  private explodeEnd = -1;
  // Pass 1's ops: node (null: end of a line), kind, byte range or string.
  private opNode: Array<ColumnNode | null> = [];
  private opKind = new Uint8Array(256);
  private opS = new Int32Array(256);
  private opE = new Int32Array(256);
  private opStr: Array<string | null> = [];
  private nOps = 0;
  /** Ops before this index are the parent's, the rest the exploded items'. */
  private parentOps = 0;
  // Pass 2's cells by slot.
  private cellKind = new Uint8Array(64);
  private cellS = new Int32Array(64);
  private cellE = new Int32Array(64);
  private cellStr: Array<string | null> = [];
  private readonly bTouched: number[] = [];
  /** Set by bStr: the string had a backslash / the delimiter byte. */
  private sEsc = false;
  private sDelim = false;

  /** Whether addBytes can be used with these options. */
  get bytesPath(): boolean {
    return this.delimByte >= 0;
  }

  /**
   * Flattens the record b[start, end) (a complete JSON value, as found by the scanner) into lines
   * appended to `out`. false: not done, nothing changed; use add(JSON.parse(...)) instead.
   */
  addBytes(b: Buffer, start: number, end: number): boolean {
    const i = ws(b, start, end);
    let e = end;
    while (e > i && isSpaceByte(b[e - 1]!)) e--;
    return i < e && b[i] === 0x7b && this.flattenAt(b, i, e, true) === e;
  }

  /**
   * Flattens the object record at b[i] ('{'), which may end anywhere before end (`whole`: exactly
   * at end), into lines
   * appended to `out`. Returns the index after the record, or -1: not done, nothing changed
   * (the record is malformed, incomplete in b, or not for this path: see above).
   */
  flattenAt(b: Buffer, i: number, end: number, whole = false): number {
    this.nOps = 0;
    this.explodeItems = -1;
    i = this.bObject(b, i, end, this.root, 0);
    if (i < 0 || (whole && i !== end)) return -1;
    if (this.explodeItems < 0) {
      this.parentOps = this.nOps;
      this.op(null, K_LINE, 0, 0, null);
    } else {
      if (this.explodeEnd < this.nOps) this.rotateOps(this.explodeItems, this.explodeEnd, this.nOps);
      this.parentOps = this.explodeItems + this.nOps - this.explodeEnd;
    }
    this.emitOps(b);
    return i;
  }

  private op(node: ColumnNode | null, kind: number, s: number, e: number, str: string | null): void {
    const n = this.nOps++;
    if (n >= this.opKind.length) {
      const grow = <T extends Uint8Array | Int32Array>(a: T, make: (len: number) => T): T => {
        const bigger = make(a.length * 2);
        bigger.set(a);
        return bigger;
      };
      this.opKind = grow(this.opKind, (len) => new Uint8Array(len));
      this.opS = grow(this.opS, (len) => new Int32Array(len));
      this.opE = grow(this.opE, (len) => new Int32Array(len));
    }
    this.opNode[n] = node;
    this.opKind[n] = kind;
    this.opS[n] = s;
    this.opE[n] = e;
    this.opStr[n] = str;
  }

  /**
   * The string whose body starts at i: index of its closing quote, or -1 if malformed. Sets sEsc
   * and sDelim. Four bytes at a time while none is a control char, quote, backslash or the
   * delimiter (exact has-zero-byte tests; UTF-8 bytes pass).
   */
  private bStr(b: Buffer, i: number, end: number): number {
    this.sEsc = false;
    this.sDelim = false;
    const view = viewOf(b);
    const dw = this.delimWord;
    for (;;) {
      while (i + 4 <= end) {
        const w = view.getInt32(i, true);
        const q = w ^ 0x22222222;
        const bs = w ^ 0x5c5c5c5c;
        const d = w ^ dw;
        if (((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs) | ((d - 0x01010101) & ~d)) & 0x80808080) !== 0) break;
        i += 4;
      }
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x22) return i;
      i++;
      if (c >= 0x80) continue;
      if (c < 0x20) return -1;
      if (c === this.delimByte) {
        this.sDelim = true;
      } else if (c === 0x5c) {
        this.sEsc = true;
        if (i >= end) return -1;
        const e = b[i++]!;
        if (e === 0x75) {
          if (i + 4 > end) return -1;
          for (let k = 0; k < 4; k++, i++) {
            const h = b[i]!;
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) return -1;
          }
        } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
          return -1;
        }
      }
    }
  }

  /** The node for the key b[ks, ke) under parent, predicted from the previous sibling when possible. */
  private bChild(parent: ColumnNode, prev: ColumnNode | null, b: Buffer, ks: number, ke: number): ColumnNode {
    const guess = prev === null ? (parent.b?.first ?? null) : prev.b!.next;
    if (guess !== null) {
      const key = guess.b!.key;
      const n = ke - ks;
      if (key.length === n) {
        let k = 0;
        while (k < n && key[k] === b[ks + k]) k++;
        if (k === n) return guess;
      }
    }
    const text = this.sEsc ? (JSON.parse(b.toString('utf8', ks - 1, ke + 1)) as string) : b.toString('utf8', ks, ke);
    const node = this.childByKey(parent, text);
    if (node.b === undefined) {
      let role = 0;
      if (text === 'meta') role = ROLE_META;
      else if (parent === this.root && text === this.explode) role = ROLE_EXPLODE;
      else if (ARRAY_INDEX.test(text) && Number(text) < 4294967295) role = ROLE_INDEX;
      node.b = { key: Uint8Array.prototype.slice.call(b, ks, ke), role, next: null, first: null, stamp: 0 };
    }
    if (prev === null) (parent.b ??= { key: new Uint8Array(0), role: 0, next: null, first: null, stamp: 0 }).first = node;
    else prev.b!.next = node;
    return node;
  }

  /** The object at b[i] ('{'), its values as ops under node. Index after it, or -1. */
  private bObject(b: Buffer, i: number, end: number, node: ColumnNode, depth: number): number {
    if (depth > 64) return -1;
    const stamp = ++this.stampCounter;
    i++;
    i = ws(b, i, end);
    if (i >= end) return -1;
    if (b[i] === 0x7d) return i + 1;
    let prev: ColumnNode | null = null;
    for (;;) {
      if (b[i] !== 0x22) return -1;
      const ke = this.bStr(b, i + 1, end);
      if (ke < 0) return -1;
      const child = this.bChild(node, prev, b, i + 1, ke);
      const nb = child.b!;
      if (nb.stamp === stamp || nb.role === ROLE_INDEX) return -1;
      nb.stamp = stamp;
      prev = child;
      i = ke + 1;
      i = ws(b, i, end);
      if (i >= end || b[i] !== 0x3a) return -1;
      i++;
      i = ws(b, i, end);
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x7b) {
        i = nb.role === ROLE_META ? this.bMeta(b, i, end, child) : this.bObject(b, i, end, child, depth + 1);
      } else if (c === 0x5b && nb.role === ROLE_EXPLODE) {
        // The exploded array: its items' ops now, moved after the parent's later fields at the end
        // (walk's order).
        this.explodeItems = this.nOps;
        i = this.bItems(b, i, end, child);
        this.explodeEnd = this.nOps;
      } else {
        i = this.bScalar(b, i, end, child);
      }
      if (i < 0) return -1;
      i = ws(b, i, end);
      if (i >= end) return -1;
      const d = b[i++]!;
      if (d === 0x7d) return i;
      if (d !== 0x2c) return -1;
      i = ws(b, i, end);
      if (i >= end) return -1;
    }
  }

  /** A value that is not walked into (walk's `scalar` cases, and strings and numbers) as one op. */
  private bScalar(b: Buffer, i: number, end: number, node: ColumnNode): number {
    const c = b[i]!;
    if (c === 0x22) {
      const e = this.bStr(b, i + 1, end);
      if (e < 0) return -1;
      if (this.sEsc) this.op(node, K_STR, 0, 0, this.quoteText(JSON.parse(b.toString('utf8', i, e + 1)) as string));
      else this.op(node, this.sDelim ? K_QRANGE : K_RANGE, i + 1, e, null);
      return e + 1;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let e: number;
      try {
        e = skipNumber(b, i, end);
      } catch (err) {
        if (err instanceof JsonSyntaxError) return -1;
        throw err;
      }
      if (e < 0) return -1;
      this.op(node, K_NUM, i, e, null);
      return e;
    }
    if (c === 0x74) return this.bLiteral(b, i, end, TRUE_BYTES, node, K_TRUE);
    if (c === 0x66) return this.bLiteral(b, i, end, FALSE_BYTES, node, K_FALSE);
    if (c === 0x6e) return this.bLiteral(b, i, end, NULL_BYTES, node, K_EMPTY);
    if (c === 0x5b || c === 0x7b) {
      // An array that is not exploded (or an object where scalar() takes one): one JSON cell.
      const e = validEnd(b, i, end);
      if (e < 0) return -1;
      this.op(node, K_STR, 0, 0, this.quoteText(JSON.stringify(JSON.parse(b.toString('utf8', i, e)))));
      return e;
    }
    return -1;
  }

  /** Validates the value at b[i] without ops; index after it, or -1. */
  private bSkip(b: Buffer, i: number, end: number): number {
    const c = b[i]!;
    if (c === 0x22) {
      const e = this.bStr(b, i + 1, end);
      return e < 0 ? -1 : e + 1;
    }
    if (c === 0x7b || c === 0x5b) return validEnd(b, i, end);
    const n = this.nOps;
    i = this.bScalar(b, i, end, this.root);
    this.nOps = n;
    return i;
  }

  private bLiteral(b: Buffer, i: number, end: number, lit: Uint8Array, node: ColumnNode, kind: number): number {
    if (i + lit.length > end) return -1;
    for (let k = 0; k < lit.length; k++) if (b[i + k] !== lit[k]) return -1;
    this.op(node, kind, 0, 0, null);
    return i + lit.length;
  }

  /** A `meta` object: ops for `<node>.id` (from href) and `<node>.type`, the rest only validated. */
  private bMeta(b: Buffer, i: number, end: number, node: ColumnNode): number {
    const idNode = (node.idNode ??= this.childByKey(node, 'id'));
    const typeNode = (node.typeNode ??= this.childByKey(node, 'type'));
    let hrefS = -1;
    let hrefE = -1;
    let hrefEsc = false;
    let hrefSeen = false;
    const typeOp = this.nOps;
    let typeSeen = false;
    i++;
    i = ws(b, i, end);
    if (i >= end) return -1;
    if (b[i] !== 0x7d) {
      for (;;) {
        if (b[i] !== 0x22) return -1;
        const ke = this.bStr(b, i + 1, end);
        if (ke < 0) return -1;
        const key = this.sEsc ? (JSON.parse(b.toString('utf8', i, ke + 1)) as string) : keyOf(b, i + 1, ke);
        // (keyOf gives '' for keys other than href and type, which are only validated)
        i = ke + 1;
        i = ws(b, i, end);
        if (i >= end || b[i] !== 0x3a) return -1;
        i++;
        i = ws(b, i, end);
        if (i >= end) return -1;
        if (key === 'href') {
          if (hrefSeen) return -1; // a duplicate: the last one wins in JSON.parse
          hrefSeen = true;
          if (b[i] === 0x22) {
            const e = this.bStr(b, i + 1, end);
            if (e < 0) return -1;
            hrefS = i + 1;
            hrefE = e;
            hrefEsc = this.sEsc;
            i = e + 1;
          } else {
            i = validEnd(b, i, end);
          }
        } else if (key === 'type') {
          if (typeSeen) return -1;
          typeSeen = true;
          i = this.bScalar(b, i, end, typeNode); // the one op at typeOp (moved after id's below)
        } else {
          i = this.bSkip(b, i, end);
        }
        if (i < 0) return -1;
        i = ws(b, i, end);
        if (i >= end) return -1;
        const d = b[i++]!;
        if (d === 0x7d) break;
        if (d !== 0x2c) return -1;
        i = ws(b, i, end);
        if (i >= end) return -1;
      }
    } else {
      i++;
    }
    // id first, then type (meta()'s order), whatever the order in the file.
    let typeKind = K_EMPTY;
    let typeS = 0;
    let typeE = 0;
    let typeStr: string | null = null;
    if (typeSeen) {
      typeKind = this.opKind[typeOp]!;
      typeS = this.opS[typeOp]!;
      typeE = this.opE[typeOp]!;
      typeStr = this.opStr[typeOp]!;
      this.nOps = typeOp;
    }
    if (hrefS < 0) {
      this.op(idNode, K_EMPTY, 0, 0, null);
    } else if (hrefEsc) {
      this.op(idNode, K_STR, 0, 0, this.quoteText(hrefId(JSON.parse(b.toString('utf8', hrefS - 1, hrefE + 1)))));
    } else {
      // hrefId on the bytes: '?', '#' and '/' are ASCII, never inside a UTF-8 sequence.
      let e = hrefS;
      while (e < hrefE && b[e] !== 0x3f && b[e] !== 0x23) e++;
      while (e > hrefS && b[e - 1] === 0x2f) e--;
      let s = e;
      while (s > hrefS && b[s - 1] !== 0x2f) s--;
      let delim = false;
      for (let k = s; k < e; k++) if (b[k] === this.delimByte) delim = true;
      this.op(idNode, delim ? K_QRANGE : K_RANGE, s, e, null);
    }
    this.op(typeNode, typeKind, typeS, typeE, typeStr);
    return i;
  }

  /** The exploded array at b[i] ('['): each item's ops and a line end, or one line if empty. */
  private bItems(b: Buffer, i: number, end: number, node: ColumnNode): number {
    i++;
    i = ws(b, i, end);
    if (i >= end) return -1;
    if (b[i] === 0x5d) {
      this.op(null, K_LINE, 0, 0, null);
      return i + 1;
    }
    for (;;) {
      i = b[i] === 0x7b ? this.bObject(b, i, end, node, 1) : this.bScalar(b, i, end, node);
      if (i < 0) return -1;
      this.op(null, K_LINE, 0, 0, null);
      i = ws(b, i, end);
      if (i >= end) return -1;
      const d = b[i++]!;
      if (d === 0x5d) return i;
      if (d !== 0x2c) return -1;
      i = ws(b, i, end);
      if (i >= end) return -1;
    }
  }

  /** Ops [a, m) and [m, n) swap places. */
  private rotateOps(a: number, m: number, n: number): void {
    const take = <T>(get: (k: number) => T): T[] => {
      const r: T[] = [];
      for (let k = a; k < m; k++) r.push(get(k));
      return r;
    };
    const nodes = take((k) => this.opNode[k]!);
    const kinds = take((k) => this.opKind[k]!);
    const ss = take((k) => this.opS[k]!);
    const es = take((k) => this.opE[k]!);
    const strs = take((k) => this.opStr[k]!);
    let o = a;
    for (let k = m; k < n; k++, o++) {
      this.opNode[o] = this.opNode[k]!;
      this.opKind[o] = this.opKind[k]!;
      this.opS[o] = this.opS[k]!;
      this.opE[o] = this.opE[k]!;
      this.opStr[o] = this.opStr[k]!;
    }
    for (let k = 0; k < nodes.length; k++, o++) {
      this.opNode[o] = nodes[k]!;
      this.opKind[o] = kinds[k]!;
      this.opS[o] = ss[k]!;
      this.opE[o] = es[k]!;
      this.opStr[o] = strs[k]!;
    }
  }

  private quoteText(v: string): string {
    return this.needsQuotes.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }

  /** Pass 2: registers columns in op order and writes the lines (add()'s logic on byte cells). */
  private emitOps(b: Buffer): void {
    let parentTouched = -1;
    const n = this.nOps;
    for (let k = 0; k < n; k++) {
      if (k === this.parentOps && this.explodeItems >= 0) parentTouched = this.bTouched.length;
      const node = this.opNode[k]!;
      if (node === null) {
        this.emitBytesLine(b);
        this.clearCells(parentTouched < 0 ? 0 : parentTouched);
        continue;
      }
      if (node.slot === -1) this.register(node);
      const slot = node.slot;
      if (slot < 0) continue;
      if (slot >= this.cellKind.length) this.growCells(slot + 1);
      let kind = this.opKind[k]!;
      let str = this.opStr[k]!;
      const s = this.opS[k]!;
      const e = this.opE[k]!;
      if (kind === K_NUM) {
        if (node.money) {
          kind = K_STR;
          str = formatRubles(Number(b.toString('latin1', s, e)));
        } else if (!canonicalNumber(b, s, e)) {
          kind = K_STR;
          str = String(Number(b.toString('latin1', s, e)));
        }
      }
      this.cellKind[slot] = kind;
      this.cellS[slot] = s;
      this.cellE[slot] = e;
      this.cellStr[slot] = str;
      this.bTouched.push(slot);
    }
    this.clearCells(0);
  }

  private growCells(n: number): void {
    const len = Math.max(n, this.cellKind.length * 2);
    const kind = new Uint8Array(len);
    kind.set(this.cellKind);
    this.cellKind = kind;
    const s = new Int32Array(len);
    s.set(this.cellS);
    this.cellS = s;
    const e = new Int32Array(len);
    e.set(this.cellE);
    this.cellE = e;
  }

  private clearCells(from: number): void {
    const t = this.bTouched;
    for (let k = from; k < t.length; k++) {
      this.cellKind[t[k]!] = K_EMPTY;
      this.cellStr[t[k]!] = null;
    }
    t.length = from;
  }

  private emitBytesLine(b: Buffer): void {
    const epochs = this.epochs;
    const last = epochs[epochs.length - 1];
    const count = this.columnCount;
    if (last === undefined || last[1] !== count) epochs.push([this.lines, count]);
    if (count > this.cellKind.length) this.growCells(count);
    const { cellKind, cellS, cellE, cellStr } = this;
    // Room for the line: an upper bound first.
    let need = count + this.eolBytes.length;
    for (let k = 0; k < count; k++) {
      const kind = cellKind[k]!;
      if (kind === K_RANGE || kind === K_NUM) need += cellE[k]! - cellS[k]!;
      else if (kind === K_QRANGE) need += cellE[k]! - cellS[k]! + 2;
      else if (kind === K_STR) need += cellStr[k]!.length * 3;
      else need += 5;
    }
    const out = this.out!;
    if (out.buf.length - out.used < need) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(out.buf.length * 2, out.used + need));
      out.buf.copy(bigger, 0, 0, out.used);
      out.buf = bigger;
    }
    const ob = out.buf;
    let o = out.used;
    const iv = viewOf(b);
    if (this.outViewBuf !== ob) {
      this.outViewBuf = ob;
      this.outView = new DataView(ob.buffer, ob.byteOffset, ob.byteLength);
    }
    const ov = this.outView;
    const delim = this.delimByte;
    for (let k = 0; k < count; k++) {
      if (k > 0) ob[o++] = delim;
      const kind = cellKind[k]!;
      if (kind === K_EMPTY) continue;
      if (kind === K_RANGE || kind === K_NUM || kind === K_QRANGE) {
        let s = cellS[k]!;
        const e = cellE[k]!;
        if (kind === K_QRANGE) ob[o++] = 0x22;
        if (e - s > 96) {
          o += b.copy(ob, o, s, e);
        } else {
          while (s + 4 <= e) {
            ov.setInt32(o, iv.getInt32(s, true), true);
            s += 4;
            o += 4;
          }
          while (s < e) ob[o++] = b[s++]!;
        }
        if (kind === K_QRANGE) ob[o++] = 0x22;
      } else if (kind === K_STR) {
        o += ob.write(cellStr[k]!, o, 'utf8');
      } else if (kind === K_TRUE) {
        ob[o++] = 0x74;
        ob[o++] = 0x72;
        ob[o++] = 0x75;
        ob[o++] = 0x65;
      } else {
        ob[o++] = 0x66;
        ob[o++] = 0x61;
        ob[o++] = 0x6c;
        ob[o++] = 0x73;
        ob[o++] = 0x65;
      }
    }
    const eol = this.eolBytes;
    for (let k = 0; k < eol.length; k++) ob[o++] = eol[k]!;
    out.used = o;
    this.lines++;
  }

  takeBatch(): string {
    const b = this.batch;
    this.batch = '';
    return b;
  }
}
