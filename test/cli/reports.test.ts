import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/test-io.js';
import { REPORTS } from '../../src/reports/catalog.js';

describe('ms-async reports', () => {
  it('a table of the catalogue, without ANSI when not a TTY', async () => {
    const r = await runCli(['reports']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ALIAS +PATH +REQUIRED +RECORDS +CSV +MONEY \(--rubles\)$/);
    expect(lines.find((l) => l.startsWith('profit-byproduct '))).toMatch(/ sellPrice,sellCost,sellSum,.*profit$/);
    expect(lines).toHaveLength(REPORTS.length + 1);
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).toBe('');
  });

  it('--json: an array with alias, path, required, records, explode and period', async () => {
    const r = await runCli(['--json', 'reports']);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(REPORTS.length);
    expect(rows.find((row) => row.alias === 'stock-bystore')).toEqual({
      alias: 'stock-bystore',
      path: '/report/stock/bystore',
      title: 'Stock by store',
      required: [],
      records: 'rows',
      explode: 'stockByStore',
      period: false,
      money: [],
      columns: expect.arrayContaining(['meta.id', 'stockByStore.stock']),
    });
    expect(rows.find((row) => row.alias === 'stock-all')?.money).toEqual(['price', 'salePrice']);
    expect(rows.filter((row) => row.period === true).map((row) => row.alias)).toEqual([
      'profit-byproduct',
      'profit-byvariant',
      'profit-byemployee',
      'profit-bycounterparty',
      'profit-bysaleschannel',
      'money-plotseries',
      'sales-plotseries',
      'orders-plotseries',
    ]);
    expect(rows.find((row) => row.alias === 'sales-plotseries')?.required).toEqual([
      'momentFrom',
      'momentTo',
      'interval',
    ]);
  });
});
