import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTS } from '../../src/reports/catalog.js';
import { generateRecords, HOSTILE_STRINGS, writeResultFile } from '../../src/sandbox/generate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-sandbox-gen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BASE = 'http://127.0.0.1:9/api/remap/1.2';
const take = (report: string, rows = 40, seed = 7): Array<Record<string, unknown>> => [
  ...generateRecords(report, { rows, seed, baseUrl: BASE }),
];

describe('generateRecords', () => {
  it('is deterministic per (report, rows, seed) and differs across seeds', () => {
    for (const { alias } of REPORTS) {
      expect(JSON.stringify(take(alias))).toBe(JSON.stringify(take(alias)));
    }
    expect(JSON.stringify(take('stock-bystore', 10, 1))).not.toBe(JSON.stringify(take('stock-bystore', 10, 2)));
    // A record does not depend on how many follow it.
    expect(take('assortment', 5)).toEqual(take('assortment', 50).slice(0, 5));
  });

  it('is lazy: asking for a billion rows yields the first at once', () => {
    const iterator = generateRecords('stock-all', { rows: 1e9, seed: 1 })[Symbol.iterator]();
    expect(iterator.next().done).toBe(false);
  });

  it('yields rows-many records, or one for dashboards, and rejects unknown aliases', () => {
    expect(take('counterparty', 17)).toHaveLength(17);
    expect(take('dashboard-week', 17)).toHaveLength(1);
    expect(() => generateRecords('nope', { rows: 1, seed: 1 })).toThrow(/unknown report/);
  });

  it('gives stockByStore one element per store, zero-stock stores included', () => {
    const rows = [...generateRecords('stock-bystore', { rows: 200, seed: 3, stores: 4, baseUrl: BASE })];
    const storeHrefs = new Set<string>();
    let zeros = 0;
    let negative = 0;
    let fractional = 0;
    for (const row of rows) {
      const byStore = row.stockByStore as Array<Record<string, unknown>>;
      expect(byStore).toHaveLength(4);
      for (const element of byStore) {
        expect(Object.keys(element)).toEqual(['meta', 'name', 'stock', 'reserve', 'inTransit']);
        storeHrefs.add((element.meta as { href: string }).href);
        const stock = element.stock as number;
        if (stock === 0) zeros++;
        if (stock < 0) negative++;
        if (!Number.isInteger(stock)) fractional++;
      }
      expect((row.meta as { type: string }).type).toMatch(/^(product|variant|consignment)$/);
    }
    expect(storeHrefs.size).toBe(4);
    expect(zeros).toBeGreaterThan(0);
    expect(negative).toBeGreaterThan(0);
    expect(fractional).toBeGreaterThan(0);
    expect(rows.some((r) => (r.meta as { href: string }).href.includes('?expand='))).toBe(true);
    expect([...storeHrefs].every((h) => h.startsWith(`${BASE}/entity/store/`))).toBe(true);
  });

  it('has the documented shape per endpoint (§5)', () => {
    const first = (alias: string): Record<string, unknown> => take(alias, 60)[0] as Record<string, unknown>;
    const keysOf = (alias: string): Set<string> => new Set(take(alias, 60).flatMap((r) => Object.keys(r)));
    expect([...keysOf('stock-all')]).toEqual(
      expect.arrayContaining([
        'meta',
        'name',
        'code',
        'article',
        'externalCode',
        'stock',
        'reserve',
        'inTransit',
        'quantity',
        'price',
        'salePrice',
        'stockDays',
        'uom',
        'folder',
        'image',
      ]),
    );
    expect(Object.keys(first('stock-bystore'))).toEqual(['meta', 'stockByStore']);
    for (const alias of ['profit-byproduct', 'profit-byvariant']) {
      expect([...keysOf(alias)]).toEqual([
        'assortment',
        'sellQuantity',
        'sellPrice',
        'sellCost',
        'sellSum',
        'sellCostSum',
        'returnQuantity',
        'returnPrice',
        'returnCost',
        'returnSum',
        'returnCostSum',
        'profit',
        'margin',
        'salesMargin',
      ]);
    }
    const metricsB = [
      'salesCount',
      'salesAvgCheck',
      'sellSum',
      'sellCostSum',
      'returnCount',
      'returnAvgCheck',
      'returnSum',
      'returnCostSum',
      'profit',
      'margin',
      'salesMargin',
    ];
    expect(Object.keys(first('profit-byemployee'))).toEqual(['employee', ...metricsB]);
    expect(Object.keys(first('profit-bycounterparty'))).toEqual(['counterparty', ...metricsB]);
    expect(Object.keys(first('profit-bysaleschannel'))).toEqual(['salesChannel', ...metricsB]);
    expect(Object.keys(first('profit-bysaleschannel').salesChannel as object)).toEqual(['meta', 'name', 'type']);
    expect(Object.keys(first('money-plotseries'))).toEqual(['date', 'credit', 'debit', 'balance']);
    expect(Object.keys(first('sales-plotseries'))).toEqual(['date', 'quantity', 'sum']);
    expect(Object.keys(first('orders-plotseries'))).toEqual(['date', 'quantity', 'sum']);
    const accounts = take('money-byaccount', 6);
    expect(accounts.filter((r) => !('account' in r))).toHaveLength(2); // cash desks
    expect((accounts[1] as { account: { meta: { type: string; href: string } } }).account.meta).toMatchObject({
      type: 'account',
      href: expect.stringMatching(/\/entity\/organization\/[0-9a-f-]+\/accounts\/[0-9a-f-]+$/),
    });
    const report = take('counterparty-report', 60);
    expect(report.some((r) => r.lastEventDate === null && r.lastEventText === null)).toBe(true);
    expect(report.some((r) => !('bonusBalance' in r))).toBe(true);
    expect((report[0] as { meta: { href: string } }).meta.href).toMatch(/\/report\/counterparty\/[0-9a-f-]+$/);
    expect(Object.keys(first('dashboard-day'))).toEqual(['sales', 'orders', 'money']);
    const counterparties = take('counterparty', 60);
    expect(counterparties.some((r) => Array.isArray(r.tags) && (r.tags as unknown[]).length === 0)).toBe(true);
    expect(counterparties.some((r) => !('email' in r))).toBe(true);
    expect(new Set(counterparties.map((r) => r.companyType)).size).toBeGreaterThan(2);
    const types = new Set(take('assortment', 200).map((r) => (r.meta as { type: string }).type));
    expect([...types].sort()).toEqual(['bundle', 'consignment', 'product', 'service', 'variant']);
    const variant = take('assortment', 200).find((r) => (r.meta as { type: string }).type === 'variant') as Record<
      string,
      unknown
    >;
    expect(variant.characteristics).toEqual([expect.objectContaining({ name: 'Размер' })]);
    expect(variant).toHaveProperty('product.meta.type', 'product');
  });

  it('carries every CSV/JSON-hostile value', () => {
    const text = JSON.stringify(REPORTS.map(({ alias }) => take(alias, 32)));
    const values = JSON.parse(text) as unknown;
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(values);
    const has = (re: RegExp): boolean => strings.some((s) => re.test(s));
    expect(has(/[А-Яа-яЁё]/)).toBe(true);
    expect(has(/,/)).toBe(true);
    expect(has(/"/)).toBe(true);
    expect(has(/;/)).toBe(true);
    expect(has(/[^\r]\n/)).toBe(true);
    expect(has(/\r\n/)).toBe(true);
    expect(has(/\t/)).toBe(true);
    for (const lead of ['=', '+', '-', '@']) expect(strings.some((s) => s.startsWith(lead))).toBe(true);
    expect(has(/\\/)).toBe(true);
    expect(has(/[{}[\]]/)).toBe(true);
    expect(has(/\p{Extended_Pictographic}/u)).toBe(true);
    expect(has(/[\u{10000}-\u{10FFFF}]/u)).toBe(true);
    expect(HOSTILE_STRINGS.every((h) => strings.some((s) => s.startsWith(h)))).toBe(true);
  });
});

describe('writeResultFile', () => {
  it('writes the §6 envelope whose records equal generateRecords, for all 17 reports', async () => {
    for (const spec of REPORTS) {
      const path = join(dir, `${spec.alias}.json`);
      const requestUrl = `${BASE}${spec.path}?momentFrom=2026-03-01&momentTo=2026-03-02&interval=hour&async=true`;
      const { bytes, records } = await writeResultFile(path, { report: spec.alias, rows: 25, seed: 5, requestUrl });
      expect(bytes).toBe((await stat(path)).size);
      const body = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      const expected = [...generateRecords(spec.alias, { rows: 25, seed: 5, requestUrl })];
      expect(records).toBe(expected.length);
      if (spec.records === 'root') {
        expect(body).toEqual(expected[0]);
        expect(body).not.toHaveProperty('meta');
        continue;
      }
      expect(body[spec.records]).toEqual(expected);
      expect(body.meta).toMatchObject({ href: requestUrl, type: spec.resultType, mediaType: 'application/json' });
      expect(body.meta).not.toHaveProperty('limit');
      expect(body.meta).not.toHaveProperty('offset');
      expect(body).toHaveProperty('context.employee.type', 'employee');
      // Period reports asked with both bounds hold the period's records, not `rows` (issue 9).
      if (spec.records === 'rows')
        expect((body.meta as { size: number }).size).toBe(spec.period ? expected.length : 25);
      if (spec.alias === 'money-plotseries') {
        expect(Object.keys(body)).toEqual(['context', 'meta', 'credit', 'debit', 'series']);
        expect(body.credit).toBe(expected.reduce((s, r) => s + (r.credit as number), 0));
      }
    }
  });

  it('starts plot series at momentFrom with the interval step', async () => {
    const requestUrl = `${BASE}/report/sales/plotseries?momentFrom=2026-03-05%2010:00:00&momentTo=2026-03-06&interval=hour&async=true`;
    const records = [...generateRecords('sales-plotseries', { rows: 3, seed: 1, requestUrl })];
    expect(records.map((r) => r.date)).toEqual(['2026-03-05 10:00:00', '2026-03-05 11:00:00', '2026-03-05 12:00:00']);
  });

  it('pretty output is byte-identical to JSON.stringify(x, null, 2) up to 1.0-style floats; metaLast puts meta last', async () => {
    const path = join(dir, 'pretty.json');
    await writeResultFile(path, { report: 'profit-byproduct', rows: 12, seed: 2, pretty: true, metaLast: true });
    const text = await readFile(path, 'utf8');
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['context', 'rows', 'meta']);
    expect(text).toMatch(/": -?\d+\.0,?\n/); // the API's "4.0" floats survive in the text
    expect(text.replace(/(": -?\d+)\.0(,?\n)/g, '$1$2')).toBe(JSON.stringify(body, null, 2));
    const compact = join(dir, 'compact.json');
    await writeResultFile(compact, { report: 'stock-bystore', rows: 0, seed: 2 });
    expect(JSON.parse(await readFile(compact, 'utf8'))).toMatchObject({ meta: { size: 0 }, rows: [] });
  });

  // 1e6 stock-bystore rows (~1.2 GB) take ~11 s here; 200k (~235 MB, twice the heap bound) prove flat memory.
  // Speed belongs to the bench (npm run bench), not to a timed test.
  it('streams a large stock file in flat memory', async () => {
    const path = join(dir, 'big.json');
    global.gc?.();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 20);
    const { bytes, records } = await writeResultFile(path, { report: 'stock-bystore', rows: 200_000, seed: 9 });
    clearInterval(timer);
    expect(records).toBe(200_000);
    expect(bytes).toBeGreaterThan(200_000_000);
    expect(peakHeap - before.heapUsed).toBeLessThan(96 * 1024 * 1024);
    expect(peakRss - before.rss).toBeLessThan(192 * 1024 * 1024);
    const tail = Buffer.alloc(64);
    const { open } = await import('node:fs/promises');
    const handle = await open(path, 'r');
    await handle.read(tail, 0, 64, bytes - 64);
    await handle.close();
    expect(tail.toString('utf8')).toMatch(/}]}$/);
    await rm(path);
  }, 30_000);
});
