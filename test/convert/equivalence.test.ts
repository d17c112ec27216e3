/**
 * The fast scanner must give exactly the records stream-json gives (issue 5): on every catalogue
 * shape from the sandbox generator (compact, pretty, meta after the records), on the hand-written
 * tricky fixture, and with records cut at every chunk boundary.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTS, findReportByAlias } from '../../src/reports/catalog.js';
import { generateRecords, writeResultFile } from '../../src/sandbox/generate.js';
import { convertFile } from '../../src/convert/index.js';
import { BadResultError } from '../../src/errors.js';
import { Collect, convertToText, makeTmp, parseLines } from './helpers.js';

const TRICKY = fileURLToPath(new URL('../fixtures/tricky-rows.json', import.meta.url));
let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

const VARIANTS = [
  { name: 'compact', pretty: false, metaLast: false },
  { name: 'pretty', pretty: true, metaLast: false },
  { name: 'compact, meta last', pretty: false, metaLast: true },
] as const;

describe.each(REPORTS.map((r) => [r.alias, r] as const))('%s', (alias, report) => {
  it.each(VARIANTS)(
    '$name: fast path = stream-json = generator, every format and chunk size',
    async ({ name, pretty, metaLast }) => {
      const rows = 16; // the generator cycles its hostile strings every 16 records
      const path = await tmp.file(`${alias}-${name.replace(/\W+/g, '-')}.json`);
      const written = await writeResultFile(path, { report: alias, rows, seed: 7, stores: 3, pretty, metaLast });
      const expected = [...generateRecords(alias, { rows, seed: 7, stores: 3 })];
      expect(written.records).toBe(expected.length);

      const reference = await convertToText(path, { format: 'ndjson', report, engine: 'stream-json' });
      expect(parseLines(reference.text)).toEqual(expected);
      const referenceCsv = await convertToText(path, { format: 'csv', report, engine: 'stream-json' });

      // Every chunk boundary is exercised by the tricky fixture below (chunk size 1); here a few sizes.
      const chunkSizes =
        report.records === 'root' ? [3, 1 << 16] : name === 'compact' ? [7, 1000, 1 << 16] : [61, 1 << 16];
      for (const chunkSize of chunkSizes) {
        const ndjson = await convertToText(path, { format: 'ndjson', report, chunkSize });
        expect(parseLines(ndjson.text)).toEqual(expected);
        expect(ndjson.result.records).toBe(expected.length);
        if (report.records !== 'root') {
          expect(ndjson.result.engine).toBe('fast');
          expect(ndjson.result.metaSize).toBe(reference.result.metaSize);
        }
        const csv = await convertToText(path, { format: 'csv', report, chunkSize });
        expect(csv.text).toBe(referenceCsv.text);
      }
      const json = await convertToText(path, { format: 'json', report });
      expect(json.bytes.equals(await readFile(path))).toBe(true);
      if (pretty && report.records !== 'root') {
        // Minified pass-through: the same bytes as the compact file's records.
        const compact = await tmp.file(`${alias}-compact-again.json`);
        await writeResultFile(compact, { report: alias, rows, seed: 7, stores: 3 });
        const fromPretty = await convertToText(path, { format: 'ndjson', report, chunkSize: 64 });
        expect(fromPretty.text).toBe((await convertToText(compact, { format: 'ndjson', report })).text);
      }
    },
  );
});

describe('tricky fixture (escapes, braces in strings, surrogates, nesting, meta after rows)', () => {
  const report = findReportByAlias('stock-all')!;

  it('gives the same records at chunk sizes 1, 2, 3, 7, 64, 1 KiB, 64 KiB', async () => {
    const expected = (JSON.parse(await readFile(TRICKY, 'utf8')) as { rows: unknown[] }).rows;
    const reference = await convertToText(TRICKY, { format: 'ndjson', report, engine: 'stream-json' });
    // JSON.stringify writes -0 as 0; the fast path passes the API's bytes through and keeps it.
    expect(parseLines(reference.text)).toEqual(JSON.parse(JSON.stringify(expected)));
    const referenceCsv = await convertToText(TRICKY, { format: 'csv', report, engine: 'stream-json' });
    for (const chunkSize of [1, 2, 3, 7, 64, 1024, 1 << 16]) {
      const ndjson = await convertToText(TRICKY, { format: 'ndjson', report, chunkSize });
      expect(ndjson.result).toMatchObject({ engine: 'fast', records: 6, metaSize: 6 });
      expect(parseLines(ndjson.text)).toEqual(expected);
      const csv = await convertToText(TRICKY, { format: 'csv', report, chunkSize });
      expect(csv.text).toBe(referenceCsv.text);
    }
  });

  it('passes record bytes through, minified, escapes untouched', async () => {
    const { text } = await convertToText(TRICKY, { format: 'ndjson', report });
    const lines = text.split('\n');
    expect(lines[1]).toContain(
      String.raw`"name":"esc \\ \/ \b \f \n \r \t \u0000 \u001f \u00e9 \u0416 \ud83c\udf63 \uD834\uDD1E end\\"`,
    );
    expect(lines[0]).toContain('"price":8900.0,'); // the API's bytes, not a re-serialisation
    expect(lines[0]).toContain('"folder":{"meta":{"href":');
    expect(lines[3]).toBe('{}');
  });

  it('finds the records of a raw path (no catalogue entry): rows, else series, else the root', async () => {
    const raw = await convertToText(TRICKY, { format: 'ndjson' });
    expect(raw.result).toMatchObject({ records: 6, metaSize: 6, engine: 'fast' });
    const series = await tmp.file('series.json', '{"meta":{"size":2},"credit":1,"series":[{"a":1},{"a":2}],"x":[1]}');
    expect(parseLines((await convertToText(series, { format: 'ndjson' })).text)).toEqual([{ a: 1 }, { a: 2 }]);
    const both = await tmp.file('both.json', '{"series":[{"a":1}],"rows":[{"b":2}]}');
    expect(parseLines((await convertToText(both, { format: 'ndjson' })).text)).toEqual([{ b: 2 }]);
    const root = await tmp.file('root.json', '{"sales":{"count":4},"money":{"income":7}}');
    const r = await convertToText(root, { format: 'ndjson' });
    expect(r.result).toMatchObject({ records: 1, engine: 'stream-json' });
    expect(parseLines(r.text)).toEqual([{ sales: { count: 4 }, money: { income: 7 } }]);
    const array = await tmp.file('array.json', '[{"a":1},{"a":2}]');
    expect(parseLines((await convertToText(array, { format: 'ndjson' })).text)).toEqual([[{ a: 1 }, { a: 2 }]]);
  });

  it('refuses a file that is not a result of the report, before any output, on both engines', async () => {
    const cases: Array<[string, RegExp]> = [
      ['[{"a":1}]', /^not a result of stock-all: the file is a JSON array, not an object with rows\[\]$/],
      ['{}', /^not a result of stock-all: an empty object$/],
      ['{"meta":{"size":0}}', /^not a result of stock-all: no "rows" array \(top-level keys: meta\)$/],
      ['{"series":[{"a":1}]}', /no "rows" array \(top-level keys: series\)/],
    ];
    for (const [body, message] of cases) {
      const path = await tmp.file('not-a-result.json', body);
      for (const format of ['ndjson', 'csv', 'json'] as const) {
        for (const engine of ['fast', 'stream-json'] as const) {
          const out = new Collect();
          const err = await convertFile(path, out, { format, report, engine }).catch((e: unknown) => e);
          expect(err, `${body} ${format} ${engine}`).toBeInstanceOf(BadResultError);
          expect((err as Error).message).toMatch(message);
          expect(out.text()).toBe('');
        }
      }
    }
  });

  it('has no records and no error when the records array is empty', async () => {
    for (const body of ['{"meta":{"size":0},"rows":[]}', '{"rows":[ ]}']) {
      const path = await tmp.file('empty.json', body);
      for (const engine of ['fast', 'stream-json'] as const) {
        const r = await convertToText(path, { format: 'ndjson', report, engine });
        expect(r.text).toBe('');
        expect(r.result.records).toBe(0);
      }
    }
  });

  it('maps a key to one column whether a batch is decoded as latin1 or UTF-8 (\\u escapes)', async () => {
    // Record 1 is raw UTF-8 (latin1 fast decoding); record 2 spells the same key and value with
    // \u escapes (decoded as UTF-8). Small chunks put them in different batches.
    const body = '{"rows":[{"цена":"Чай","x":1},  {"\\u0446\\u0435\\u043d\\u0430":"\\u0427\\u0430\\u0439","x":2}]}';
    const path = await tmp.file('mixed.json', body);
    for (const chunkSize of [16, 1 << 16]) {
      const csv = await convertToText(path, { format: 'csv', chunkSize });
      expect(csv.text).toBe('цена,x\nЧай,1\nЧай,2\n');
    }
    const wide = await tmp.file('wide.json', '{"rows":[{"a":"\\u00e9t\\u00e9 été"}]}');
    expect((await convertToText(wide, { format: 'csv' })).text).toBe('a\nété été\n');
  });
});
