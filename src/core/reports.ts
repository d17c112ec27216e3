/** `reports`: the catalogue as data (README.md "Command reference"). */
import { REPORTS, type ReportSpec } from '../reports/catalog.js';
import { REPORT_COLUMNS } from '../reports/columns.js';

export interface ReportRow {
  alias: string;
  path: string;
  title: string;
  required: string[];
  records: ReportSpec['records'];
  explode: string | null;
  /** Columns holding kopecks, divided by 100 with --rubles. */
  money: string[];
  /** Every column a CSV of this report can have (what --columns accepts). */
  columns: string[];
  /** Takes `--period`/`--split` (momentFrom/momentTo). */
  period: boolean;
}

export function listReports(): ReportRow[] {
  return REPORTS.map((r) => ({
    alias: r.alias,
    path: r.path,
    title: r.title,
    required: [...r.required],
    records: r.records,
    explode: r.explode ?? null,
    period: r.period === true,
    money: [...r.money],
    columns: [...(REPORT_COLUMNS[r.alias] ?? [])],
  }));
}
