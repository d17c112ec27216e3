/**
 * Every catalogue report exported to .xlsx and read back by SheetJS (an independent reader), cell
 * by cell against the sandbox's generated records flattened here from the README's rules: the
 * cell TYPES as well as the values — numbers as numbers, money in rubles with a money format,
 * moments as date-times to the millisecond, booleans as booleans, every string as text exactly —
 * and the same columns, in the same order, as the CSV.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXlsx, serialToText, type ReadCell } from '../helpers/read-xlsx.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli } from '../helpers/test-io.js';
import { REPORTS, type ReportSpec } from '../../src/reports/catalog.js';
import { generateRecords, HOSTILE_STRINGS, type Sandbox } from '../../src/sandbox/index.js';

const TOKEN = 'tok-XLSX-a1b2c3d4e5f60718293a4b5c6d7e8f9012';
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
/** The API's date-time notation (docs/api-facts.md §1.5). */
const MOMENT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})?$/;

let sb: Sandbox;
let dir: string;
const outputs: string[] = [];

beforeAll(async () => {
  sb = await startTestSandbox({ token: TOKEN, rows: ROWS, stores: STORES, seed: SEED });
  dir = await mkdtemp(join(tmpdir(), 'ms-async-xlsx-'));
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

type Json = Record<string, unknown>;

async function exportTo(
  spec: ReportSpec,
  file: string,
  extra: string[] = [],
): Promise<{ path: string; stderr: string }> {
  const params = spec.required.length > 0 ? PLOT_PARAMS : [];
  const out = join(dir, file);
  const r = await runCli(
    ['export', spec.alias, ...params, '--out', out, ...extra],
    { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 5 },
    outputs,
  );
  expect(r.code, r.stderr).toBe(0);
  return { path: out, stderr: r.stderr };
}

function recordsOf(spec: ReportSpec, body: Json): Json[] {
  if (spec.records === 'root') return [body];
  return body[spec.records] as Json[];
}

// --- the expected cells, flattened independently of src/ ------------------------------------

type Want =
  | { kind: 'text'; v: string }
  | { kind: 'json'; v: unknown }
  | { kind: 'number'; v: number }
  | { kind: 'money'; v: number }
  | { kind: 'moment'; v: string }
  | { kind: 'bool'; v: boolean };

function want(value: unknown, column: string, spec: ReportSpec): Want | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  // An array kept whole: its JSON text as received (numbers such as 2164900.0 keep their form).
  if (Array.isArray(value)) return { kind: 'json', v: value };
  if (typeof value === 'boolean') return { kind: 'bool', v: value };
  // Rubles are the kopecks' decimal text shifted two places (4377.26 → 43.7726), not value / 100.
  if (typeof value === 'number')
    return spec.money.includes(column) ? { kind: 'money', v: Number(`${value}e-2`) } : { kind: 'number', v: value };
  const s = String(value);
  if (MOMENT.test(s)) return { kind: 'moment', v: s.includes('.') ? s.padEnd(23, '0') : `${s}.000` };
  return { kind: 'text', v: s };
}

function flattenObject(value: Json, prefix: string, out: Record<string, unknown>): void {
  for (const [key, child] of Object.entries(value)) {
    if (key === 'meta' && typeof (child as { size?: unknown } | null)?.size === 'number') {
      // A collection's meta (accounts, images …): its size, as in the CSV.
      out[`${prefix}size`] = (child as { size: number }).size;
    } else if (key === 'meta' && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const meta = child as { href?: string; type?: string };
      const path = (meta.href ?? '').split('?')[0] ?? '';
      out[`${prefix}meta.id`] = path.slice(path.lastIndexOf('/') + 1);
      out[`${prefix}meta.type`] = meta.type ?? null;
    } else if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      flattenObject(child as Json, `${prefix}${key}.`, out);
    } else {
      out[`${prefix}${key}`] = child;
    }
  }
}

function flattenRecord(record: Json, explode: string | undefined): Array<Record<string, unknown>> {
  const { [explode ?? '\u0000']: detail, ...parentFields } = record;
  const parent: Record<string, unknown> = {};
  flattenObject(explode ? parentFields : record, '', parent);
  if (!explode || !Array.isArray(detail) || detail.length === 0) return [parent];
  return detail.map((element) => {
    const row = { ...parent };
    flattenObject(element as Json, `${explode}.`, row);
    return row;
  });
}

function checkCell(got: ReadCell | undefined, w: Want | undefined, where: string): void {
  if (w === undefined) {
    expect(got, where).toBeUndefined();
    return;
  }
  expect(got, where).toBeDefined();
  switch (w.kind) {
    case 'text':
      expect(got, where).toMatchObject({ t: 's', v: w.v });
      break;
    case 'json':
      expect(got?.t, where).toBe('s');
      expect(JSON.parse(String(got?.v)), where).toEqual(w.v);
      break;
    case 'number':
      expect(got, where).toMatchObject({ t: 'n', v: w.v });
      expect(got!.z ?? 'General', where).toBe('General');
      break;
    case 'money':
      expect(got, where).toMatchObject({ t: 'n', v: w.v, z: '#,##0.00' });
      break;
    case 'moment':
      expect(got!.t, where).toBe('n');
      expect(serialToText(got!.v as number), where).toBe(w.v);
      expect(got!.w, where).toBe(w.v);
      break;
    case 'bool':
      expect(got, where).toMatchObject({ t: 'b', v: w.v });
      break;
  }
}

const kindsSeen = new Set<string>();
const textsSeen = new Set<string>();

describe.each(REPORTS.map((spec) => [spec.alias, spec] as const))('export %s --out x.xlsx', (_alias, spec) => {
  it('every cell has the type and value of the generated record, columns as in the CSV', async () => {
    const json = JSON.parse(await readFile((await exportTo(spec, `${spec.alias}.json`)).path, 'utf8')) as Json;
    const requestUrl = (json.meta as { href?: string } | undefined)?.href;
    const records = recordsOf(spec, json);
    // The sandbox's own options (field forms included) decide what it generated.
    const options = {
      rows: records.length,
      seed: SEED,
      stores: STORES,
      baseUrl: sb.baseUrl,
      fieldForms: sb.options.fieldForms,
    };
    const expected = [...generateRecords(spec.alias, { ...options, ...(requestUrl ? { requestUrl } : {}) })];
    const rows = expected.flatMap((record) => flattenRecord(record, spec.explode));

    const { path } = await exportTo(spec, `${spec.alias}.xlsx`);
    const { sheets } = readXlsx(await readFile(path));
    expect(sheets).toHaveLength(1);
    const sheet = sheets[0]!;
    expect(sheet.name).toBe(spec.alias);
    const header = sheet.rows[0]!.map((c) => c?.v);
    const csvPath = (await exportTo(spec, `${spec.alias}.csv`)).path;
    const csvHeader = (parseCsv(await readFile(csvPath, 'utf8'), { to_line: 1 }) as string[][])[0];
    expect(header).toEqual(csvHeader);
    expect(sheet.rows[0]!.every((c) => c?.t === 's')).toBe(true);
    expect(sheet.rows.length - 1).toBe(rows.length);
    expect(sheet.autofilter).toMatch(/^A1:[A-Z]+\d+$/);
    rows.forEach((row, i) => {
      header.forEach((column, c) => {
        const w = want(row[column as string], column as string, spec);
        if (w) kindsSeen.add(w.kind);
        if (w?.kind === 'text') textsSeen.add(w.v);
        if (w?.kind === 'json') textsSeen.add(JSON.stringify(w.v));
        checkCell(sheet.rows[i + 1]![c], w, `${spec.alias} row ${i + 1} ${String(column)}`);
      });
    });
  });
});

describe('XLSX details', () => {
  it('the reports above covered every cell kind and every hostile string', () => {
    expect([...kindsSeen].sort()).toEqual(['bool', 'json', 'moment', 'money', 'number', 'text']);
    const missing = HOSTILE_STRINGS.filter((s) => ![...textsSeen].some((v) => v === s || v.includes(s)));
    expect(missing).toEqual([]);
  });

  it('--columns picks and orders the columns, like the CSV', async () => {
    const spec = REPORTS.find((r) => r.alias === 'stock-bystore')!;
    const { path } = await exportTo(spec, 'cols.xlsx', ['--columns', 'stockByStore.name,meta.id,stockByStore.stock']);
    const sheet = readXlsx(await readFile(path)).sheets[0]!;
    expect(sheet.rows[0]!.map((c) => c?.v)).toEqual(['stockByStore.name', 'meta.id', 'stockByStore.stock']);
    expect(sheet.rows).toHaveLength(ROWS * STORES + 1);
    expect(sheet.rows.slice(1).every((r) => r[0]?.t === 's' && r[1]?.t === 's' && r[2]?.t === 'n')).toBe(true);
  });

  it('--format xlsx overrides the extension; a failed run leaves an existing file untouched', async () => {
    const spec = REPORTS.find((r) => r.alias === 'money-byaccount')!;
    const { path } = await exportTo(spec, 'book.bin', ['--format', 'xlsx']);
    expect((await readFile(path)).subarray(0, 2).toString('latin1')).toBe('PK');
    const r = await runCli(
      ['export', 'money-byaccount', '--out', path, '--columns', ','],
      { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 5 },
      outputs,
    );
    expect(r.code).toBe(2);
    expect((await readFile(path)).subarray(0, 2).toString('latin1')).toBe('PK');
  });
});
