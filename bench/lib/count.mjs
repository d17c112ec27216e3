// Light correctness: how many records an output holds. NDJSON: lines. CSV: record ends, i.e.
// LFs outside quoted fields (RFC 4180: a quoted field may hold CR/LF), minus the header row.
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';

export async function countRecords(path, format) {
  if (format === 'xlsx') return countXlsxRows(path);
  let records = 0;
  let inQuotes = false;
  let last = 0x0a;
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (format === 'ndjson') {
      for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) records++;
    } else {
      for (let i = 0; i < buf.length; i++) {
        const b = buf[i];
        if (b === 0x22) inQuotes = !inQuotes;
        else if (b === 0x0a && !inQuotes) records++;
      }
    }
    if (buf.length) last = buf[buf.length - 1];
  }
  if (last !== 0x0a) records++; // a last line without its LF still counts
  if (format === 'csv' && records > 0) records--; // the header
  return { records, bytes: statSync(path).size };
}

/** XLSX: `<row` elements of every sheet, less one header row per sheet (needs `unzip`). */
function countXlsxRows(path) {
  try {
    const list = execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' })
      .split('\n')
      .filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n));
    let records = 0;
    for (const name of list) {
      const out = execFileSync('sh', ['-c', 'unzip -p "$0" "$1" | grep -o "<row[ >]" | wc -l', path, name], {
        encoding: 'utf8',
      });
      records += Number(out.trim()) - 1;
    }
    return { records, bytes: statSync(path).size };
  } catch {
    return { records: undefined, bytes: statSync(path).size };
  }
}
