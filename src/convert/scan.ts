/**
 * The fast path (issue 5): a byte scanner over big Buffer chunks that finds the records array of a
 * result file (`rows` or `series`, wherever it sits among the envelope's keys) and hands over each
 * record as a byte range, so that NDJSON can pass the bytes through and CSV can flatten them
 * (`direct`: the CSV byte path, csv-bytes.ts, reads the record's bytes itself; records it declines
 * are handed on for JSON.parse). What happens to each record is fixed once, at construction
 * (createRecordScanner picks the subclass); the envelope and the after-record step are shared.
 * stream-json (records.ts) stays the parser of record; this scanner must agree with it record for
 * record (test/convert/equivalence.test.ts, fast-paths.test.ts).
 *
 * How it stays fast: the envelope is a small resumable state machine working token by token, but a
 * record is scanned by a non-resumable loop over one contiguous buffer. When a record runs past the
 * end of the buffer, the scanner reports how far it got and the reader carries the partial bytes
 * into the next read (records are small, so re-scanning one per chunk costs nothing). String bodies
 * are scanned four bytes at a time (one DataView read and a few word operations: stringWord), and
 * indentation eight at a time, which is what keeps pretty-printed input close to compact input.
 */
import { isUtf8 } from 'node:buffer';

/** Thrown by the scanning loops; the driver turns it into BadResultError with a file offset. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly pos: number,
    readonly what: string,
  ) {
    super(what);
  }
}

/** Returned by the skip functions when the value runs past the end of the buffer. */
const NEED_MORE = -1;

const OBJ = 1;
const ARR = 2;

function copyRun(b: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (e - s > 48) return o + b.copy(out, o, s, e);
  while (s < e) out[o++] = b[s++]!;
  return o;
}

function describe(c: number | undefined): string {
  if (c === undefined) return 'end of input';
  if (c >= 0x21 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function unexpected(b: Buffer, i: number): JsonSyntaxError {
  return new JsonSyntaxError(i, `unexpected ${describe(b[i])}`);
}

/** 1 for the bytes a string may hold as they are: not a quote, backslash or control char. */
const PLAIN = new Uint8Array(256).fill(1);
PLAIN.fill(0, 0, 0x20);
PLAIN[0x22] = 0;
PLAIN[0x5c] = 0;

/** Eight spaces read as a little-endian double (finite, not zero: equal only to itself). */
export const SPACES8 = new DataView(new Uint8Array(8).fill(0x20).buffer).getFloat64(0, true);

/**
 * Whether none of the four bytes of w is a control char, quote or backslash; bytes ≥ 0x80 (UTF-8
 * sequences) pass. Exact: the has-zero-byte / has-byte-less-than tests with the `& ~x` term.
 */
function stringWord(w: number): boolean {
  const q = w ^ 0x22222222;
  const s = w ^ 0x5c5c5c5c;
  return ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) === 0;
}

/** Index after the closing quote of the string whose body starts at i, validating escapes. */
function skipString(b: Buffer, i: number, end: number): number {
  for (;;) {
    if (i >= end) return NEED_MORE;
    const c = b[i++]!;
    if (PLAIN[c] === 1) continue; // the common case: one table load per byte
    if (c === 0x22) return i;
    if (c === 0x5c) {
      if (i >= end) return NEED_MORE;
      const e = b[i++]!;
      if (e === 0x75) {
        if (i + 4 > end) return NEED_MORE;
        for (let k = 0; k < 4; k++) {
          const h = b[i + k]!;
          if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) {
            throw new JsonSyntaxError(i + k, 'bad \\u escape in a string');
          }
        }
        i += 4;
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
        throw new JsonSyntaxError(i - 1, 'bad escape in a string');
      }
    } else if (c < 0x20) {
      throw new JsonSyntaxError(i - 1, 'control character in a string');
    }
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** Index after the number starting at i (JSON grammar). NEED_MORE if it touches the buffer end. */
export function skipNumber(b: Buffer, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return NEED_MORE;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
  else throw new JsonSyntaxError(i, 'bad number');
  if (i >= end) return NEED_MORE;
  if (b[i] === 0x2e) {
    i++;
    if (i >= end) return NEED_MORE;
    if (!isDigit(b[i])) throw new JsonSyntaxError(i, 'bad number');
    while (i < end && isDigit(b[i])) i++;
    if (i >= end) return NEED_MORE;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (i >= end) return NEED_MORE;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (i >= end) return NEED_MORE;
    if (!isDigit(b[i])) throw new JsonSyntaxError(i, 'bad number');
    while (i < end && isDigit(b[i])) i++;
    if (i >= end) return NEED_MORE;
  }
  return i;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function skipLiteral(b: Buffer, i: number, end: number, lit: Buffer): number {
  for (let k = 0; k < lit.length; k++, i++) {
    if (i >= end) return NEED_MORE;
    if (b[i] !== lit[k]) throw new JsonSyntaxError(i, `bad literal (expected ${lit.toString()})`);
  }
  return i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

// States of skipValidated.
const V_VALUE = 0; // a value must come
const V_VALUE_OR_CLOSE = 1; // right after '['
const V_AFTER = 2; // after a value inside a container: ',' or the closer
const V_KEY_OR_CLOSE = 3; // right after '{'
const V_KEY = 4; // after ',' in an object
const V_COLON = 5;

/**
 * The grammar walkers over one buffer, and the little state they share: the container stack,
 * whether the last value had whitespace outside strings, the minified copy's cursor (NDJSON) and
 * cached DataViews. One per scanner (and per byte flattener): no state outside an instance.
 */
export class JsonSkipper {
  /** Set by skipValidated/skipMinify: the value had whitespace outside strings. */
  sawSpace = false;
  /**
   * Minified copy made while validating (NDJSON): when `minOut` is set, skipValidated copies each
   * run of bytes between whitespace to minOut at minPos; the caller copies the last run [minSeg, end).
   * One pass instead of validate-then-minify (pretty input, issue 5's "within 20%").
   */
  minOut: Buffer | null = null;
  minPos = 0;
  minSeg = 0;
  /** Set by skipMinify: the end of the minified copy in its output buffer. */
  minOutEnd = 0;
  private stack: Uint8Array = new Uint8Array(1024);
  private viewBuf: Uint8Array | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private outViewBuf: Uint8Array | null = null;
  private outView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /** The container stack, twice as deep (a walker keeps it in a local: measured faster). */
  private growStack(): Uint8Array {
    const bigger = new Uint8Array(this.stack.length * 2);
    bigger.set(this.stack);
    this.stack = bigger;
    return bigger;
  }

  /** Reads of four bytes at any offset (DataView: unaligned, inlined by the optimizing compiler). */
  viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
    if (b !== this.viewBuf) {
      this.viewBuf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.view;
  }

  private outViewOf(b: Uint8Array): DataView<ArrayBufferLike> {
    if (b !== this.outViewBuf) {
      this.outViewBuf = b;
      this.outView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.outView;
  }

  /**
   * End index of the JSON value starting at i (b[i] is not whitespace), validating everything the
   * grammar says (RFC 8259), or NEED_MORE. Sets `this.sawSpace`.
   */
  skipValidated(b: Buffer, i: number, end: number): number {
    let stack: Uint8Array = this.stack;
    let depth = 0;
    let st = V_VALUE;
    this.sawSpace = false;
    this.minSeg = i;
    for (;;) {
      if (i >= end) return NEED_MORE;
      let c = b[i]!;
      if (c <= 0x20) {
        if (!isSpace(c)) throw unexpected(b, i);
        // Pretty-printed input: skip the whole run (indentation) at once.
        this.sawSpace = true;
        if (this.minOut !== null) this.minPos = copyRun(b, this.minSeg, i, this.minOut, this.minPos);
        do c = b[++i]!;
        while (i < end && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09));
        this.minSeg = i;
        if (i >= end) return NEED_MORE;
        if (c < 0x20) throw unexpected(b, i);
      }
      if (st === V_VALUE_OR_CLOSE) {
        if (c === 0x5d) {
          depth--;
          i++;
          if (depth === 0) return i;
          st = V_AFTER;
          continue;
        }
        st = V_VALUE;
      } else if (st === V_KEY_OR_CLOSE) {
        if (c === 0x7d) {
          depth--;
          i++;
          if (depth === 0) return i;
          st = V_AFTER;
          continue;
        }
        st = V_KEY;
      }
      switch (st) {
        case V_VALUE:
          if (c === 0x22) {
            i = skipString(b, i + 1, end);
          } else if (c === 0x7b) {
            if (depth >= stack.length) stack = this.growStack();
            stack[depth++] = OBJ;
            i++;
            st = V_KEY_OR_CLOSE;
            continue;
          } else if (c === 0x5b) {
            if (depth >= stack.length) stack = this.growStack();
            stack[depth++] = ARR;
            i++;
            st = V_VALUE_OR_CLOSE;
            continue;
          } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            i = skipNumber(b, i, end);
          } else if (c === 0x74) {
            i = skipLiteral(b, i, end, TRUE);
          } else if (c === 0x66) {
            i = skipLiteral(b, i, end, FALSE);
          } else if (c === 0x6e) {
            i = skipLiteral(b, i, end, NULL);
          } else {
            throw unexpected(b, i);
          }
          if (i < 0) return NEED_MORE;
          if (depth === 0) return i;
          st = V_AFTER;
          continue;
        case V_AFTER: {
          const kind = stack[depth - 1];
          if (c === 0x2c) {
            i++;
            st = kind === OBJ ? V_KEY : V_VALUE;
          } else if ((c === 0x7d && kind === OBJ) || (c === 0x5d && kind === ARR)) {
            depth--;
            i++;
            if (depth === 0) return i;
          } else {
            throw unexpected(b, i);
          }
          continue;
        }
        case V_KEY:
          if (c !== 0x22) throw unexpected(b, i);
          i = skipString(b, i + 1, end);
          if (i < 0) return NEED_MORE;
          st = V_COLON;
          continue;
        default: // V_COLON
          if (c !== 0x3a) throw unexpected(b, i);
          i++;
          st = V_VALUE;
      }
    }
  }

  /**
   * skipValidated that also copies the value, minified (whitespace outside strings dropped), to
   * out[o, …) (NDJSON of pretty-printed input). One pass: structural bytes and string bodies are
   * copied by the loops that validate them, and each run of whitespace (a line break and its
   * indentation) is skipped by a tight loop of its own. out must have room for end - i bytes.
   * Returns the end index or NEED_MORE; sets `this.minOutEnd` and `this.sawSpace`.
   */
  skipMinify(b: Buffer, i: number, end: number, out: Buffer, o: number): number {
    let stack: Uint8Array = this.stack;
    let depth = 0;
    let st = V_VALUE;
    this.sawSpace = false;
    const win = this.viewOf(b);
    const wout = this.outViewOf(out);
    main: for (;;) {
      if (i >= end) return NEED_MORE;
      let c = b[i]!;
      if (c <= 0x20) {
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) throw unexpected(b, i);
        this.sawSpace = true;
        for (;;) {
          i++;
          // Indentation: eight spaces at a time (an exact test: equal doubles have equal bits here),
          // then four, then one.
          while (i + 8 <= end && win.getFloat64(i, true) === SPACES8) i += 8;
          if (i + 4 <= end && win.getInt32(i, true) === 0x20202020) i += 4;
          while (i < end && b[i] === 0x20) i++;
          if (i >= end) return NEED_MORE;
          c = b[i]!;
          if (c > 0x20) break;
          if (c !== 0x0a && c !== 0x0d && c !== 0x09) throw unexpected(b, i);
        }
      }
      if (st === V_VALUE_OR_CLOSE) {
        if (c === 0x5d) {
          out[o++] = c;
          i++;
          if (--depth === 0) break;
          st = V_AFTER;
          continue;
        }
        st = V_VALUE;
      } else if (st === V_KEY_OR_CLOSE) {
        if (c === 0x7d) {
          out[o++] = c;
          i++;
          if (--depth === 0) break;
          st = V_AFTER;
          continue;
        }
        st = V_KEY;
      }
      if (st === V_AFTER) {
        const kind = stack[depth - 1];
        if (c === 0x2c) {
          st = kind === OBJ ? V_KEY : V_VALUE;
        } else if ((c === 0x7d && kind === OBJ) || (c === 0x5d && kind === ARR)) {
          depth--;
        } else {
          throw unexpected(b, i);
        }
        out[o++] = c;
        i++;
        if (depth === 0) break;
        continue;
      }
      if (st === V_COLON) {
        if (c !== 0x3a) throw unexpected(b, i);
        out[o++] = c;
        i++;
        st = V_VALUE;
        continue;
      }
      if (c === 0x22) {
        // A key (V_KEY) or a string value: copied as it is validated. Pretty input's common run of
        // members, `"key": "value",⏎  "key2": …`, stays in this loop (see its end).
        for (;;) {
          out[o++] = 0x22;
          i++;
          for (;;) {
            // Four bytes at a time (stringWord), then one byte at a time.
            while (i + 4 <= end) {
              const w = win.getInt32(i, true);
              if (!stringWord(w)) break;
              wout.setInt32(o, w, true);
              i += 4;
              o += 4;
            }
            if (i >= end) return NEED_MORE;
            const d = b[i++]!;
            out[o++] = d;
            if (PLAIN[d] === 1) continue;
            if (d === 0x22) break;
            if (d === 0x5c) {
              if (i >= end) return NEED_MORE;
              const e = b[i++]!;
              out[o++] = e;
              if (e === 0x75) {
                if (i + 4 > end) return NEED_MORE;
                for (let k = 0; k < 4; k++) {
                  const h = b[i]!;
                  if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) {
                    throw new JsonSyntaxError(i, 'bad \\u escape in a string');
                  }
                  out[o++] = h;
                  i++;
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
                throw new JsonSyntaxError(i - 1, 'bad escape in a string');
              }
            } else {
              throw new JsonSyntaxError(i - 1, 'control character in a string');
            }
          }
          if (st === V_KEY) {
            // The colon, and in pretty input one space after it, without another round of the loop.
            if (i + 1 < end && b[i] === 0x3a) {
              out[o++] = 0x3a;
              if (b[++i] === 0x20) {
                i++;
                this.sawSpace = true;
              }
              st = V_VALUE;
              if (i < end && b[i] === 0x22) continue; // a string value
            } else {
              st = V_COLON;
            }
            continue main;
          }
          // A string value.
          if (depth === 0) break main;
          st = V_AFTER;
          if (i < end && b[i] === 0x2c && stack[depth - 1] === OBJ) {
            // ',' then whitespace then the next key's quote: straight on to the key. Anything else is
            // left to the main loop, from the ','.
            let k = i + 1;
            while (k < end) {
              const d = b[k]!;
              if (d === 0x20 || d === 0x0d || d === 0x09) {
                k++;
              } else if (d === 0x0a) {
                k++;
                while (k + 8 <= end && win.getFloat64(k, true) === SPACES8) k += 8;
              } else {
                break;
              }
            }
            if (k < end && b[k] === 0x22) {
              out[o++] = 0x2c;
              if (k > i + 1) this.sawSpace = true;
              i = k;
              st = V_KEY;
              continue;
            }
          }
          continue main;
        }
      } else if (st === V_KEY) {
        throw unexpected(b, i);
      } else if (c === 0x7b) {
        if (depth >= stack.length) stack = this.growStack();
        stack[depth++] = OBJ;
        out[o++] = c;
        i++;
        st = V_KEY_OR_CLOSE;
        continue;
      } else if (c === 0x5b) {
        if (depth >= stack.length) stack = this.growStack();
        stack[depth++] = ARR;
        out[o++] = c;
        i++;
        st = V_VALUE_OR_CLOSE;
        continue;
      } else {
        const s = i;
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = skipNumber(b, i, end);
        else if (c === 0x74) i = skipLiteral(b, i, end, TRUE);
        else if (c === 0x66) i = skipLiteral(b, i, end, FALSE);
        else if (c === 0x6e) i = skipLiteral(b, i, end, NULL);
        else throw unexpected(b, i);
        if (i < 0) return NEED_MORE;
        for (let k = s; k < i; k++) out[o++] = b[k]!;
      }
      if (depth === 0) break;
      st = V_AFTER;
    }
    this.minOutEnd = o;
    return i;
  }

  /**
   * End index of the object or array starting at i, finding only its boundaries: strings, escapes and
   * matching brackets. Everything else is left to the JSON.parse that follows (CSV path), which is
   * why this loop can be a third of the cost of skipValidated.
   */
  skipBoundaries(b: Buffer, i: number, end: number): number {
    let stack: Uint8Array = this.stack;
    let depth = 0;
    const win = this.viewOf(b);
    for (;;) {
      if (i >= end) return NEED_MORE;
      const c = b[i++]!;
      const k = BOUND[c]!;
      if (k === B_OTHER) continue;
      if (k === B_SPACE) {
        // Indentation of pretty-printed input: eight spaces at a time, then four.
        while (i + 8 <= end && win.getFloat64(i, true) === SPACES8) i += 8;
        if (i + 4 <= end && win.getInt32(i, true) === 0x20202020) i += 4;
      } else if (k === B_QUOTE) {
        for (;;) {
          // Four bytes at a time while none is a quote or a backslash (exact zero-byte tests).
          while (i + 4 <= end) {
            const w = win.getInt32(i, true);
            const q = w ^ 0x22222222;
            const s = w ^ 0x5c5c5c5c;
            if ((((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
            i += 4;
          }
          if (i >= end) return NEED_MORE;
          const d = b[i++]!;
          if (d === 0x22) break;
          if (d === 0x5c) i++;
        }
      } else if (c === 0x7b) {
        if (depth >= stack.length) stack = this.growStack();
        stack[depth++] = OBJ;
      } else if (c === 0x5b) {
        if (depth >= stack.length) stack = this.growStack();
        stack[depth++] = ARR;
      } else {
        // '}' or ']'
        if (depth === 0 || stack[--depth] !== (c === 0x7d ? OBJ : ARR)) throw unexpected(b, i - 1);
        if (depth === 0) return i;
      }
    }
  }
}

/** skipBoundaries' byte classes. */
const B_OTHER = 0;
const B_SPACE = 1;
const B_QUOTE = 2;
const B_BRACKET = 3;
const BOUND = new Uint8Array(256);
BOUND[0x20] = B_SPACE;
BOUND[0x0a] = B_SPACE;
BOUND[0x22] = B_QUOTE;
BOUND[0x7b] = B_BRACKET;
BOUND[0x7d] = B_BRACKET;
BOUND[0x5b] = B_BRACKET;
BOUND[0x5d] = B_BRACKET;

/** Receives the records found in one buffer: b[starts[k], ends[k]) for k < count. */
export interface RecordBatchSink {
  /**
   * `spaced[k]` is 1 when record k has whitespace outside strings (only in validating mode).
   * Called synchronously; the buffer's contents are valid only during the call.
   */
  records(b: Buffer, starts: Int32Array, ends: Int32Array, spaced: Uint8Array, count: number): void;
}

export interface ScannerOptions {
  /** Top-level keys whose array elements are the records (e.g. ['rows']). */
  recordsKeys: readonly string[];
  /**
   * true: validate each record fully (NDJSON pass-through, JSON validation); false: find record
   * boundaries only, the sink's JSON.parse validates (CSV).
   */
  validate: boolean;
  sink: RecordBatchSink;
  /** Hand records on once a batch spans this many bytes (bounds the CSV path's JSON.parse heap). */
  batchBytes?: number;
  /**
   * Boundaries mode only: called with each record that starts with '{' (b, its start, the end of
   * the bytes); returns the index after the record when it consumed it (then it is not handed to
   * the sink), or -1 when not (malformed, incomplete or not for it: then the scanner finds the
   * record's end itself and hands it to the sink at once, so the sink sees records in order).
   */
  direct?: ((b: Buffer, i: number, end: number) => number) | undefined;
  /**
   * Validating mode only: append each record, minified, and '\n' to this buffer (NDJSON). The
   * scanner grows `buf` as needed; the owner takes buf[0, used) and resets `used`.
   */
  copyTo?: CopyTarget;
  /** Stop feeding as soon as the records array opens (inspecting a file's shape: shape.ts). */
  stopAtRecords?: boolean;
}

export interface CopyTarget {
  buf: Buffer;
  used: number;
}

/** Top-level key information, for detecting where the records are in a file of unknown shape. */
export interface TopLevelKey {
  key: string;
  isArray: boolean;
}

// Envelope states.
const S_TOP = 0; // before the top-level value
const S_KEY_OR_END = 1; // after the top-level '{'
const S_KEY = 2; // after ',' at depth 1
const S_COLON = 3;
const S_VALUE = 4;
const S_AFTER_VALUE = 5; // ',' or '}' at depth 1
const S_REC_OR_END = 6; // after '[' of a records array
const S_REC = 7; // after ',' in a records array
const S_REC_AFTER = 8; // ',' or ']' in a records array
const S_DONE = 9; // after the top-level value: only whitespace may follow

/** Thrown when the file is not an object at the top level: the caller falls back to stream-json. */
export class NotAnEnvelopeError extends Error {}

const BATCH = 4096;

/**
 * The resumable envelope scanner. Feed it buffers with `feed`; it returns how many bytes it
 * consumed (the rest must be fed again, followed by more bytes); call `finish` at end of file.
 * What it does with each record — validate and copy it (NDJSON), validate it (JSON), hand it to
 * the CSV byte path, or find its boundaries for JSON.parse — is the subclass's scanRecord, chosen
 * once by createRecordScanner.
 */
export abstract class RecordScanner {
  /** Top-level `meta.size`, wherever `meta` appears. */
  metaSize: number | undefined;
  /** Top-level `meta.type` (a task object says `async`: shape.ts). */
  metaType: unknown;
  /** A top-level `id` string (a task object's: shape.ts). */
  id: string | undefined;
  /** The JSON text of a top-level `errors` array up to 1 MiB (an API error body: shape.ts). */
  errorsText: string | undefined;
  /** The records array has opened (with stopAtRecords, feed returns right there). */
  atRecords = false;
  readonly topKeys: TopLevelKey[] = [];
  records = 0;
  protected readonly skipper = new JsonSkipper();
  protected readonly sink: RecordBatchSink;
  private state = S_TOP;
  private key = '';
  private inRecords = false;
  // The batch of records found and not yet handed to the sink.
  private count = 0;
  private readonly starts = new Int32Array(BATCH);
  private readonly ends = new Int32Array(BATCH);
  private readonly spaced = new Uint8Array(BATCH);
  private readonly recordsKeys: readonly string[];
  private readonly batchBytes: number;
  private readonly stopAtRecords: boolean;

  constructor(options: ScannerOptions) {
    this.recordsKeys = options.recordsKeys;
    this.sink = options.sink;
    this.batchBytes = options.batchBytes ?? Infinity;
    this.stopAtRecords = options.stopAtRecords ?? false;
  }

  /**
   * Scans the record at b[i] (not whitespace): the index after it, or NEED_MORE when it runs past
   * end. Queues it (queue) or hands it on itself.
   */
  protected abstract scanRecord(b: Buffer, i: number, end: number): number;

  /** Adds a record to the batch, handing the batch on first when it is full. */
  protected queue(b: Buffer, start: number, end: number, spaced: boolean): void {
    const count = this.count;
    if (count === BATCH || (count > 0 && end - this.starts[0]! > this.batchBytes)) this.flush(b);
    const k = this.count++;
    this.starts[k] = start;
    this.ends[k] = end;
    this.spaced[k] = spaced ? 1 : 0;
  }

  /** Hands the batch to the sink (emptied first: not delivered again if the sink throws). */
  protected flush(b: Buffer): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.sink.records(b, this.starts, this.ends, this.spaced, n);
  }

  /**
   * Scans b[0, end); returns the offset up to which everything was consumed. Throws
   * JsonSyntaxError (pos relative to b) on malformed input.
   */
  feed(b: Buffer, end: number): number {
    let i = 0;
    let consumed = 0;
    try {
      outer: for (;;) {
        while (i < end && isSpace(b[i]!)) i++;
        consumed = i;
        if (i >= end) break;
        const c = b[i]!;
        switch (this.state) {
          case S_TOP:
            if (c !== 0x7b) {
              if (c === 0x5b || c === 0x22 || c === 0x2d || isDigit(c) || c === 0x74 || c === 0x66 || c === 0x6e) {
                throw new NotAnEnvelopeError();
              }
              throw unexpected(b, i);
            }
            i++;
            this.state = S_KEY_OR_END;
            break;
          case S_KEY_OR_END:
          case S_KEY: {
            if (c === 0x7d && this.state === S_KEY_OR_END) {
              i++;
              this.state = S_DONE;
              break;
            }
            if (c !== 0x22) throw unexpected(b, i);
            const e = skipString(b, i + 1, end);
            if (e < 0) break outer;
            this.key = JSON.parse(b.toString('utf8', i, e)) as string;
            i = e;
            this.state = S_COLON;
            break;
          }
          case S_COLON:
            if (c !== 0x3a) throw unexpected(b, i);
            i++;
            this.state = S_VALUE;
            break;
          case S_VALUE: {
            const isRecords = this.recordsKeys.includes(this.key);
            this.topKeys.push({ key: this.key, isArray: c === 0x5b });
            if (isRecords && c === 0x5b) {
              i++;
              this.state = S_REC_OR_END;
              this.inRecords = true;
              this.atRecords = true;
              if (this.stopAtRecords) {
                consumed = i;
                break outer;
              }
              break;
            }
            if (isRecords) throw new JsonSyntaxError(i, `"${this.key}" is not an array`);
            const e = this.skipper.skipValidated(b, i, end);
            if (e < 0) {
              this.topKeys.pop();
              break outer;
            }
            this.envelopeValue(b, i, e);
            i = e;
            this.state = S_AFTER_VALUE;
            break;
          }
          case S_AFTER_VALUE:
            if (c === 0x2c) {
              i++;
              this.state = S_KEY;
            } else if (c === 0x7d) {
              i++;
              this.state = S_DONE;
            } else {
              throw unexpected(b, i);
            }
            break;
          case S_REC_OR_END:
          case S_REC:
          case S_REC_AFTER: {
            if (c === 0x5d && this.state === S_REC_OR_END) {
              i++;
              this.state = S_AFTER_VALUE;
              this.inRecords = false;
              break;
            }
            // The hot loop: one record after another while they are complete in this buffer. Kept
            // in one loop with the after-record step (measured: a call per record here costs).
            let after = this.state === S_REC_AFTER;
            for (;;) {
              if (!after) {
                const e = this.scanRecord(b, i, end);
                if (e < 0) {
                  this.state = S_REC;
                  break outer;
                }
                this.records++;
                i = e;
                this.state = S_REC_AFTER;
              }
              after = false;
              // The one after-record step: ',' leads to the next record, ']' ends the array.
              while (i < end && isSpace(b[i]!)) i++;
              consumed = i;
              if (i >= end) break outer;
              const d = b[i]!;
              if (d === 0x5d) {
                i++;
                this.state = S_AFTER_VALUE;
                this.inRecords = false;
                continue outer;
              }
              if (d !== 0x2c) throw unexpected(b, i);
              i++;
              this.state = S_REC;
              while (i < end && isSpace(b[i]!)) i++;
              consumed = i;
              if (i >= end) break outer;
            }
          }
          default: // S_DONE
            throw new JsonSyntaxError(i, `unexpected ${describe(c)} after the end of the JSON value`);
        }
      }
    } finally {
      // Records found before an error are still delivered, in order (a CSV batch's JSON.parse may
      // find an earlier error than the scanner); the caller discards the output anyway.
      this.flush(b);
    }
    return consumed;
  }

  /** A top-level value other than the records b[i, e): what the shape check and meta.size need. */
  private envelopeValue(b: Buffer, i: number, e: number): void {
    const c = b[i];
    if (this.key === 'meta' && c === 0x7b) {
      const meta = JSON.parse(b.toString('utf8', i, e)) as { size?: unknown; type?: unknown };
      if (typeof meta.size === 'number') this.metaSize = meta.size;
      this.metaType = meta.type;
    } else if (this.key === 'errors' && c === 0x5b && e - i <= 1 << 20) {
      this.errorsText = b.toString('utf8', i, e);
    } else if (this.key === 'id' && c === 0x22 && e - i <= 256) {
      this.id = JSON.parse(b.toString('utf8', i, e)) as string;
    }
  }

  /** At end of file: throws unless the top-level value is complete. */
  finish(): void {
    if (this.state !== S_DONE) {
      throw new JsonSyntaxError(
        -1,
        this.inRecords ? 'it ends inside the records array' : 'it ends before the JSON value is complete',
      );
    }
  }
}

/** JSON format: each record validated. */
class ValidatingScanner extends RecordScanner {
  protected scanRecord(b: Buffer, i: number, end: number): number {
    const e = this.skipper.skipValidated(b, i, end);
    if (e >= 0) this.queue(b, i, e, this.skipper.sawSpace);
    return e;
  }
}

/** NDJSON: each record validated and copied, minified, with '\n', to copyTo. */
class CopyingScanner extends RecordScanner {
  /** The last record had whitespace outside strings: the next is minified by skipMinify. */
  private lastSpaced = false;

  constructor(
    options: ScannerOptions,
    private readonly copyTo: CopyTarget,
  ) {
    super(options);
  }

  protected scanRecord(b: Buffer, i: number, end: number): number {
    const copyTo = this.copyTo;
    const skipper = this.skipper;
    // The record is at most the rest of the buffer: make room for that and '\n'.
    if (copyTo.buf.length - copyTo.used <= end - i) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(copyTo.buf.length * 2, copyTo.used + end - i + 1));
      copyTo.buf.copy(bigger, 0, 0, copyTo.used);
      copyTo.buf = bigger;
    }
    let e: number;
    if (this.lastSpaced) {
      // Pretty-printed input (so was the last record): validate and minify in one pass.
      e = skipper.skipMinify(b, i, end, copyTo.buf, copyTo.used);
      if (e >= 0) {
        copyTo.buf[skipper.minOutEnd] = 0x0a;
        copyTo.used = skipper.minOutEnd + 1;
      }
    } else {
      // Compact input: validate, then copy the record's bytes at once (minified by runs if it had
      // whitespace after all).
      skipper.minOut = copyTo.buf;
      skipper.minPos = copyTo.used;
      try {
        e = skipper.skipValidated(b, i, end);
      } finally {
        skipper.minOut = null;
      }
      if (e >= 0) {
        const out = copyTo.buf;
        let o = copyRun(b, skipper.minSeg, e, out, skipper.minPos);
        out[o++] = 0x0a;
        copyTo.used = o;
      }
    }
    if (e >= 0) {
      this.lastSpaced = skipper.sawSpace;
      this.queue(b, i, e, skipper.sawSpace);
    }
    return e;
  }
}

/** CSV from bytes: object records go to `direct` in order; what it declines is handed on alone. */
class DirectScanner extends RecordScanner {
  constructor(
    options: ScannerOptions,
    private readonly direct: (b: Buffer, i: number, end: number) => number,
  ) {
    super(options);
  }

  protected scanRecord(b: Buffer, i: number, end: number): number {
    const first = b[i];
    if (first !== 0x7b) {
      const e = first === 0x5b ? this.skipper.skipBoundaries(b, i, end) : this.skipper.skipValidated(b, i, end);
      if (e >= 0) this.queue(b, i, e, false);
      return e;
    }
    this.flush(b); // the sink sees records in order
    let e = this.direct(b, i, end);
    if (e >= 0) return e;
    e = this.skipper.skipBoundaries(b, i, end);
    if (e >= 0) {
      // Not taken: handed to the sink alone, right now.
      this.queue(b, i, e, false);
      this.flush(b);
    }
    return e;
  }
}

/** CSV by JSON.parse (and shape inspection): boundaries of objects and arrays, scalars validated. */
class BoundaryScanner extends RecordScanner {
  protected scanRecord(b: Buffer, i: number, end: number): number {
    const first = b[i];
    const e =
      first === 0x7b || first === 0x5b ? this.skipper.skipBoundaries(b, i, end) : this.skipper.skipValidated(b, i, end);
    if (e >= 0) this.queue(b, i, e, false);
    return e;
  }
}

/** The scanner for these options; its record mode is fixed here, once. */
export function createRecordScanner(options: ScannerOptions): RecordScanner {
  if (options.validate) {
    return options.copyTo ? new CopyingScanner(options, options.copyTo) : new ValidatingScanner(options);
  }
  return options.direct ? new DirectScanner(options, options.direct) : new BoundaryScanner(options);
}

/** UTF-8 check of consumed bytes (they end at a token boundary, never inside a character). */
export function checkUtf8(b: Buffer, start: number, end: number): boolean {
  return end <= start || isUtf8(b.subarray(start, end));
}
