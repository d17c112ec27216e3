/**
 * `convertFile(…, {format: 'xlsx'})` and the output step around it: the sheet split (threshold
 * injected, so no million rows are needed) and its warning, exact number text, both engines,
 * rubles, and no temporary file left behind. Read back with SheetJS.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFile } from '../../../src/convert/index.js';
import { markLongNumbers } from '../../../src/convert/xlsx/index.js';
import { convertToTarget } from '../../../src/core/convert-to-target.js';
import { findReportByAlias } from '../../../src/reports/catalog.js';
import { readXlsx } from '../../helpers/read-xlsx.js';
import { Collect, makeTmp } from '../helpers.js';

let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

const stockBystore = findReportByAlias('stock-bystore')!;
const profit = findReportByAlias('profit-byproduct')!;

function stockRows(n: number): unknown[] {
  return Array.from({ length: n }, (_, k) => ({
    meta: { href: `https://api.moysklad.ru/api/remap/1.2/entity/product/p${k}`, type: 'product' },
    stockByStore: [
      { meta: { href: `https://x/entity/store/s1`, type: 'store' }, name: 'A', stock: k },
      { meta: { href: `https://x/entity/store/s2`, type: 'store' }, name: 'B', stock: k + 0.5 },
    ],
  }));
}

describe('convertFile to xlsx', () => {
  it('splits into sheets of maxRecordsPerSheet rows, header repeated; the run warns', async () => {
    const input = await tmp.file('split.json', JSON.stringify({ meta: { size: 5 }, rows: stockRows(5) }));
    const out = join(tmp.dir, 'split.xlsx');
    const warnings: string[] = [];
    const result = await convertToTarget(input, join(tmp.dir, '.split.part'), {
      target: { path: out, format: 'xlsx', workDir: tmp.dir },
      report: stockBystore,
      csv: {},
      stdout: process.stdout,
      onWarning: (line) => warnings.push(line),
      maxRecordsPerSheet: 4,
    });
    expect(result).toMatchObject({ records: 5, lines: 10, sheets: 3 });
    expect(warnings).toEqual(['10 rows do not fit one Excel sheet: written on 3 sheets, the header repeated on each']);
    const { sheets } = readXlsx(await readFile(out));
    expect(sheets.map((s) => s.rows.length)).toEqual([5, 5, 3]);
    for (const s of sheets)
      expect(s.rows[0]!.map((c) => c?.v)).toEqual([
        'meta.id',
        'meta.type',
        'stockByStore.meta.id',
        'stockByStore.meta.type',
        'stockByStore.name',
        'stockByStore.stock',
      ]);
    const stocks = sheets.flatMap((s) => s.rows.slice(1).map((r) => r[5]!.v));
    expect(stocks).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
    expect((await readdir(tmp.dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('writes numbers a double cannot hold as text, their JSON text, in both engines', async () => {
    const text =
      '{"rows":[{"big":12345678901234567890,"small":0.1,"neg":-1.5e-7,"s":"12345678901234567890",' +
      '"a":[3761800.945730887,1e400],"inf":1e400,"tiny":-1e-400,"over53":9007199254740993,' +
      '"digits20":0.12345678901234567890,"price":2243.0003348441933,"max15":999999999999999,"e":1.5e300,"zero":0.000}]}';
    const input = await tmp.file('big.json', text);
    for (const engine of ['fast', 'stream-json'] as const) {
      const out = new Collect();
      await convertFile(input, out, { format: 'xlsx', engine, tempDir: tmp.dir });
      const sheet = readXlsx(out.bytes()).sheets[0]!;
      expect(sheet.rows[0]!.map((c) => c?.v)).toEqual([
        'big',
        'small',
        'neg',
        's',
        'a',
        'inf',
        'tiny',
        'over53',
        'digits20',
        'price',
        'max15',
        'e',
        'zero',
      ]);
      const row = sheet.rows[1]!;
      expect(row.map((c) => [c?.t, c?.v])).toEqual([
        ['s', '12345678901234567890'],
        ['n', 0.1],
        ['n', -1.5e-7],
        ['s', '12345678901234567890'],
        ['s', '[3761800.945730887,1e400]'],
        ['s', '1e400'],
        ['s', '-1e-400'],
        ['s', '9007199254740993'],
        ['s', '0.12345678901234567890'],
        // 17 digits that a double holds as written (its shortest text): a number, as such prices are.
        ['n', 2243.0003348441933],
        ['n', 999999999999999],
        ['n', 1.5e300],
        ['n', 0],
      ]);
      expect(sheet.xml).not.toContain('Infinity');
    }
  });

  it('a money column that a double cannot hold is text in rubles, exactly', async () => {
    const input = await tmp.file('big-money.json', '{"rows":[{"sellSum":1234567890123456789,"profit":1e400}]}');
    for (const engine of ['fast', 'stream-json'] as const) {
      const out = new Collect();
      await convertFile(input, out, { format: 'xlsx', engine, report: profit, tempDir: tmp.dir });
      const row = readXlsx(out.bytes()).sheets[0]!.rows[1]!;
      expect(row.map((c) => [c?.t, c?.v])).toEqual([
        ['s', '12345678901234567.89'],
        ['s', '1e+398'],
      ]);
    }
  });

  it('keeps non-ASCII keys and text exactly, with and without \\u escapes of wide chars', async () => {
    for (const [name, text] of [
      ['plain', '{"rows":[{"имя":"Склад «Север»","n":[1,"ё"]}]}'],
      ['escaped', '{"rows":[{"имя":"\\u00e9 Склад","n":[1,"ё"]}]}'],
    ]) {
      const input = await tmp.file(`${name}.json`, text);
      const out = new Collect();
      await convertFile(input, out, { format: 'xlsx', tempDir: tmp.dir });
      const rows = readXlsx(out.bytes()).sheets[0]!.rows;
      expect(rows[0]!.map((c) => c?.v)).toEqual(['имя', 'n']);
      expect(rows[1]!.map((c) => c?.v)).toEqual([name === 'plain' ? 'Склад «Север»' : 'é Склад', '[1,"ё"]']);
    }
  });

  it('money in rubles by default, kopecks with rubles: false', async () => {
    const input = await tmp.file(
      'profit.json',
      JSON.stringify({ rows: [{ sellSum: 1675100, profit: 12.5, sellQuantity: 6.25 }] }),
    );
    const rubles = new Collect();
    await convertFile(input, rubles, { format: 'xlsx', report: profit, tempDir: tmp.dir });
    expect(readXlsx(rubles.bytes()).sheets[0]!.rows[1]).toMatchObject([
      { t: 'n', v: 16751, z: '#,##0.00' },
      { t: 'n', v: 0.125, z: '#,##0.00' },
      { t: 'n', v: 6.25 },
    ]);
    const kopecks = new Collect();
    await convertFile(input, kopecks, { format: 'xlsx', report: profit, tempDir: tmp.dir, csv: { rubles: false } });
    const row = readXlsx(kopecks.bytes()).sheets[0]!.rows[1]!;
    expect(row.map((c) => [c?.v, c?.z])).toEqual([
      [1675100, 'General'],
      [12.5, 'General'],
      [6.25, 'General'],
    ]);
  });

  it('a malformed result is an error naming the byte, and no temporary file stays', async () => {
    const input = await tmp.file('bad.json', '{"rows":[{"a":1},{"a":tru}]}');
    await expect(convertFile(input, new Collect(), { format: 'xlsx', tempDir: tmp.dir })).rejects.toThrow(
      /not well-formed JSON.*at byte \d+/,
    );
    expect((await readdir(tmp.dir)).filter((n) => n.includes('xlsx-body'))).toEqual([]);
  });
});

describe('markLongNumbers', () => {
  it('marks numbers a number cell would change (value or range), outside strings only', () => {
    expect(markLongNumbers('[1,2.5,"1234567890123456789"]')).toBe('[1,2.5,"1234567890123456789"]');
    expect(markLongNumbers('[1234567890123456789,"x\\"1234567890123456789",-0.00000000000000000001]')).toBe(
      '["\\u00001234567890123456789","x\\"1234567890123456789",-0.00000000000000000001]',
    );
    expect(markLongNumbers('{"a":123456789012345.67891,"b":123456789012345.6}')).toBe(
      '{"a":"\\u0000123456789012345.67891","b":123456789012345.6}',
    );
    expect(markLongNumbers('[1e400,-1e-400,1e300,0e999,2e-310,"1e400"]')).toBe(
      '["\\u00001e400","\\u0000-1e-400",1e300,0e999,"\\u00002e-310","1e400"]',
    );
  });
});
