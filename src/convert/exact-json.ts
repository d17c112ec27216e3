/**
 * JSON for the CSV object path that keeps every number as its JSON text (JsonNumber), so that CSV
 * never changes a value: JSON.parse turns 9007199254740993 into …992, 1e400 into Infinity and
 * 1e-400 into 0 (issue 14 item 7), and Node 20 has no way to see a number's source text. Used for
 * the records the byte path declines and for delimiters it cannot use; the byte path itself reads
 * numbers from the bytes. Input must be valid JSON (the scanner or a failed JSON.parse says where
 * it is not).
 */
import { BadResultError } from '../errors.js';
import { JsonNumber } from './csv-rules.js';

/**
 * Deeper nesting is no MoySklad result (their rows nest a few levels): refused with a clear error
 * instead of overflowing the stack of this recursive parser (issue 14 item 6).
 */
const MAX_DEPTH = 1000;

/** Parses valid JSON text like JSON.parse, numbers as JsonNumber. */
export function parseExact(text: string): unknown {
  const p = { text, i: 0, depth: 0 };
  return value(p);
}

interface Cursor {
  text: string;
  i: number;
  depth: number;
}

function enter(p: Cursor): void {
  if (++p.depth > MAX_DEPTH) {
    throw new BadResultError(`a record nests deeper than ${MAX_DEPTH} levels: this is not a MoySklad result`);
  }
}

function ws(p: Cursor): number {
  const t = p.text;
  let i = p.i;
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else {
      p.i = i;
      return c;
    }
  }
}

function value(p: Cursor): unknown {
  const c = ws(p);
  const t = p.text;
  if (c === 0x7b) {
    p.i++;
    enter(p);
    const obj: Record<string, unknown> = {};
    if (ws(p) === 0x7d) {
      p.i++;
      p.depth--;
      return obj;
    }
    for (;;) {
      ws(p);
      const key = string(p);
      ws(p);
      p.i++; // ':'
      const v = value(p);
      // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
      if (key === '__proto__')
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      const d = ws(p);
      p.i++;
      if (d === 0x7d) {
        p.depth--;
        return obj;
      }
    }
  }
  if (c === 0x5b) {
    p.i++;
    enter(p);
    const arr: unknown[] = [];
    if (ws(p) === 0x5d) {
      p.i++;
      p.depth--;
      return arr;
    }
    for (;;) {
      arr.push(value(p));
      const d = ws(p);
      p.i++;
      if (d === 0x5d) {
        p.depth--;
        return arr;
      }
    }
  }
  if (c === 0x22) return string(p);
  if (c === 0x74) {
    p.i += 4;
    return true;
  }
  if (c === 0x66) {
    p.i += 5;
    return false;
  }
  if (c === 0x6e) {
    p.i += 4;
    return null;
  }
  const s = p.i;
  let i = s;
  for (;;) {
    const d = t.charCodeAt(i);
    if ((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b || d === 0x2e || d === 0x65 || d === 0x45) i++;
    else break;
  }
  p.i = i;
  return new JsonNumber(t.slice(s, i));
}

function string(p: Cursor): string {
  const t = p.text;
  const s = p.i;
  let i = s + 1;
  let escaped = false;
  for (;;) {
    const c = t.charCodeAt(i++);
    if (c === 0x22) break;
    if (c === 0x5c) {
      escaped = true;
      i++;
    }
  }
  p.i = i;
  return escaped ? (JSON.parse(t.slice(s, i)) as string) : t.slice(s + 1, i - 1);
}

/** JSON.stringify that writes JsonNumber as its text (the JSON cell of an array kept whole). */
export function stringifyExact(v: unknown): string {
  if (v instanceof JsonNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map((x) => stringifyExact(x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(v))
      parts.push(`${JSON.stringify(key)}:${stringifyExact((v as Record<string, unknown>)[key])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
