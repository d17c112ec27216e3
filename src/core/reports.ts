/** `reports`: the catalogue as data (README.md "Command reference"). */
import { REPORTS, type ReportSpec } from '../reports/catalog.js';

export interface ReportRow {
  alias: string;
  path: string;
  title: string;
  required: string[];
  records: ReportSpec['records'];
  explode: string | null;
  /** Takes `--period`/`--split` (momentFrom/momentTo). */
  period: boolean;
}

export function listReports(): ReportRow[] {
  return REPORTS.map((r) => ({
    alias: r.alias, path: r.path, title: r.title, required: [...r.required], records: r.records, explode: r.explode ?? null, period: r.period === true,
  }));
}
