/**
 * The byte path, the CSV fast path: one record's JSON bytes → rows of typed cells (columns.ts) by
 * the rules of csv-rules.ts, without JSON.parse or strings: a cell is a byte range of the input
 * (a string without escapes is its own UTF-8 text; a number its own JSON text). It gives exactly
 * what the object path (csv-objects.ts) gives for JSON.parse of the record; whatever it does not
 * handle the same way (duplicate keys: the last value wins at the first key's place; array-index
 * keys: enumerated first; anything malformed: JSON.parse reports it) makes it return -1 *before*
 * anything is registered or written, and the caller takes the object path for that record.
 * Pass 1 validates the record and lists its cells as ops in the order the object path would set
 * them; pass 2 registers columns, fills the row and emits the lines.
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
  type ColumnNode,
  type ColumnTable,
  type LineWriter,
} from './columns.js';
import { COLLECTION_SIZE, hrefId, hrefIdEnd, hrefIdStart, numberText } from './csv-rules.js';
import { parseExact, stringifyExact } from './exact-json.js';
import { JsonSkipper, JsonSyntaxError, SPACES8, skipNumber } from './scan.js';

const K_LINE = 255; // (op only) end of a line
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

/** A meta key without escapes: 'href', 'type', or '' for any other. */
function keyOf(b: Buffer, s: number, e: number): string {
  if (e - s !== 4) return '';
  const c0 = b[s];
  if (c0 === 0x68 && b[s + 1] === 0x72 && b[s + 2] === 0x65 && b[s + 3] === 0x66) return 'href';
  if (c0 === 0x74 && b[s + 1] === 0x79 && b[s + 2] === 0x70 && b[s + 3] === 0x65) return 'type';
  if (c0 === 0x73 && b[s + 1] === 0x69 && b[s + 2] === 0x7a && b[s + 3] === 0x65) return 'size';
  return '';
}

export class ByteFlattener {
  /** -1 when the delimiter is not a plain ASCII byte (then this path is not used: usable). */
  readonly delimByte: number;
  private readonly delimWord: number;
  private stampCounter = 0;
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
  /** Set by bStr: the string had a backslash / the delimiter byte. */
  private sEsc = false;
  private sDelim = false;
  /** The grammar walkers' state for the values this path only validates. */
  private readonly skipper = new JsonSkipper();

  constructor(
    private readonly table: ColumnTable,
    private readonly writer: LineWriter,
    delimiter: string,
  ) {
    const dc = delimiter.charCodeAt(0);
    this.delimByte = delimiter.length === 1 && dc < 0x80 && dc !== 0x5c ? dc : -1;
    this.delimWord = this.delimByte < 0 ? 0 : Math.imul(this.delimByte, 0x01010101);
  }

  /** Index of the first non-whitespace byte at or after i (end at most); indentation 4 bytes at a time. */
  private ws(b: Buffer, i: number, end: number): number {
    while (i < end) {
      const c = b[i]!;
      if (c > 0x20) return i;
      if (c === 0x0a) {
        i++;
        const view = this.skipper.viewOf(b);
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
  private validEnd(b: Buffer, i: number, end: number): number {
    try {
      return this.skipper.skipValidated(b, i, end);
    } catch (err) {
      if (err instanceof JsonSyntaxError) return -1;
      throw err;
    }
  }

  /** Whether this path can be used with the delimiter. */
  get usable(): boolean {
    return this.delimByte >= 0;
  }

  /**
   * Flattens the record b[start, end) (a complete JSON value, as found by the scanner) into lines
   * appended to `out`. false: not done, nothing changed; use add(JSON.parse(...)) instead.
   */
  addBytes(b: Buffer, start: number, end: number): boolean {
    const i = this.ws(b, start, end);
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
    i = this.bObject(b, i, end, this.table.root, 0);
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
    const view = this.skipper.viewOf(b);
    const dw = this.delimWord;
    for (;;) {
      while (i + 4 <= end) {
        const w = view.getInt32(i, true);
        const q = w ^ 0x22222222;
        const bs = w ^ 0x5c5c5c5c;
        const d = w ^ dw;
        if (
          ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs) | ((d - 0x01010101) & ~d)) &
            0x80808080) !==
          0
        )
          break;
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
        } else if (
          e !== 0x22 &&
          e !== 0x5c &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
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
    const node = this.table.childByKey(parent, text);
    if (node.b === undefined) {
      let role = 0;
      if (text === 'meta') role = ROLE_META;
      else if (parent === this.table.root && text === this.table.explode) role = ROLE_EXPLODE;
      else if (ARRAY_INDEX.test(text) && Number(text) < 4294967295) role = ROLE_INDEX;
      node.b = { key: Uint8Array.prototype.slice.call(b, ks, ke), role, next: null, first: null, stamp: 0 };
    }
    if (prev === null)
      (parent.b ??= { key: new Uint8Array(0), role: 0, next: null, first: null, stamp: 0 }).first = node;
    else prev.b!.next = node;
    return node;
  }

  /** The object at b[i] ('{'), its values as ops under node. Index after it, or -1. */
  private bObject(b: Buffer, i: number, end: number, node: ColumnNode, depth: number): number {
    if (depth > 64) return -1;
    const stamp = ++this.stampCounter;
    i++;
    if (b[i]! <= 0x20) i = this.ws(b, i, end);
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
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
      if (i >= end || b[i] !== 0x3a) return -1;
      i++;
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x7b) {
        i = nb.role === ROLE_META ? this.bMeta(b, i, end, child, node) : this.bObject(b, i, end, child, depth + 1);
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
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
      if (i >= end) return -1;
      const d = b[i++]!;
      if (d === 0x7d) return i;
      if (d !== 0x2c) return -1;
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
      if (i >= end) return -1;
    }
  }

  /** A value that is not walked into (walk's `scalar` cases, and strings and numbers) as one op. */
  private bScalar(b: Buffer, i: number, end: number, node: ColumnNode): number {
    const c = b[i]!;
    if (c === 0x22) {
      const e = this.bStr(b, i + 1, end);
      if (e < 0) return -1;
      if (this.sEsc) this.op(node, CELL_STRING, 0, 0, JSON.parse(b.toString('utf8', i, e + 1)) as string);
      else this.op(node, this.sDelim ? CELL_TEXT_DELIM : CELL_TEXT, i + 1, e, null);
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
      this.op(node, CELL_NUMBER, i, e, null);
      return e;
    }
    if (c === 0x74) return this.bLiteral(b, i, end, TRUE_BYTES, node, CELL_TRUE);
    if (c === 0x66) return this.bLiteral(b, i, end, FALSE_BYTES, node, CELL_FALSE);
    if (c === 0x6e) return this.bLiteral(b, i, end, NULL_BYTES, node, CELL_EMPTY);
    if (c === 0x5b || c === 0x7b) {
      // An array that is not exploded (or an object where scalar() takes one): one JSON cell.
      const e = this.validEnd(b, i, end);
      if (e < 0) return -1;
      this.op(node, CELL_JSON, 0, 0, stringifyExact(parseExact(b.toString('utf8', i, e))));
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
    if (c === 0x7b || c === 0x5b) return this.validEnd(b, i, end);
    const n = this.nOps;
    i = this.bScalar(b, i, end, this.table.root);
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
  private bMeta(b: Buffer, i: number, end: number, node: ColumnNode, parent: ColumnNode): number {
    const idNode = (node.idNode ??= this.table.childByKey(node, 'id'));
    const typeNode = (node.typeNode ??= this.table.childByKey(node, 'type'));
    let hrefS = -1;
    let hrefE = -1;
    let hrefEsc = false;
    let hrefSeen = false;
    const typeOp = this.nOps;
    let typeSeen = false;
    let sizeSeen = false;
    let sizeS = -1;
    let sizeE = -1;
    i++;
    if (b[i]! <= 0x20) i = this.ws(b, i, end);
    if (i >= end) return -1;
    if (b[i] !== 0x7d) {
      for (;;) {
        if (b[i] !== 0x22) return -1;
        const ke = this.bStr(b, i + 1, end);
        if (ke < 0) return -1;
        const key = this.sEsc ? (JSON.parse(b.toString('utf8', i, ke + 1)) as string) : keyOf(b, i + 1, ke);
        // (keyOf gives '' for keys other than href, type and size, which are only validated)
        i = ke + 1;
        if (b[i]! <= 0x20) i = this.ws(b, i, end);
        if (i >= end || b[i] !== 0x3a) return -1;
        i++;
        if (b[i]! <= 0x20) i = this.ws(b, i, end);
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
            i = this.validEnd(b, i, end);
          }
        } else if (key === 'type') {
          if (typeSeen) return -1;
          typeSeen = true;
          i = this.bScalar(b, i, end, typeNode); // the one op at typeOp (moved after id's below)
        } else if (key === 'size') {
          if (sizeSeen) return -1;
          sizeSeen = true;
          const c = b[i]!;
          if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            sizeS = i;
            i = this.bSkip(b, i, end);
            sizeE = i;
          } else {
            i = this.bSkip(b, i, end);
          }
        } else {
          i = this.bSkip(b, i, end);
        }
        if (i < 0) return -1;
        if (b[i]! <= 0x20) i = this.ws(b, i, end);
        if (i >= end) return -1;
        const d = b[i++]!;
        if (d === 0x7d) break;
        if (d !== 0x2c) return -1;
        if (b[i]! <= 0x20) i = this.ws(b, i, end);
        if (i >= end) return -1;
      }
    } else {
      i++;
    }
    if (sizeS >= 0) {
      // A collection (csv-rules.ts isCollectionMeta): its size, at the parent (`accounts.size`).
      this.nOps = typeOp;
      this.op((node.sizeNode ??= this.table.childByKey(parent, COLLECTION_SIZE)), CELL_NUMBER, sizeS, sizeE, null);
      return i;
    }
    // id first, then type (meta()'s order), whatever the order in the file.
    let typeKind = CELL_EMPTY;
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
      this.op(idNode, CELL_EMPTY, 0, 0, null);
    } else if (hrefEsc) {
      this.op(idNode, CELL_STRING, 0, 0, hrefId(JSON.parse(b.toString('utf8', hrefS - 1, hrefE + 1))));
    } else {
      const e = hrefIdEnd(b, hrefS, hrefE);
      const s = hrefIdStart(b, hrefS, e);
      let delim = false;
      for (let k = s; k < e; k++) if (b[k] === this.delimByte) delim = true;
      this.op(idNode, delim ? CELL_TEXT_DELIM : CELL_TEXT, s, e, null);
    }
    this.op(typeNode, typeKind, typeS, typeE, typeStr);
    return i;
  }

  /** The exploded array at b[i] ('['): each item's ops and a line end, or one line if empty. */
  private bItems(b: Buffer, i: number, end: number, node: ColumnNode): number {
    i++;
    if (b[i]! <= 0x20) i = this.ws(b, i, end);
    if (i >= end) return -1;
    if (b[i] === 0x5d) {
      this.op(null, K_LINE, 0, 0, null);
      return i + 1;
    }
    for (;;) {
      i = b[i] === 0x7b ? this.bObject(b, i, end, node, 1) : this.bScalar(b, i, end, node);
      if (i < 0) return -1;
      this.op(null, K_LINE, 0, 0, null);
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
      if (i >= end) return -1;
      const d = b[i++]!;
      if (d === 0x5d) return i;
      if (d !== 0x2c) return -1;
      if (b[i]! <= 0x20) i = this.ws(b, i, end);
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

  /** Pass 2: registers columns in op order, fills the row and emits the lines. */
  private emitOps(b: Buffer): void {
    const table = this.table;
    const row = table.row;
    let parentTouched = -1;
    const n = this.nOps;
    for (let k = 0; k < n; k++) {
      if (k === this.parentOps && this.explodeItems >= 0) parentTouched = row.touched.length;
      const node = this.opNode[k]!;
      if (node === null) {
        table.emit(this.writer, b);
        row.clear(parentTouched < 0 ? 0 : parentTouched);
        continue;
      }
      if (node.slot === -1) table.register(node);
      const slot = node.slot;
      if (slot < 0) continue;
      if (slot >= row.kind.length) row.grow(slot + 1);
      let kind = this.opKind[k]!;
      let str = this.opStr[k]!;
      const s = this.opS[k]!;
      const e = this.opE[k]!;
      if (kind === CELL_NUMBER && node.money) {
        kind = CELL_NUMBER_TEXT;
        str = numberText(b, s, e, true);
        table.noteMoney(node, str);
      }
      row.kind[slot] = kind;
      row.s[slot] = s;
      row.e[slot] = e;
      row.str[slot] = str;
      row.touched.push(slot);
    }
    row.clear(0);
  }
}
