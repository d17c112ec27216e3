import { parseMoscowWallClock } from '../../moscow-time.js';

/**
 * The SpreadsheetML text rules the sheet writer needs: cell references, text escaping, number
 * and date-time values (ECMA-376 Part 1, §18.3.1 and §22.9.2; README.md, "XLSX").
 */

/** Rows per sheet left for records once the header takes row 1 (Excel's last row is 1,048,576). */
export const MAX_RECORDS_PER_SHEET = 1_048_575;
/** Excel refuses a cell longer than this (it "repairs" the file by dropping the cell). */
export const MAX_CELL_CHARS = 32_767;

/** `A`, `B`, …, `Z`, `AA`, … for a 0-based column index. */
export function columnLetters(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = (n - 1 - r) / 26;
  }
  return s;
}

/**
 * What an XML text node cannot carry as it is: markup characters, CR (XML readers turn a raw CR
 * into LF, so it would come back as a different string), characters XML 1.0 forbids (C0 controls
 * but tab and LF, U+FFFE/U+FFFF, lone surrogates) and text that already looks like an OOXML
 * `_xHHHH_` escape (its underscore is escaped so that readers do not decode it).
 */
const NEEDS_ESCAPE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters XML 1.0 forbids are what it finds
  /[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|_x[0-9a-fA-F]{4}_/;
const ESCAPE_ALL = new RegExp(NEEDS_ESCAPE.source, 'g');
/** A quick first test (one character class, no look-around): most strings need nothing. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: as NEEDS_ESCAPE
const MAYBE_ESCAPE = /[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff_]/;

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function escapeOne(m: string): string {
  if (m === '&') return '&amp;';
  if (m === '<') return '&lt;';
  if (m === '>') return '&gt;';
  if (m.length > 1) return `_x005F_${m.slice(1)}`; // a literal `_x0041_`: escape its underscore
  return `_x${hex4(m.charCodeAt(0))}_`;
}

/** Text as the content of `<t>`, to be read back exactly as given. */
export function escapeText(s: string): string {
  return MAYBE_ESCAPE.test(s) && NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE_ALL, escapeOne) : s;
}

/** Whether `<t>` needs xml:space="preserve" (leading or trailing whitespace would be trimmed). */
export function needsPreserve(s: string): boolean {
  if (s.length === 0) return false;
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  return a <= 0x20 || z <= 0x20;
}

/** An attribute value (sheet names, references). */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

const DAY_MS = 86_400_000;
/** 1899-12-30, day 0 of Excel's 1900 date system for every date from 1900-03-01 on. */
const EPOCH_MS = Date.UTC(1899, 11, 30);
const FIRST_SAFE = Date.UTC(1900, 2, 1);

/**
 * The serial date-time of a moment as the API writes it (`2026-11-30 12:34:56.789`, Moscow time,
 * docs/api-facts.md §1.5), kept in the same wall clock (no zone conversion: a spreadsheet has no
 * zones), or undefined when the text is not such a moment, names a day that does not exist
 * (`2026-02-30`), or falls before 1900-03-01 (Excel's fictitious 1900-02-29 shifts earlier
 * serials); those stay text.
 */
export function momentSerial(text: string): string | undefined {
  const wall = parseMoscowWallClock(text);
  if (wall === undefined || wall < FIRST_SAFE) return undefined;
  // The parser lets Date.UTC roll 02-30 over into March, and 24:00 into the next day.
  const iso = new Date(wall).toISOString();
  const t = text.trim();
  if (iso.slice(0, 10) !== t.slice(0, 10) || (t.length > 10 && iso.slice(11, 16) !== t.slice(11, 16))) return undefined;
  // The shortest text that reads back as this double: exact to well under a millisecond.
  return String((wall - EPOCH_MS) / DAY_MS);
}
