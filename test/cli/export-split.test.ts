/**
 * `export --period … --split …` (issue 9): a 12-month split is the 12 single exports, in period
 * order, each record tagged with its slice; a failing slice fails the export and writes nothing.
 */
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { readXlsx } from '../helpers/read-xlsx.js';

const t = useCliSandbox('tok-SPLIT-99aa88bb77cc66dd55ee44ff', 'split', { rows: 20 });
const MONTHS = Array.from({ length: 12 }, (_, m) => `2026-${String(m + 1).padStart(2, '0')}`);

function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01 00:00:00`, to: `${month}-${last} 23:59:59` };
}

async function folder(): Promise<string> {
  return mkdtemp(join(t.configDir, 'out-'));
}

describe('export --split', () => {
  it('12 months as CSV equal the 12 single-month exports, in order, with period.from/period.to leading', async () => {
    const dir = await folder();
    const all = join(dir, 'year.csv');
    const r = await t.cli([
      'export',
      'profit-byproduct',
      '--period',
      '2026-01..2026-12',
      '--split',
      'month',
      '--out',
      all,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/12 slices, at most 4 tasks at once/);
    expect(t.sb.maxQueued()).toBeLessThanOrEqual(4);
    const merged = parse(await readFile(all, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const header = (await readFile(all, 'utf8')).split('\n')[0] ?? '';
    expect(header.startsWith('period.from,period.to,')).toBe(true);

    const expected: Array<Record<string, string>> = [];
    for (const month of MONTHS) {
      const single = join(dir, `${month}.csv`);
      const one = await t.cli(['-q', 'export', 'profit-byproduct', '--period', month, '--out', single]);
      expect(one.code).toBe(0);
      const { from, to } = monthBounds(month);
      for (const record of parse(await readFile(single, 'utf8'), { columns: true }) as Array<Record<string, string>>) {
        expected.push({ 'period.from': from, 'period.to': to, ...record });
      }
    }
    expect(expected.length).toBeGreaterThan(300);
    // A month may lack a column another has: the merged file leaves those cells empty.
    const filled = expected.map((record) =>
      Object.fromEntries(Object.keys(merged[0] ?? {}).map((k) => [k, record[k] ?? ''])),
    );
    expect(merged).toEqual(filled);
  });

  it("NDJSON: a period object first in each record; json: an array of the slices' result files", async () => {
    const dir = await folder();
    const nd = join(dir, 'q.ndjson');
    expect(
      (
        await t.cli([
          '-q',
          'export',
          'profit-byemployee',
          '--period',
          '2026-01..2026-03',
          '--split',
          'month',
          '--out',
          nd,
        ])
      ).code,
    ).toBe(0);
    const lines = (await readFile(nd, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(lines[0] ?? {})[0]).toBe('period');
    const periods = [...new Set(lines.map((l) => JSON.stringify(l.period)))];
    expect(periods).toEqual(['2026-01', '2026-02', '2026-03'].map((m) => JSON.stringify(monthBounds(m))));

    const js = join(dir, 'q.json');
    expect(
      (
        await t.cli([
          '-q',
          'export',
          'profit-byemployee',
          '--period',
          '2026-01..2026-03',
          '--split',
          'month',
          '--out',
          js,
        ])
      ).code,
    ).toBe(0);
    const files = JSON.parse(await readFile(js, 'utf8')) as Array<{ rows: Array<Record<string, unknown>> }>;
    expect(files).toHaveLength(3);
    expect(files.flatMap((f) => f.rows)).toEqual(lines.map(({ period: _period, ...rest }) => rest));
  });

  it('XLSX: period.from/period.to are date-time cells, like the other moment columns', async () => {
    const dir = await folder();
    const out = join(dir, 'q.xlsx');
    const r = await t.cli([
      '-q',
      'export',
      'profit-byproduct',
      '--period',
      '2026-01..2026-02',
      '--split',
      'month',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const rows = readXlsx(await readFile(out)).sheets[0]!.rows;
    expect(rows[0]!.slice(0, 2).map((c) => c?.v)).toEqual(['period.from', 'period.to']);
    expect(rows.length).toBeGreaterThan(2);
    const seen = new Set<string>();
    for (const row of rows.slice(1)) {
      for (const cell of row.slice(0, 2)) {
        expect(cell!.t).toBe('n');
        seen.add(cell!.w!);
      }
    }
    expect([...seen].sort()).toEqual([
      '2026-01-01 00:00:00.000',
      '2026-01-31 23:59:59.000',
      '2026-02-01 00:00:00.000',
      '2026-02-28 23:59:59.000',
    ]);
  });

  it('a failing slice fails the export: exit 7, the old file stays, no temporary file is left', async () => {
    const dir = await folder();
    const out = join(dir, 'keep.csv');
    await writeFile(out, 'old\n');
    t.sb.setFaults({ truncateResult: 'always' });
    const r = await t.cli([
      'export',
      'profit-byproduct',
      '--period',
      '2026-01..2026-06',
      '--split',
      'month',
      '--out',
      out,
    ]);
    expect(r.code).toBe(7);
    expect(await readFile(out, 'utf8')).toBe('old\n');
    expect(await readdir(dir)).toEqual(['keep.csv']);
  });

  it('--period is checked before any request', async () => {
    const dir = await folder();
    const cases: Array<[string[], RegExp]> = [
      [['export', 'stock-all', '--period', 'last-month'], /stock-all takes no period/],
      [['export', 'profit-byproduct', '--period', 'last-moth'], /--period "last-moth" is not a period/],
      [['export', 'profit-byproduct', '--period', '2026-11', '-p', 'momentFrom=2026-01-01'], /drop -p momentFrom/],
      [['export', 'profit-byproduct', '--split', 'month'], /--split needs --period/],
    ];
    for (const [argv, message] of cases) {
      const r = await t.cli([...argv, '--out', join(dir, 'x.csv')]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(t.sb.requests).toHaveLength(0);
  });
});
