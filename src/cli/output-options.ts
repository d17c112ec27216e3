/** The output flags shared by fetch, export and convert (README.md "Output formats"). */
import { Option, type Command } from 'commander';
import type { CsvOptions } from '../convert/index.js';

export interface OutputFlags {
  out?: string;
  format?: string;
  columns?: string;
  delimiter?: string;
  bom?: boolean;
  crlf?: boolean;
  excel?: boolean;
  rubles?: boolean;
  decimalComma?: boolean;
}

export function addOutputOptions(command: Command): Command {
  return command
    .requiredOption('-o, --out <file>', 'output file (.csv, .ndjson/.jsonl, .json, .xlsx), or - for stdout')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: from the --out extension; ndjson for -)').choices([
        'csv',
        'ndjson',
        'jsonl',
        'json',
        'xlsx',
      ]),
    )
    .option(
      '--columns <list>',
      'CSV/XLSX: pick and order columns, comma-separated (e.g. meta.id,name,stockByStore.stock)',
    )
    .option('--delimiter <char>', 'CSV: field delimiter (default ",")')
    .option('--bom', 'CSV: start with a UTF-8 byte-order mark')
    .option('--crlf', 'CSV: end lines with CRLF')
    .option(
      '--excel',
      'CSV for Excel/LibreOffice in Russian locales: --delimiter ";" --bom --crlf --decimal-comma --rubles',
    )
    .option('--rubles', 'CSV: money columns in rubles instead of kopecks')
    .option('--no-rubles', 'CSV (with --excel) and XLSX: keep money in kopecks')
    .option('--decimal-comma', "CSV: a decimal comma in numbers (234,392) and in moments' milliseconds");
}

/** CSV options from the flags; --excel sets the Excel defaults, explicit flags still win. */
export function csvOptionsFrom(flags: OutputFlags): Partial<CsvOptions> {
  const csv: Partial<CsvOptions> = {};
  if (flags.excel) Object.assign(csv, { delimiter: ';', bom: true, crlf: true, decimalComma: true, rubles: true });
  if (flags.delimiter !== undefined) csv.delimiter = unescapeDelimiter(flags.delimiter);
  if (flags.bom) csv.bom = true;
  if (flags.crlf) csv.crlf = true;
  if (flags.rubles !== undefined) csv.rubles = flags.rubles; // --no-rubles: false
  if (flags.decimalComma) csv.decimalComma = true;
  if (flags.columns !== undefined) {
    csv.columns = flags.columns
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
  }
  return csv;
}

/** `--delimiter '\t'` and `--delimiter tab` both mean a tab. */
function unescapeDelimiter(text: string): string {
  if (text === '\\t' || text.toLowerCase() === 'tab') return '\t';
  return text;
}
