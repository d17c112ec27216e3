/**
 * Reads an .xlsx back with SheetJS (an independent reader: none of our writer's code), giving
 * each cell's type, raw value and number format, and the sheet parts' XML for layout checks.
 */
import { createRequire } from 'node:module';
import type * as XLSXTypes from 'xlsx';

const XLSX = createRequire(import.meta.url)('xlsx') as typeof XLSXTypes;

export interface ReadCell {
  /** SheetJS cell type: n number, s string, b boolean (e error, z stub). */
  t: string;
  v: unknown;
  /** Number format, for numbers. */
  z?: string;
  /** The value as the cell's number format shows it. */
  w?: string;
}

export interface ReadSheet {
  name: string;
  /** Rows of cells (undefined: empty); row 0 is the header. */
  rows: Array<Array<ReadCell | undefined>>;
  autofilter?: string;
  xml: string;
}

export function readXlsx(bytes: Buffer): { sheets: ReadSheet[]; files: Record<string, string> } {
  const wb = XLSX.read(bytes, { type: 'buffer', cellNF: true, cellDates: false, bookFiles: true, dense: false });
  const files: Record<string, string> = {};
  const raw =
    (wb as unknown as { files?: Record<string, { content?: Uint8Array; _data?: { getContent(): Uint8Array } }> })
      .files ?? {};
  for (const [name, f] of Object.entries(raw)) {
    const content = f.content ?? f._data?.getContent();
    if (content) files[name.replace(/^\//, '')] = Buffer.from(content).toString('utf8');
  }
  const sheets = wb.SheetNames.map((name, k) => {
    const ws = wb.Sheets[name]!;
    const range = XLSX.utils.decode_range(ws['!ref'] ?? 'A1:A1');
    const rows: Array<Array<ReadCell | undefined>> = [];
    for (let r = range.s.r; r <= range.e.r; r++) {
      const row: Array<ReadCell | undefined> = [];
      for (let c = range.s.c; c <= range.e.c; c++) {
        const cell = ws[XLSX.utils.encode_cell({ r, c })] as XLSXTypes.CellObject | undefined;
        if (!cell) {
          row.push(undefined);
          continue;
        }
        const out: ReadCell = { t: cell.t, v: cell.v };
        if (cell.t === 'n' && typeof cell.z === 'string') {
          out.z = cell.z;
          out.w = XLSX.SSF.format(cell.z, cell.v as number);
        }
        row.push(out);
      }
      rows.push(row);
    }
    const autofilter = (ws['!autofilter'] as { ref?: string } | undefined)?.ref;
    return { name, rows, xml: files[`xl/worksheets/sheet${k + 1}.xml`] ?? '', ...(autofilter ? { autofilter } : {}) };
  });
  return { sheets, files };
}

/** An Excel serial date-time as `YYYY-MM-DD HH:MM:SS.mmm` (the wall clock it stands for). */
export function serialToText(serial: number): string {
  const ms = Math.round((serial - 25569) * 86_400_000);
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
