/**
 * The object path: records as exact-json.ts or stream-json give them (numbers as JsonNumber, their
 * JSON text; plain JS numbers are taken too) → rows of typed cells
 * (columns.ts) by the rules of csv-rules.ts. Used for what the byte path (csv-bytes.ts) declines,
 * for delimiters it cannot use, for the stream-json engine (dashboards), and for every XLSX record
 * (xlsx/rows.ts).
 */
import {
  CELL_EMPTY,
  CELL_FALSE,
  CELL_JSON,
  CELL_NUMBER_TEXT,
  CELL_STRING,
  CELL_TRUE,
  type ColumnNode,
  type ColumnTable,
  type LineWriter,
} from './columns.js';
import { COLLECTION_SIZE, hrefId, isCollectionMeta, JsonNumber, numberValueText } from './csv-rules.js';
import { stringifyExact } from './exact-json.js';

/** Re-decodes a string whose chars are UTF-8 bytes (latin1-decoded text) when it has any. */
function fromLatin1(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}
const NON_ASCII = /[\x80-\xff]/;

/**
 * Whether the UTF-8 bytes b[start, end) may hold a \\u escape of a char ≥ U+0080, which
 * latin1-decoded text would turn into a real char that fromLatin1 then mangles: such text is
 * decoded as UTF-8 and added with latin1 false. False positives (an escaped backslash followed by u) only cost speed.
 */
export function hasWideEscape(b: Buffer, start: number, end: number): boolean {
  const region = b.subarray(start, end);
  let i = region.indexOf(BACKSLASH_U);
  while (i >= 0) {
    if (region[i + 2] !== 0x30 || region[i + 3] !== 0x30 || (region[i + 4] ?? 0) >= 0x38) return true;
    i = region.indexOf(BACKSLASH_U, i + 2);
  }
  return false;
}
const BACKSLASH_U = Buffer.from('\\u');

export class ObjectFlattener {
  /** The record being added was JSON.parse'd from latin1-decoded UTF-8 (see add). */
  private latin1 = false;

  constructor(
    private readonly table: ColumnTable,
    private readonly writer: LineWriter,
  ) {}

  /**
   * Adds one record: one line, or one per exploded element. `latin1`: the record was parsed from
   * UTF-8 bytes decoded as latin1 (each byte one char), which makes decoding and JSON.parse about
   * twice as fast; strings and keys are re-decoded here, only when they have non-ASCII chars. The
   * caller guarantees no \\u escape ≥ U+0080 in such text (hasWideEscape).
   */
  add(record: unknown, latin1 = false): void {
    this.latin1 = latin1;
    const table = this.table;
    const row = table.row;
    if (record === null || typeof record !== 'object' || Array.isArray(record) || record instanceof JsonNumber) {
      this.scalar(this.child(table.root, 'value'), record);
      table.emit(this.writer, null);
      row.clear(0);
      return;
    }
    const obj = record as Record<string, unknown>;
    const explode = table.explode;
    const items = explode === undefined ? undefined : obj[explode];
    if (!Array.isArray(items)) {
      this.walk(obj, table.root, undefined);
      table.emit(this.writer, null);
      row.clear(0);
      return;
    }
    this.walk(obj, table.root, explode);
    const node = this.child(table.root, explode!);
    const parentCells = row.touched.length;
    if (items.length === 0) {
      table.emit(this.writer, null);
    } else {
      for (const item of items) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof JsonNumber)) {
          this.walk(item as Record<string, unknown>, node, undefined);
        } else {
          this.scalar(node, item);
        }
        table.emit(this.writer, null);
        row.clear(parentCells);
      }
    }
    row.clear(0);
  }

  private child(parent: ColumnNode, key: string): ColumnNode {
    if (this.latin1) {
      const l1 = (parent.latin1Children ??= new Map());
      let node = l1.get(key);
      if (node === undefined) {
        node = this.table.childByKey(parent, fromLatin1(key));
        l1.set(key, node);
      }
      return node;
    }
    return this.table.childByKey(parent, key);
  }

  private text(v: string): string {
    return this.latin1 ? fromLatin1(v) : v;
  }

  private walk(obj: Record<string, unknown>, node: ColumnNode, skipKey: string | undefined): void {
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

  /** `meta` → `<prefix>meta.id` and `<prefix>meta.type`, or a collection's `<prefix>size` (nodes cached on the meta node). */
  private meta(node: ColumnNode, meta: Record<string, unknown>, parent: ColumnNode): void {
    const table = this.table;
    const size = meta['size'];
    if (isCollectionMeta(size)) {
      const sizeNode = (node.sizeNode ??= table.childByKey(parent, COLLECTION_SIZE));
      table.setString(sizeNode, CELL_NUMBER_TEXT, numberValueText(size, false));
      return;
    }
    const idNode = (node.idNode ??= table.childByKey(node, 'id'));
    const typeNode = (node.typeNode ??= table.childByKey(node, 'type'));
    const href = meta['href'];
    table.setString(idNode, CELL_STRING, hrefId(typeof href === 'string' ? this.text(href) : href));
    const type = meta['type'];
    this.scalar(typeNode, type === undefined ? null : type);
  }

  private scalar(node: ColumnNode, v: unknown): void {
    const table = this.table;
    if (v === null) {
      table.setKind(node, CELL_EMPTY);
    } else if (typeof v === 'string') {
      table.setString(node, CELL_STRING, this.text(v));
    } else if (typeof v === 'number' || v instanceof JsonNumber) {
      if (node.slot === -1) table.register(node);
      const text = numberValueText(v, node.money);
      if (node.money) table.noteMoney(node, text);
      table.setString(node, CELL_NUMBER_TEXT, text);
    } else if (typeof v === 'boolean') {
      table.setKind(node, v ? CELL_TRUE : CELL_FALSE);
    } else {
      // Arrays that are not exploded (and objects in odd places): one JSON cell.
      table.setString(node, CELL_JSON, this.text(stringifyExact(v)));
    }
  }
}
