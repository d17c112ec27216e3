/**
 * Every CSV rule in one place (README.md, "Output formats"). Both flattening paths — parsed
 * records (csv-objects.ts) and records read straight from their bytes (csv-bytes.ts) — call these;
 * neither has a rule of its own. A new rule is one edit here plus a test in test/convert.
 *
 * - columns: nested objects become dotted names (`folder.name`); a column's place is its first
 *   appearance, the parent's fields before the exploded element's fields of the same record;
 * - `meta` → `<prefix>meta.id` (hrefIdEnd/hrefIdStart) and `<prefix>meta.type`; its other fields are
 *   dropped. A collection's meta (a numeric `size`: `accounts`, `notes`, `images` … in entity rows,
 *   docs/api-facts.md §10.5) → `<prefix>size` instead: its href ends in the collection's name;
 * - the report's `explode` array (top level) → one record per element, carrying the parent's
 *   columns (an empty or absent array still gives one record); any other array is one JSON cell;
 * - null is an empty cell; a record that is not an object is one column named `value`;
 * - quoting: a field holding the delimiter, `"`, CR or LF is quoted, `"` doubled (csvQuoter);
 * - numbers: exactly as the JSON text has them (9007199254740993, 1e400 unchanged); money columns
 *   of the report divided by 100 with --rubles, exactly (rublesText);
 * - delimiters that occur in numbers are refused (resolveCsvOptions), so a number is never quoted.
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
  /** A decimal comma in numbers and in the milliseconds of moments (spreadsheets in Russian locales). */
  decimalComma: boolean;
}

export const DEFAULT_CSV: CsvOptions = { delimiter: ',', bom: false, crlf: false, rubles: false, decimalComma: false };

export function resolveCsvOptions(partial: Partial<CsvOptions> | undefined): CsvOptions {
  const o: CsvOptions = { ...DEFAULT_CSV };
  if (partial) {
    if (partial.delimiter !== undefined) o.delimiter = partial.delimiter;
    if (partial.bom !== undefined) o.bom = partial.bom;
    if (partial.crlf !== undefined) o.crlf = partial.crlf;
    if (partial.rubles !== undefined) o.rubles = partial.rubles;
    if (partial.decimalComma !== undefined) o.decimalComma = partial.decimalComma;
    if (partial.columns !== undefined) o.columns = partial.columns;
  }
  const d = o.delimiter === '\\t' ? '\t' : o.delimiter;
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') {
    throw new UsageError(
      `--delimiter must be one character other than a quote or a line break (got ${JSON.stringify(o.delimiter)})`,
    );
  }
  if (o.decimalComma && d === ',') {
    throw new UsageError('--decimal-comma needs another --delimiter than "," (--excel uses ";")');
  }
  if (NUMBER_CHARS.test(d)) {
    // It would have to be quoted inside numbers (-1.5 with '.'), and a quoted number is text to a
    // spreadsheet's import: every such value would change type. README.md, "Output formats".
    throw new UsageError(
      `--delimiter ${JSON.stringify(d)} occurs in numbers (digits, - + . e E): choose another, such as , ; or tab`,
    );
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

/** The characters of a JSON number: never a delimiter. */
const NUMBER_CHARS = /^[-+.0-9eE]$/;

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

/** A number kept as its JSON text (exact-json.ts): CSV writes what the API wrote. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/**
 * Kopecks → rubles, exactly: the decimal point of the number's text is moved two places (no
 * float on the way, so no `0.30000000000000004` and no digits lost), with at least two decimals
 * and trailing zeros beyond them dropped. Very large or small exponents stay exponents (`1e400` →
 * `1e+398`).
 */
export function rublesText(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign = '', int = '0', frac = '', expText] = m;
  const exp = (expText === undefined ? 0 : Number(expText)) - 2;
  const digits = int + frac;
  const point = int.length + exp; // where the decimal point goes in `digits`
  if (expText !== undefined && (point > 21 || point < -6)) {
    return `${sign}${int}${frac === '' ? '' : `.${frac}`}e${exp < 0 ? '' : '+'}${exp}`;
  }
  let whole: string;
  let decimals: string;
  if (point <= 0) {
    whole = '0';
    decimals = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    decimals = '';
  } else {
    whole = digits.slice(0, point);
    decimals = digits.slice(point);
  }
  const out = `${whole.replace(/^0+(?=\d)/, '')}.${decimals.replace(/0+$/, '').padEnd(2, '0')}`;
  return sign === '-' && /[1-9]/.test(out) ? `-${out}` : out;
}

/** rublesText of a parsed number (its shortest text). */
export function formatRubles(kopecks: number): string {
  return rublesText(String(kopecks));
}

/** A number's cell text from its JSON text b[s, e): as it is, or in rubles for a money column. */
export function numberText(b: Uint8Array, s: number, e: number, money: boolean): string {
  const text = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
  return money ? rublesText(text) : text;
}

/** A parsed number's cell text (the object path): its JSON text when kept, else its shortest text. */
export function numberValueText(n: number | JsonNumber, money: boolean): string {
  const text = typeof n === 'number' ? String(n) : n.text;
  return money ? rublesText(text) : text;
}

/** The column a collection's meta gives, beside `meta`: `accounts.size` (isCollectionMeta). */
export const COLLECTION_SIZE = 'size';

/** A meta with a numeric `size` describes a collection, not an entity. */
export function isCollectionMeta(size: unknown): size is number | JsonNumber {
  return typeof size === 'number' || size instanceof JsonNumber;
}

/**
 * A moment with a fraction of a second, `YYYY-MM-DD HH:MM:SS.mmm`: with --decimal-comma its '.'
 * becomes ',' (at MOMENT_POINT), so that a spreadsheet in a Russian locale reads it as a date-time
 * with its milliseconds, like the moments without them; with '.', LibreOffice ru-RU took it for
 * text, and one column held dates and text (README.md, "Excel").
 */
export function isFractionalMoment(b: Uint8Array | string, s: number, e: number): boolean {
  if (e - s < 21 || e - s > 29) return false;
  const at = (k: number): number => (typeof b === 'string' ? b.charCodeAt(s + k) : b[s + k]!);
  for (let k = 0; k < e - s; k++) {
    const c = at(k);
    const want = MOMENT_SHAPE[k] ?? 0x30;
    if (want === 0x30 ? c < 0x30 || c > 0x39 : c !== want) return false;
  }
  return true;
}
/** '0' stands for any digit. */
const MOMENT_SHAPE = Buffer.from('0000-00-00 00:00:00.');
export const MOMENT_POINT = 19;

/** The dotted name of a column: `parent.key`, or `key` under the root (parentName null). */
export function columnName(parentName: string | null, key: string): string {
  return parentName === null ? key : `${parentName}.${key}`;
}
