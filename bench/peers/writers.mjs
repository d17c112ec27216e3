// The record → text writers shared by the peers (naive JSON.parse and stream-json), so that the
// peers differ from each other only in how they get the records. The CSV rules follow
// README.md "Output formats": nested objects → dotted columns, a `meta` object → `<prefix>meta.id` (the UUID at
// the end of its href) and `<prefix>meta.type`, the catalogue's detail array (`stockByStore` for
// stock-bystore) exploded into one CSV record per element carrying the parent's columns, any other
// array → one JSON-encoded cell, RFC 4180 quoting, header row first, `\n` line ends.

const NEEDS_QUOTES = /[",\r\n]/;

function cell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
  }
  if (typeof value === 'object') return cell(JSON.stringify(value));
  return String(value);
}

function metaId(href) {
  if (typeof href !== 'string') return '';
  const q = href.indexOf('?');
  const path = q >= 0 ? href.slice(0, q) : href;
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Flattens `obj` into [column, value] pairs (object → dotted names, meta → id + type). */
function flatten(obj, prefix, out, skip) {
  for (const key of Object.keys(obj)) {
    if (key === skip) continue;
    const value = obj[key];
    const name = prefix + key;
    if (key === 'meta' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push([`${name}.id`, metaId(value.href)], [`${name}.type`, value.type]);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      flatten(value, `${name}.`, out, undefined);
    } else {
      out.push([name, value]);
    }
  }
  return out;
}

/**
 * A CSV writer: `write(record)` returns the CSV text for that record (its exploded lines), the
 * header being emitted before the first record. Columns come from the first record, as a
 * streaming writer must decide them before it has seen the rest.
 */
export function createCsvWriter(explode) {
  let columns;
  return function write(record) {
    const parent = flatten(record, '', [], explode);
    const details = explode && Array.isArray(record[explode]) ? record[explode] : [];
    const rows =
      details.length === 0 ? [parent] : details.map((d) => parent.concat(flatten(d, `${explode}.`, [], undefined)));
    let text = '';
    if (!columns) {
      columns = rows[0].map(([name]) => name);
      text += `${columns.map(cell).join(',')}\n`;
    }
    for (const pairs of rows) {
      const byName = new Map(pairs);
      let line = '';
      for (let i = 0; i < columns.length; i++) {
        if (i) line += ',';
        line += cell(byName.get(columns[i]));
      }
      text += `${line}\n`;
    }
    return text;
  };
}

export function createNdjsonWriter() {
  return (record) => `${JSON.stringify(record)}\n`;
}

export function createWriter(format, explode) {
  if (format === 'csv') return createCsvWriter(explode);
  if (format === 'ndjson') return createNdjsonWriter();
  throw new Error(`unknown format: ${format}`);
}

/** The catalogue's detail array per report (src/reports/catalog.ts); only what the bench uses. */
export const EXPLODE = { 'stock-bystore': 'stockByStore' };

/**
 * A record as output lines of [column, value] pairs, with the CSV's flattening (values keep their
 * JSON types): what the XLSX peers write.
 */
export function flattenLines(record, explode) {
  const parent = flatten(record, '', [], explode);
  const details = explode && Array.isArray(record[explode]) ? record[explode] : [];
  return details.length === 0 ? [parent] : details.map((d) => parent.concat(flatten(d, `${explode}.`, [], undefined)));
}
