/**
 * Every catalogue report exported to all three formats and checked record by record against the
 * sandbox's generated data (issue 4). CSV is read back by csv-parse — a real parser, not our
 * writer — and compared with an independent flattening of the expected records written here
 * from the contract's rules.
 */
import { JsonNumber } from '../../src/convert/csv-rules.js';
import { parseExact, stringifyExact } from '../../src/convert/exact-json.js';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli } from '../helpers/test-io.js';
import { REPORTS, type ReportSpec } from '../../src/reports/catalog.js';
import { generateRecords, HOSTILE_STRINGS, type Sandbox } from '../../src/sandbox/index.js';

const TOKEN = 'tok-REPORTS-a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROWS = 24; // more than HOSTILE_STRINGS' 16, so every hostile value appears
const STORES = 3;
const SEED = 1;
const PLOT_PARAMS = [
  '-p',
  'momentFrom=2026-03-01 00:00:00',
  '-p',
  'momentTo=2026-03-20 00:00:00',
  '-p',
  'interval=day',
];

let sb: Sandbox;
let dir: string;
const outputs: string[] = [];

beforeAll(async () => {
  sb = await startTestSandbox({ token: TOKEN, rows: ROWS, stores: STORES, seed: SEED });
  dir = await mkdtemp(join(tmpdir(), 'ms-async-reports-'));
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

type Json = Record<string, unknown>;

async function exportTo(spec: ReportSpec, file: string): Promise<string> {
  const params = spec.required.length > 0 ? PLOT_PARAMS : [];
  const out = join(dir, file);
  const r = await runCli(
    ['export', spec.alias, ...params, '--out', out],
    { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 5 },
    outputs,
  );
  expect(r.code, r.stderr).toBe(0);
  return readFile(out, 'utf8');
}

function recordsOf(spec: ReportSpec, body: Json): Json[] {
  if (spec.records === 'root') return [body];
  return body[spec.records] as Json[];
}

/** What the sandbox generated for this report, from its seed (the request URL sets plot buckets). */
function expectedRecords(spec: ReportSpec, body: Json, count: number): Json[] {
  const requestUrl = (body.meta as { href?: string } | undefined)?.href;
  const options = { rows: count, seed: SEED, stores: STORES, baseUrl: sb.baseUrl, fieldForms: sb.options.fieldForms };
  return [...generateRecords(spec.alias, { ...options, ...(requestUrl ? { requestUrl } : {}) })];
}

// --- an independent flattening, straight from README.md "Output formats" -----------------

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return stringifyExact(value);
  // Numbers as the file wrote them (`80000.0` stays): CSV never changes a value.
  if (value instanceof JsonNumber) return value.text;
  return String(value);
}

function flattenObject(value: Json, prefix: string, out: Record<string, string>): void {
  for (const [key, child] of Object.entries(value)) {
    if (key === 'meta' && (child as { size?: unknown } | null)?.size instanceof JsonNumber) {
      // A collection's meta (accounts, notes …): its size.
      out[`${prefix}size`] = (child as { size: JsonNumber }).size.text;
    } else if (key === 'meta' && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const meta = child as { href?: string; type?: string };
      const path = (meta.href ?? '').split('?')[0] ?? '';
      out[`${prefix}meta.id`] = path.slice(path.lastIndexOf('/') + 1);
      out[`${prefix}meta.type`] = meta.type ?? '';
    } else if (child !== null && typeof child === 'object' && !Array.isArray(child) && !(child instanceof JsonNumber)) {
      flattenObject(child as Json, `${prefix}${key}.`, out);
    } else {
      out[`${prefix}${key}`] = cell(child);
    }
  }
}

function flattenRecord(record: Json, explode: string | undefined): Array<Record<string, string>> {
  const { [explode ?? '\u0000']: detail, ...parentFields } = record;
  const parent: Record<string, string> = {};
  flattenObject(explode ? parentFields : record, '', parent);
  if (!explode || !Array.isArray(detail) || detail.length === 0) return [parent];
  return detail.map((element) => {
    const row = { ...parent };
    flattenObject(element as Json, `${explode}.`, row);
    return row;
  });
}

describe.each(REPORTS.map((spec) => [spec.alias, spec] as const))('export %s', (_alias, spec) => {
  let body: Json;
  let expected: Json[];
  /** The records with every number as its JSON text. */
  let exact: Json[];

  beforeAll(async () => {
    const text = await exportTo(spec, `${spec.alias}.json`);
    body = JSON.parse(text) as Json;
    exact = recordsOf(spec, parseExact(text) as Json);
    const records = recordsOf(spec, body);
    expected = expectedRecords(spec, body, records.length);
  });

  it('json: the result file, holding exactly the generated records', () => {
    const records = recordsOf(spec, body);
    if (spec.records === 'rows') expect(records).toHaveLength(ROWS);
    expect(records.length).toBeGreaterThan(0);
    expect(records).toEqual(expected);
  });

  it('ndjson: one line per record, each equal to the generated record', async () => {
    const text = await exportTo(spec, `${spec.alias}.ndjson`);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.map((line) => JSON.parse(line) as Json)).toEqual(expected);
  });

  it('csv: read back by csv-parse, every cell equals the flattened record', async () => {
    const text = await exportTo(spec, `${spec.alias}.csv`);
    const rows = parseCsv(text, { columns: true, relax_quotes: false }) as Array<Record<string, string>>;
    expect(exact).toHaveLength(expected.length);
    const want = exact.flatMap((record) => flattenRecord(record, spec.explode));
    expect(rows).toHaveLength(want.length);
    const header = Object.keys(rows[0] ?? {});
    expect(new Set(header)).toEqual(new Set(want.flatMap((row) => Object.keys(row))));
    rows.forEach((row, i) => {
      const full = Object.fromEntries(header.map((column) => [column, want[i]?.[column] ?? '']));
      expect(row, `CSV record ${i}`).toEqual(full);
    });
  });
});

describe('CSV details', () => {
  it('stock-bystore explodes into products × stores records, carrying the product columns', async () => {
    const text = await exportTo(REPORTS.find((r) => r.alias === 'stock-bystore')!, 'sbs.csv');
    const rows = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(ROWS * STORES);
    for (let product = 0; product < ROWS; product++) {
      const group = rows.slice(product * STORES, (product + 1) * STORES);
      expect(new Set(group.map((r) => r['meta.id'])).size).toBe(1);
      expect(new Set(group.map((r) => r['stockByStore.meta.id'])).size).toBe(STORES);
    }
  });

  it('every hostile string survives the CSV round trip somewhere in the exports', async () => {
    const seen = new Set<string>();
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.csv')) continue;
      const rows = parseCsv(await readFile(join(dir, file), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      for (const row of rows) for (const value of Object.values(row)) seen.add(value);
    }
    const missing = HOSTILE_STRINGS.filter((s) => ![...seen].some((value) => value === s || value.includes(s)));
    expect(missing).toEqual([]);
  });

  it('--excel writes a BOM, semicolons and CRLF that csv-parse reads back', async () => {
    const out = join(dir, 'excel-stock-all.csv');
    const r = await runCli(['-q', 'export', 'stock-all', '--out', out, '--excel'], {
      env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN },
      realCapMs: 5,
    });
    expect(r.code, r.stderr).toBe(0);
    const bytes = await readFile(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text.split('\r\n')[0]).toContain(';');
    // Parsed with CRLF as the only record delimiter: a bare LF between records would merge them.
    const rows = parseCsv(text, { columns: true, delimiter: ';', record_delimiter: '\r\n' }) as Array<
      Record<string, string>
    >;
    expect(rows).toHaveLength(ROWS);
  });

  it('--columns picks and orders; a name no record has is left empty with a warning, exit 0', async () => {
    const out = join(dir, 'columns.csv');
    // An API path has no catalogue check (an alias would refuse the typo: test/cli/hints.test.ts).
    const r = await runCli(
      ['export', '/report/stock/bystore', '--out', out, '--columns', 'stockByStore.name,meta.id,stockByStore.stok'],
      { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 5 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /warning: --columns: no record has "stockByStore\.stok" \(left empty\); the result's columns are: meta\.id, meta\.type, stockByStore\.meta\.id/,
    );
    const rows = parseCsv(await readFile(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['stockByStore.name', 'meta.id', 'stockByStore.stok']);
    expect(rows).toHaveLength(ROWS * STORES);
    expect(rows.every((row) => row['stockByStore.stok'] === '' && row['meta.id'] !== '')).toBe(true);
  });

  it('--rubles divides the money columns by 100 and leaves the rest', async () => {
    const spec = REPORTS.find((r) => r.alias === 'stock-all')!;
    const plain = parseCsv(await exportTo(spec, 'kopecks.csv'), { columns: true }) as Array<Record<string, string>>;
    const out = join(dir, 'rubles.csv');
    const r = await runCli(['-q', 'export', 'stock-all', '--out', out, '--rubles'], {
      env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN },
      realCapMs: 5,
    });
    expect(r.code).toBe(0);
    const rubles = parseCsv(await readFile(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    rubles.forEach((row, i) => {
      const before = plain[i]!;
      expect(Number(row.price)).toBeCloseTo(Number(before.price) / 100, 6);
      expect(Number(row.salePrice)).toBeCloseTo(Number(before.salePrice) / 100, 6);
      expect(row.stock).toBe(before.stock);
    });
  });
});
