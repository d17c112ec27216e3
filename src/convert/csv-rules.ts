/**
 * Every CSV rule in one place (README.md, "Output formats"). Both flattening paths — parsed
 * records (csv-objects.ts) and records read straight from their bytes (csv-bytes.ts) — call these;
 * neither has a rule of its own. A new rule is one edit here plus a test in test/convert.
 *
 * - columns: nested objects become dotted names (`folder.name`); a column's place is its first
 *   appearance, the parent's fields before the exploded element's fields of the same record;
 * - `meta` → `<prefix>meta.id` (hrefIdBounds) and `<prefix>meta.type`; its other fields are dropped;
 * - the report's `explode` array (top level) → one record per element, carrying the parent's
 *   columns (an empty or absent array still gives one record); any other array is one JSON cell;
 * - null is an empty cell; a record that is not an object is one column named `value`;
 * - quoting: a field holding the delimiter, `"`, CR or LF is quoted, `"` doubled (csvQuoter);
 * - numbers: as the JSON text has them when canonical (numberNeedsWork); money columns of the
 *   report divided by 100 with --rubles (formatRubles).
 */
import { UsageError } from '../errors.js';

export interface CsvOptions {
  /** Pick and order columns by name; names no record has are left empty (the caller warns). */
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

/** What the report contributes to the rules: the exploded array and the money columns. */
export interface CsvReportRules {
  explode?: string | undefined;
  money?: readonly string[];
}

/** The one quoting rule, for a delimiter: which fields need quotes, and the quoted form. */
export interface CsvQuoter {
  /** The delimiter, `"`, CR or LF. */
  readonly needsQuotes: RegExp;
  quote(s: string): string;
}

export function csvQuoter(delimiter: string): CsvQuoter {
  const needsQuotes = new RegExp(`[${delimiter.replace(/[\\\]^-]/g, '\\$&')}"\\r\\n]`);
  return {
    needsQuotes,
    quote: (s) => (needsQuotes.test(s) ? `"${s.replace(/"/g, '""')}"` : s),
  };
}

/**
 * The entity id of a meta's href b[s, e) is its last path segment, with the query (`?expand=…`),
 * fragment and trailing slashes stripped: hrefIdEnd gives its end, hrefIdStart its start. '?',
 * '#' and '/' are ASCII, so this works on UTF-8 bytes without decoding them.
 */
export function hrefIdEnd(b: Uint8Array, s: number, e: number): number {
  let end = s;
  while (end < e && b[end] !== 0x3f && b[end] !== 0x23) end++;
  while (end > s && b[end - 1] === 0x2f) end--;
  return end;
}

export function hrefIdStart(b: Uint8Array, s: number, idEnd: number): number {
  let start = idEnd;
  while (start > s && b[start - 1] !== 0x2f) start--;
  return start;
}

/** The same rule for a parsed href (the object path). */
export function hrefId(href: unknown): string {
  if (typeof href !== 'string') return '';
  const b = Buffer.from(href, 'utf8');
  const end = hrefIdEnd(b, 0, b.length);
  return b.toString('utf8', hrefIdStart(b, 0, end), end);
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

/** A number's cell text from its JSON text b[s, e) (not canonical or money: see numberNeedsWork). */
export function numberText(b: Uint8Array, s: number, e: number, money: boolean): string {
  const n = Number(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'));
  return money ? formatRubles(n) : String(n);
}

/** A parsed number's cell text (the object path). */
export function numberValueText(n: number, money: boolean): string {
  return money ? formatRubles(n) : String(n);
}

/**
 * Whether the (valid) JSON number b[s, e) prints as itself after JSON.parse + String() (else it
 * goes through numberText): no exponent, no trailing zero in the fraction, not negative zero, at
 * most 15 significant digits (a decimal of ≤ 15 digits is the shortest that round-trips through
 * its double, so String() gives back exactly those digits) and at least 1e-6 (below that String()
 * uses an exponent).
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

/** The dotted name of a column: `parent.key`, or `key` under the root (parentName null). */
export function columnName(parentName: string | null, key: string): string {
  return parentName === null ? key : `${parentName}.${key}`;
}
