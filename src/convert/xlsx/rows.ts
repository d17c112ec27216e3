/**
 * Records → typed XLSX rows, with the CSV's columns (README.md, "Output formats"): the same
 * flattening (dotted names, `meta` → `meta.id` + `meta.type`, the catalogue's detail array
 * exploded, other arrays one JSON cell), the same first-appearance column order and `--columns`.
 * What differs is that each cell keeps its JSON type: numbers as numbers (their JSON text), money
 * columns in rubles with a money format, moment columns as date-times, booleans as booleans, every
 * string as text.
 */
import {
  COLLECTION_SIZE,
  columnName,
  formatRubles,
  hrefId,
  isCollectionMeta,
  JsonNumber,
  rublesText,
} from '../csv-rules.js';
import { stringifyExact } from '../exact-json.js';
import type { XlsxWriter } from './workbook.js';

const K_EMPTY = 0;
const K_TEXT = 1;
const K_NUMBER = 2;
const K_MONEY = 3;
const K_MOMENT = 4;
const K_TRUE = 5;
const K_FALSE = 6;
/** A number a double cannot hold, kept as its JSON text by markLongNumbers (index.ts). */
const LONG_NUMBER_MARK = /^\0-?\d/;
/** A marked long number as JSON.stringify writes it: `"\u0000123.45678901234567"`. */
const MARKED_IN_JSON = /"\\u0000(-?[0-9][0-9.eE+-]*)"/g;

interface Column {
  name: string;
  /** Output position; -1 until it holds a value, -2 when `--columns` leaves it out. */
  slot: number;
  money: boolean;
  moment: boolean;
  children: Map<string, Column> | null;
  /** The same children keyed by their latin1-decoded UTF-8 bytes (see add's latin1 flag). */
  latin1Children: Map<string, Column> | null;
}

const NON_ASCII = /[\x80-\xff]/;

/** Re-decodes a string whose chars are UTF-8 bytes (latin1-decoded text) when it has any. */
function fromLatin1(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

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

export class XlsxRows {
  /** Column names by slot. */
  readonly names: string[] = [];
  readonly discovered: string[] = [];
  lines = 0;
  private readonly root: Column = {
    name: '',
    slot: -1,
    money: false,
    moment: false,
    children: new Map(),
    latin1Children: null,
  };
  /** The record being added was parsed from latin1-decoded UTF-8 (index.ts, parseBatch). */
  private latin1 = false;
  private readonly select: Map<string, number> | null;
  private readonly money: ReadonlySet<string>;
  private readonly explode: string | undefined;
  private kinds = new Uint8Array(64);
  private readonly values: string[] = [];
  private readonly touched: number[] = [];

  constructor(
    private readonly writer: XlsxWriter,
    private readonly options: XlsxRowsOptions,
    report: { explode?: string | undefined; money?: readonly string[] } = {},
  ) {
    this.money = new Set(report.money ?? []);
    this.explode = report.explode;
    if (options.columns) {
      this.select = new Map(options.columns.map((c, k) => [c, k]));
      this.names.push(...options.columns);
    } else {
      this.select = null;
    }
  }

  /** `--columns` names that no record had. */
  missingColumns(): string[] {
    if (!this.select) return [];
    const seen = new Set(this.discovered);
    return [...this.select.keys()].filter((c) => !seen.has(c));
  }

  private child(parent: Column, key: string): Column {
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

  private childByKey(parent: Column, key: string): Column {
    const children = (parent.children ??= new Map());
    let node = children.get(key);
    if (node === undefined) {
      const name = columnName(parent === this.root ? null : parent.name, key);
      node = { name, slot: -1, money: false, moment: false, children: null, latin1Children: null };
      children.set(key, node);
    }
    return node;
  }

  private register(node: Column): void {
    this.discovered.push(node.name);
    node.money = this.money.has(node.name);
    node.moment = isMomentColumn(node.name);
    if (this.select) {
      node.slot = this.select.get(node.name) ?? -2;
      return;
    }
    node.slot = this.names.length;
    this.names.push(node.name);
  }

  private set(node: Column, kind: number, value: string): void {
    if (node.slot === -1) this.register(node);
    const slot = node.slot;
    if (slot < 0) return;
    if (slot >= this.kinds.length) {
      const bigger = new Uint8Array(Math.max(slot + 1, this.kinds.length * 2));
      bigger.set(this.kinds);
      this.kinds = bigger;
    }
    this.kinds[slot] = kind;
    this.values[slot] = value;
    this.touched.push(slot);
  }

  private scalar(node: Column, v: unknown): void {
    if (v === null || v === undefined) {
      this.set(node, K_EMPTY, '');
    } else if (typeof v === 'string') {
      if (v.charCodeAt(0) === 0 && LONG_NUMBER_MARK.test(v)) {
        this.inexact(node, v.slice(1));
        return;
      }
      if (node.slot === -1) this.register(node);
      this.set(node, node.moment ? K_MOMENT : K_TEXT, this.latin1 ? fromLatin1(v) : v);
    } else if (typeof v === 'number') {
      this.number(node, v, String(v));
    } else if (v instanceof JsonNumber) {
      // The stream-json engine's numbers (index.ts sets exactNumbers): their JSON text.
      if (fitsNumberCell(v.text)) this.number(node, Number(v.text), v.text);
      else this.inexact(node, v.text);
    } else if (typeof v === 'boolean') {
      this.set(node, v ? K_TRUE : K_FALSE, '');
    } else {
      // Arrays that are not exploded (and objects in odd places): one JSON text cell.
      // JSON.stringify leaves chars ≥ U+0080 as they are, so latin1 text re-decodes as a whole.
      // Long numbers inside were marked as strings (index.ts, markLongNumbers): back to their text,
      // or a fractional-kopeck price in salePrices[] shows as "\u0000…" (docs/api-facts.md §10.3).
      const json = stringifyExact(v).replace(MARKED_IN_JSON, '$1');
      this.set(node, K_TEXT, this.latin1 ? fromLatin1(json) : json);
    }
  }

  /** `text`: the number's JSON text, or its shortest text when parsed by JSON.parse. */
  private number(node: Column, v: number, text: string): void {
    if (node.slot === -1) this.register(node);
    if (node.money && this.options.rubles) this.set(node, K_MONEY, formatRubles(v));
    else this.set(node, K_NUMBER, text);
  }

  /** A number a number cell would change (fitsNumberCell): a text cell, its exact text, in rubles if money. */
  private inexact(node: Column, text: string): void {
    if (node.slot === -1) this.register(node);
    this.set(node, K_TEXT, node.money && this.options.rubles ? rublesText(text) : text);
  }

  private walk(obj: Record<string, unknown>, node: Column, skipKey: string | undefined): void {
    for (const key in obj) {
      if (key === skipKey) continue;
      const v = obj[key];
      const child = this.child(node, key);
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber)) {
        if (key === 'meta') this.meta(child, v as Record<string, unknown>, node);
        else this.walk(v as Record<string, unknown>, child, undefined);
      } else {
        this.scalar(child, v);
      }
    }
  }

  private meta(node: Column, meta: Record<string, unknown>, parent: Column): void {
    // A collection's meta gives its size, as in the CSV (csv-rules.ts isCollectionMeta).
    if (isCollectionMeta(meta['size'])) {
      this.scalar(this.child(parent, COLLECTION_SIZE), meta['size']);
      return;
    }
    this.scalar(this.child(node, 'id'), hrefId(meta['href']));
    this.scalar(this.child(node, 'type'), meta['type'] ?? null);
  }

  private emit(): void {
    const w = this.writer;
    const { kinds, values } = this;
    const n = this.names.length;
    w.beginRow();
    for (let slot = 0; slot < n; slot++) {
      const kind = kinds[slot]!;
      if (kind === K_EMPTY) continue;
      const value = values[slot]!;
      if (kind === K_TEXT) w.text(slot, value);
      else if (kind === K_NUMBER) w.number(slot, value);
      else if (kind === K_MONEY) w.money(slot, value);
      else if (kind === K_MOMENT) w.moment(slot, value);
      else w.boolean(slot, kind === K_TRUE);
    }
    w.endRow();
    this.lines++;
  }

  private clear(from: number): void {
    const { touched, kinds } = this;
    for (let k = from; k < touched.length; k++) kinds[touched[k]!] = K_EMPTY;
    touched.length = from;
  }

  /**
   * One record (as JSON.parse gives it): one row, or one per exploded element. `latin1`: it was
   * parsed from UTF-8 bytes decoded as latin1; strings and keys are re-decoded here.
   */
  add(record: unknown, latin1 = false): void {
    this.latin1 = latin1;
    if (record === null || typeof record !== 'object' || Array.isArray(record) || record instanceof JsonNumber) {
      this.scalar(this.child(this.root, 'value'), record);
      this.emit();
      this.clear(0);
      return;
    }
    const obj = record as Record<string, unknown>;
    const explode = this.explode;
    const items = explode === undefined ? undefined : obj[explode];
    if (!Array.isArray(items)) {
      this.walk(obj, this.root, undefined);
      this.emit();
      this.clear(0);
      return;
    }
    this.walk(obj, this.root, explode);
    const node = this.child(this.root, explode!);
    const parentCells = this.touched.length;
    if (items.length === 0) {
      this.emit();
    } else {
      for (const item of items) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof JsonNumber)) {
          this.walk(item as Record<string, unknown>, node, undefined);
        } else {
          this.scalar(node, item);
        }
        this.emit();
        this.clear(parentCells);
      }
    }
    this.clear(0);
  }
}
