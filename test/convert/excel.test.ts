/**
 * --excel / --decimal-comma (issue 8 item 1): the CSV reads right in a Russian-locale spreadsheet.
 * Read back the way LibreOffice ru-RU reads it (';', decimal comma): every number cell parses as
 * a number and equals the API's value exactly (money: × 100 = the kopecks), and every moment of a
 * column has one form (all with ',' before milliseconds, or none), never '.'.
 */
import { parse } from 'csv-parse/sync';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonNumber } from '../../src/convert/csv-rules.js';
import { parseExact } from '../../src/convert/exact-json.js';
import { findReportByAlias } from '../../src/reports/catalog.js';
import { writeResultFile } from '../../src/sandbox/generate.js';
import { runCli } from '../helpers/test-io.js';
import { convertToText, makeTmp } from './helpers.js';

let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

/** A decimal text as sign|significant digits|exponent of the first one (null for zero). */
function decimalKey(t: string, shift = 0): string | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) return `not a number: ${t}`;
  const digits = m[2]! + (m[3] ?? '');
  const lead = digits.length - digits.replace(/^0+/, '').length;
  const sig = digits.replace(/^0+/, '').replace(/0+$/, '');
  return sig === '' ? null : `${m[1]}|${sig}|${m[2]!.length - lead + Number(m[4] ?? 0) + shift}`;
}

/** The API's numbers by column, from the file read exactly (flattened like the CSV, no explode). */
function numbersOf(
  record: Record<string, unknown>,
  prefix = '',
  into = new Map<string, string>(),
): Map<string, string> {
  for (const [k, v] of Object.entries(record)) {
    if (v instanceof JsonNumber) into.set(prefix + k, v.text);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && k !== 'meta')
      numbersOf(v as Record<string, unknown>, `${prefix}${k}.`, into);
  }
  return into;
}

describe('--excel CSV under a ru-RU reading', () => {
  it.each(['profit-byproduct', 'stock-all', 'counterparty', 'assortment'])(
    '%s: numbers are numbers and exact',
    async (alias) => {
      const report = findReportByAlias(alias)!;
      const path = await tmp.file(`${alias}.json`);
      await writeResultFile(path, { report: alias, rows: 40, seed: 3 });
      const rows = (parseExact(await readFile(path, 'utf8')) as { rows: Array<Record<string, unknown>> }).rows;
      const { text } = await convertToText(path, {
        format: 'csv',
        report,
        csv: { delimiter: ';', bom: true, crlf: true, rubles: true, decimalComma: true },
      });
      expect(text.startsWith('\uFEFF')).toBe(true);
      const parsed = parse(text, { bom: true, columns: true, delimiter: ';', record_delimiter: '\r\n' }) as Array<
        Record<string, string>
      >;
      expect(parsed).toHaveLength(rows.length);
      let checked = 0;
      parsed.forEach((line, k) => {
        for (const [column, api] of numbersOf(rows[k]!)) {
          const cell = line[column]!;
          // What LibreOffice ru-RU takes for a number: digits, one decimal comma, maybe an exponent.
          expect(cell, `${alias} ${column}`).toMatch(/^-?\d+(,\d+)?([eE][-+]?\d+)?$/);
          const money = report.money.includes(column);
          expect(decimalKey(cell.replace(',', '.'), money ? 2 : 0), `${column}: ${api} → ${cell}`).toBe(
            decimalKey(api),
          );
          checked++;
        }
        for (const cell of Object.values(line)) expect(cell).not.toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$/);
      });
      expect(checked).toBeGreaterThanOrEqual(rows.length);
    },
  );

  it('moments with milliseconds get a decimal comma, those without stay, texts and codes are untouched', async () => {
    const body =
      '{"rows":[{"m":"2026-03-14 16:22:08.214","n":"2026-03-14 16:22:08","code":"00002","t":"1.5 кг","x":234.392,"j":[1.5]}]}';
    const path = await tmp.file('moments.json', body);
    const { text } = await convertToText(path, { format: 'csv', csv: { delimiter: ';', decimalComma: true } });
    expect(text).toBe('m;n;code;t;x;j\n2026-03-14 16:22:08,214;2026-03-14 16:22:08;00002;1.5 кг;234,392;[1.5]\n');
  });

  it('refuses --decimal-comma with a comma delimiter', async () => {
    const path = await tmp.file('dc.json', '{"rows":[{"x":1.5}]}');
    await expect(convertToText(path, { format: 'csv', csv: { decimalComma: true } })).rejects.toThrow(
      /--decimal-comma needs another --delimiter/,
    );
  });
});

describe('the flags', () => {
  const body = JSON.stringify({ rows: [{ sellSum: 1675100, sellQuantity: 6.25 }] });
  it('--excel: ; BOM CRLF, decimal comma, rubles; --no-rubles keeps kopecks; --decimal-comma alone', async () => {
    const input = await tmp.file('flags.json', body);
    const out = `${tmp.dir}/x.csv`;
    const cases: Array<[string[], string]> = [
      [['--excel'], '\uFEFFsellSum;sellQuantity\r\n16751,00;6,25\r\n'],
      [['--excel', '--no-rubles'], '\uFEFFsellSum;sellQuantity\r\n1675100;6,25\r\n'],
      [['--decimal-comma', '--delimiter', ';'], 'sellSum;sellQuantity\n1675100;6,25\n'],
      [['--rubles'], 'sellSum,sellQuantity\n16751.00,6.25\n'],
    ];
    for (const [flags, expected] of cases) {
      const r = await runCli(['convert', input, '--report', 'profit-byproduct', '--out', out, ...flags]);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8'), flags.join(' ')).toBe(expected);
    }
    expect((await runCli(['convert', input, '--out', out, '--decimal-comma'])).code).toBe(2);
  });
});
