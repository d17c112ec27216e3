/**
 * CSV flattening (README.md, "Output formats"), assembled from its layers: the rules
 * (csv-rules.ts), the column table they fill (columns.ts), the two paths that read records —
 * straight from their bytes (csv-bytes.ts, the fast path) or as parsed values (csv-objects.ts) —
 * and the CSV line writer (csv-line.ts). The paths share only what lies underneath them.
 */
import { ColumnTable } from './columns.js';
import { ByteFlattener } from './csv-bytes.js';
import { CsvLineWriter } from './csv-line.js';
import { ObjectFlattener } from './csv-objects.js';
import type { CsvOptions, CsvReportRules } from './csv-rules.js';
import type { CopyTarget } from './scan.js';

export type { CsvOptions } from './csv-rules.js';
export { DEFAULT_CSV, resolveCsvOptions } from './csv-rules.js';

/**
 * Flattens records into CSV lines, encoded into `out` (the caller takes and resets it). Without
 * `columns`, `columnCount` grows as columns appear, so early lines may be shorter than the final
 * header (the caller pads them: CsvBody in csv-output.ts).
 */
export class CsvFlattener {
  readonly table: ColumnTable;
  readonly lineWriter: CsvLineWriter;
  private readonly objects: ObjectFlattener;
  private readonly bytes: ByteFlattener;

  constructor(
    private readonly options: CsvOptions,
    report: CsvReportRules = {},
  ) {
    this.table = new ColumnTable({ columns: options.columns, rubles: options.rubles }, report);
    this.lineWriter = new CsvLineWriter(options.delimiter, options.crlf, options.decimalComma);
    this.objects = new ObjectFlattener(this.table, this.lineWriter);
    this.bytes = new ByteFlattener(this.table, this.lineWriter, options.delimiter);
  }

  get out(): CopyTarget {
    return this.lineWriter.out;
  }
  set out(target: CopyTarget) {
    this.lineWriter.out = target;
  }
  get lines(): number {
    return this.table.lines;
  }
  get columnCount(): number {
    return this.table.columnCount;
  }
  get names(): readonly string[] {
    return this.table.names;
  }
  get discovered(): readonly string[] {
    return this.table.discovered;
  }
  get epochs(): ReadonlyArray<readonly [number, number]> {
    return this.table.epochs;
  }
  get delimiter(): string {
    return this.lineWriter.delimiter;
  }
  get eol(): string {
    return this.lineWriter.eol;
  }
  get decimalComma(): boolean {
    return this.options.decimalComma;
  }
  /** Whether the byte path can be used (a plain ASCII delimiter). */
  get bytesPath(): boolean {
    return this.bytes.usable;
  }

  /** The header line (names quoted like any other field). */
  header(): string {
    return this.lineWriter.header(this.table.names);
  }

  /** Money columns to pad to one number of decimals (see ColumnTable.moneyPads). */
  moneyPads(): Map<number, number> {
    return this.table.moneyPads();
  }

  /** Requested columns that no record had (only meaningful with --columns). */
  missingColumns(): string[] {
    return this.table.missingColumns();
  }

  /** One parsed record (see ObjectFlattener.add on `latin1`). */
  add(record: unknown, latin1 = false): void {
    this.objects.add(record, latin1);
  }

  /** The record b[start, end) from its bytes; false: not taken, nothing changed (use add). */
  addBytes(b: Buffer, start: number, end: number): boolean {
    return this.bytes.addBytes(b, start, end);
  }

  /** The object record at b[i] from its bytes: the index after it, or -1 (see ByteFlattener). */
  flattenAt(b: Buffer, i: number, end: number): number {
    return this.bytes.flattenAt(b, i, end);
  }

  /** The lines written so far as text, emptying `out` (tests). */
  takeBatch(): string {
    const out = this.lineWriter.out;
    const text = out.buf.toString('utf8', 0, out.used);
    out.used = 0;
    return text;
  }
}
