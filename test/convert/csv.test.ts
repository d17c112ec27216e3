/**
 * CSV rules (README.md "Output formats"): quoting, flattening, meta reduction, explode,
 * --rubles, --columns, and the Excel options. Read back with csv-parse, not with our own code.
 */
import { existsSync, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, convertFile, formatFromPath, formatRubles } from '../../src/convert/index.js';
import { CsvFlattener, type DEFAULT_CSV, resolveCsvOptions } from '../../src/convert/csv.js';
import { rublesText } from '../../src/convert/csv-rules.js';
import { UsageError } from '../../src/errors.js';
import { findReportByAlias, type ReportSpec } from '../../src/reports/catalog.js';
import { convertToText, makeTmp } from './helpers.js';

let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

function flatten(
  records: unknown[],
  options: Partial<typeof DEFAULT_CSV> = {},
  report: Partial<ReportSpec> = {},
): string {
  const f = new CsvFlattener(resolveCsvOptions(options), report);
  for (const r of records) f.add(r);
  // No padding here: callers use records whose columns all appear in the first one.
  const lines = f.takeBatch();
  return f.header() + lines;
}

async function csvOf(rows: unknown[], options: Parameters<typeof convertToText>[1]): Promise<string> {
  const path = await tmp.file(
    `in-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({ meta: { size: rows.length }, rows }),
  );
  return (await convertToText(path, options)).text;
}

describe('formats table', () => {
  it('maps extensions to formats', () => {
    expect(Object.keys(FORMATS)).toEqual(['csv', 'ndjson', 'json', 'xlsx']);
    expect(formatFromPath('report.XLSX')).toBe('xlsx');
    expect(formatFromPath('out/stock.csv')).toBe('csv');
    expect(formatFromPath('stock.CSV')).toBe('csv');
    expect(formatFromPath('stock.ndjson')).toBe('ndjson');
    expect(formatFromPath('stock.jsonl')).toBe('ndjson');
    expect(formatFromPath('/tmp/x.json')).toBe('json');
    expect(formatFromPath('stock.txt')).toBeUndefined();
    expect(formatFromPath('-')).toBeUndefined();
  });
});

describe('quoting (RFC 4180)', () => {
  it('quotes exactly the fields with the delimiter, a quote, CR or LF, doubling quotes', () => {
    const text = flatten([
      { a: 'plain', b: 'a,b', c: 'say "hi"', d: 'cr\rx', e: 'lf\nx', f: 'semi;colon', g: ' spaces ', h: 'tab\tx' },
    ]);
    expect(text).toBe('a,b,c,d,e,f,g,h\nplain,"a,b","say ""hi""","cr\rx","lf\nx",semi;colon, spaces ,tab\tx\n');
  });

  it("with ';' quotes semicolons instead of commas; BOM and CRLF on request", async () => {
    const text = await csvOf([{ a: 'a,b', b: 'a;b', c: 1.5 }], {
      format: 'csv',
      csv: { delimiter: ';', bom: true, crlf: true },
    });
    expect(text).toBe('\uFEFFa;b;c\r\na,b;"a;b";1.5\r\n');
    expect(parse(text, { bom: true, columns: true, delimiter: ';' })).toEqual([{ a: 'a,b', b: 'a;b', c: '1.5' }]);
  });

  it('quotes header names that need it', () => {
    expect(flatten([{ 'a,b': 1, 'q"': 2 }])).toBe('"a,b","q"""\n1,2\n');
  });

  it('refuses delimiters that cannot work', () => {
    for (const delimiter of ['', ';;', '"', '\n']) {
      expect(() => resolveCsvOptions({ delimiter })).toThrow(UsageError);
    }
    // Characters of numbers: a number holding the delimiter would have to be quoted (text, not a number).
    for (const delimiter of ['.', '-', '+', '0', '5', '9', 'e', 'E']) {
      expect(() => resolveCsvOptions({ delimiter }), delimiter).toThrow(/occurs in numbers/);
    }
    for (const delimiter of [',', ';', '\\t', '|', ' ', 'r', 'a', '§'])
      expect(() => resolveCsvOptions({ delimiter })).not.toThrow();
    expect(resolveCsvOptions({ delimiter: '\\t' }).delimiter).toBe('\t');
  });
});

describe('values are never changed or split', () => {
  const body =
    '{"rows":[{"big":9007199254740993,"huge":12345678901234567890123,"inf":1e400,"tiny":1e-400,"java":80000.0,' +
    '"neg":-1.5,"ok":true,"no":false,"arr":[1e400,1.50,"r"],"s":"true or false"}]}';
  const header = 'big,huge,inf,tiny,java,neg,ok,no,arr,s\n';
  const line =
    '9007199254740993,12345678901234567890123,1e400,1e-400,80000.0,-1.5,true,false,"[1e400,1.50,""r""]",true or false\n';

  it('writes numbers exactly as the JSON text has them, on both engines and for records the byte path declines', async () => {
    for (const engine of ['fast', 'stream-json'] as const) {
      const path = await tmp.file(`exact-${engine}.json`, body);
      expect((await convertToText(path, { format: 'csv', engine })).text, engine).toBe(header + line);
    }
    // A duplicate key makes the byte path decline the record: the object path keeps the numbers too.
    const declined = await tmp.file('exact-dup.json', body.replace('{"big"', '{"s":"x","big"'));
    expect((await convertToText(declined, { format: 'csv' })).text).toBe(
      's,' + header.replace(',s\n', '\n') + 'true or false,' + line.replace(',true or false\n', '\n'),
    );
  });

  it('quotes every field holding the delimiter, booleans included, with any allowed delimiter', async () => {
    const path = await tmp.file('exact-r.json', body);
    for (const delimiter of ['r', 'a', '§']) {
      const { text } = await convertToText(path, { format: 'csv', csv: { delimiter } });
      const rows = parse(text, { delimiter, columns: true }) as Array<Record<string, string>>;
      expect(rows, delimiter).toEqual([
        {
          big: '9007199254740993',
          huge: '12345678901234567890123',
          inf: '1e400',
          tiny: '1e-400',
          java: '80000.0',
          neg: '-1.5',
          ok: 'true',
          no: 'false',
          arr: '[1e400,1.50,"r"]',
          s: 'true or false',
        },
      ]);
    }
  });
});

describe('shapes from the field (docs/api-facts.md §10)', () => {
  it('collection metas give <name>.size, image metas without type an id and an empty type, x.0 stays', async () => {
    const base = 'https://api.moysklad.ru/api/remap/1.2/entity/counterparty/c-1';
    const row = {
      meta: { href: base, type: 'counterparty' },
      accounts: {
        meta: {
          href: `${base}/accounts`,
          type: 'account',
          mediaType: 'application/json',
          size: 2,
          limit: 1000,
          offset: 0,
        },
      },
      notes: { meta: { size: 0, href: `${base}/notes`, type: 'note', limit: 1000, offset: 0 } },
      image: {
        meta: { href: 'https://api.moysklad.ru/api/remap/1.2/download/img-9', mediaType: 'application/octet-stream' },
        title: 'x',
      },
      bonusPoints: 'JAVA',
    };
    const text = JSON.stringify({ rows: [row] }).replace('"JAVA"', '80000.0');
    for (const engine of ['fast', 'stream-json'] as const) {
      const path = await tmp.file(`field-${engine}.json`, text);
      expect((await convertToText(path, { format: 'csv', engine })).text, engine).toBe(
        'meta.id,meta.type,accounts.size,notes.size,image.meta.id,image.meta.type,image.title,bonusPoints\n' +
          'c-1,counterparty,2,0,img-9,,x,80000.0\n',
      );
    }
  });
});

describe('flattening', () => {
  it('dots nested objects, reduces meta to id and type, keeps other arrays as JSON cells', () => {
    const text = flatten([
      {
        meta: {
          href: 'https://api.moysklad.ru/api/remap/1.2/entity/product/0b5e7a10-2a11-11f0-0a80-00aa00000101?expand=supplier',
          type: 'product',
          mediaType: 'application/json',
        },
        id: 'own-id',
        name: 'Чай',
        folder: {
          meta: { href: 'https://x/entity/productfolder/f-1', type: 'productfolder' },
          name: 'Напитки',
          deeper: { x: null },
        },
        tags: ['опт', 'москва'],
        empty: [],
        flag: true,
        off: false,
        nothing: null,
        n: 1.0,
        big: 1e21,
        neg: -0.5,
      },
    ]);
    const [header, line] = text.split('\n');
    expect(header).toBe(
      'meta.id,meta.type,id,name,folder.meta.id,folder.meta.type,folder.name,folder.deeper.x,tags,empty,flag,off,nothing,n,big,neg',
    );
    expect(line).toBe(
      '0b5e7a10-2a11-11f0-0a80-00aa00000101,product,own-id,Чай,f-1,productfolder,Напитки,,"[""опт"",""москва""]",[],true,false,,1,1e+21,-0.5',
    );
  });

  it('takes the id from hrefs with queries, fragments, trailing slashes, or none at all', () => {
    const text = flatten([
      { meta: { href: 'https://x/entity/variant/abc?expand=product.supplier&x=/y', type: 'variant' } },
      { meta: { href: 'https://x/entity/product/def/', type: 'product' } },
      { meta: { type: 'service' } },
      { meta: { href: 'https://x/entity/counterparty/ghi/accounts#top' } },
    ]);
    expect(text).toBe('meta.id,meta.type\nabc,variant\ndef,product\n,service\naccounts,\n');
  });

  it('takes the union of columns in first-appearance order; the converter pads early lines', async () => {
    const text = await csvOf([{ a: 1 }, { b: 2, a: 3 }, { c: { d: 4 } }], { format: 'csv' });
    expect(text).toBe('a,b,c.d\n1,,\n3,2,\n,,4\n');
  });

  it('pads early lines whose quoted cells hold line breaks (also with CRLF)', async () => {
    const rows = [{ a: 'x\r\ny', b: '"q"\n' }, { a: 'z' }, { c: 'late' }];
    for (const crlf of [false, true]) {
      const text = await csvOf(rows, { format: 'csv', csv: { crlf } });
      expect(parse(text, { columns: true })).toEqual([
        { a: 'x\r\ny', b: '"q"\n', c: '' },
        { a: 'z', b: '', c: '' },
        { a: '', b: '', c: 'late' },
      ]);
    }
  });

  it('writes a record that is not an object as a column named value', () => {
    expect(flatten([1, 'two', null])).toBe('value\n1\ntwo\n\n');
  });
});

describe('explode (stock-bystore)', () => {
  const report = findReportByAlias('stock-bystore')!;
  const store = (id: string, name: string, stock: number) => ({
    meta: { href: `https://x/entity/store/${id}`, type: 'store' },
    name,
    stock,
    reserve: 0,
    inTransit: 1,
  });

  it('yields one record per element with the parent columns; empty or absent arrays yield one record', async () => {
    const rows = [
      {
        meta: { href: 'https://x/entity/product/p1?expand=supplier', type: 'product' },
        stockByStore: [store('s1', 'Основной склад', 7), store('s2', 'Склад; "Юг", 2', -3)],
      },
      { meta: { href: 'https://x/entity/variant/v1', type: 'variant' }, stockByStore: [] },
      { meta: { href: 'https://x/entity/product/p2', type: 'product' } },
      {
        meta: { href: 'https://x/entity/product/p3', type: 'product' },
        stockByStore: [store('s1', 'Основной склад', 0.5)],
        extra: 'after',
      },
    ];
    const text = await csvOf(rows, { format: 'csv', report });
    expect(text).toBe(
      [
        'meta.id,meta.type,stockByStore.meta.id,stockByStore.meta.type,stockByStore.name,stockByStore.stock,stockByStore.reserve,stockByStore.inTransit,extra',
        'p1,product,s1,store,Основной склад,7,0,1,',
        'p1,product,s2,store,"Склад; ""Юг"", 2",-3,0,1,',
        'v1,variant,,,,,,,',
        'p2,product,,,,,,,',
        'p3,product,s1,store,Основной склад,0.5,0,1,after',
        '',
      ].join('\n'),
    );
    const ndjson = await csvOf(rows, { format: 'ndjson', report });
    expect(ndjson.split('\n')).toHaveLength(5);
  });

  it('does not explode without the catalogue entry (the array is one JSON cell)', async () => {
    const text = await csvOf([{ stockByStore: [{ a: 1 }] }], { format: 'csv' });
    expect(text).toBe('stockByStore\n"[{""a"":1}]"\n');
  });
});

describe('--rubles', () => {
  it('formats kopecks exactly', () => {
    expect(formatRubles(8900)).toBe('89.00');
    expect(formatRubles(15900.5)).toBe('159.005');
    expect(formatRubles(5)).toBe('0.05');
    expect(formatRubles(-5)).toBe('-0.05');
    expect(formatRubles(0)).toBe('0.00');
    expect(formatRubles(-0)).toBe('0.00');
    expect(formatRubles(30)).toBe('0.30');
    expect(formatRubles(0.1 + 0.2)).toBe('0.0030000000000000004'); // the input's own digits, shifted
    expect(formatRubles(123456789012)).toBe('1234567890.12');
    expect(formatRubles(1e21)).toBe('10000000000000000000.00'); // plain while JS would print it plain
    expect(rublesText('12345678901234567890123')).toBe('123456789012345678901.23');
    expect(rublesText('9007199254740993')).toBe('90071992547409.93');
    expect(rublesText('1e400')).toBe('1e+398');
    expect(rublesText('-1.5E-400')).toBe('-1.5e-402');
    expect(rublesText('80000.0')).toBe('800.00');
    expect(formatRubles(1e-7)).toBe('1e-9');
  });

  it('divides only the catalogue money columns, only numbers, and only when asked', async () => {
    const report = findReportByAlias('assortment')!; // money: minPrice.value, buyPrice.value
    const rows = [{ name: 'x', minPrice: { value: 12345 }, buyPrice: { value: 'n/a' }, value: 500 }];
    expect(await csvOf(rows, { format: 'csv', report, csv: { rubles: true } })).toBe(
      'name,minPrice.value,buyPrice.value,value\nx,123.45,n/a,500\n',
    );
    expect(await csvOf(rows, { format: 'csv', report })).toBe(
      'name,minPrice.value,buyPrice.value,value\nx,12345,n/a,500\n',
    );
  });
});

describe('--rubles: one decimal form per column', () => {
  const report = findReportByAlias('profit-byproduct')!;
  const rows = [
    { sellSum: 1050, profit: 10, x: 1 },
    { sellSum: 1050.5, profit: 20, x: 2.5 },
    // biome-ignore lint/correctness/noPrecisionLoss: a number past a double's range, on purpose
    { sellSum: 1e400, profit: 30 },
    { sellSum: 100.125, profit: 40 },
  ];
  const body = JSON.stringify({ rows }).replace('"sellSum":null', '"sellSum":1e400');

  it("pads whole-kopeck values to the decimals of the column's fractional kopecks, exactly, on both engines and with --columns", async () => {
    for (const engine of ['fast', 'stream-json'] as const) {
      for (const columns of [undefined, ['profit', 'sellSum']]) {
        const path = await tmp.file('rubles-form.json', body);
        const { text } = await convertToText(path, {
          format: 'csv',
          report,
          engine,
          csv: { rubles: true, ...(columns ? { columns } : {}) },
          chunkSize: 16,
        });
        const parsed = parse(text, { columns: true }) as Array<Record<string, string>>;
        expect(
          parsed.map((r) => r.sellSum),
          `${engine} ${String(columns)}`,
        ).toEqual(['10.50000', '10.50500', '1e+398', '1.00125']);
        expect(parsed.map((r) => r.profit)).toEqual(['0.10', '0.20', '0.30', '0.40']);
        if (!columns) expect(parsed.map((r) => r.x)).toEqual(['1', '2.5', '', '']);
      }
    }
  });
});

describe("--rubles: the padding across the body file's reads", () => {
  it('keeps every line and value over more than one 1 MiB read', async () => {
    const report = findReportByAlias('profit-byproduct')!;
    const rows = Array.from({ length: 40000 }, (_, k) => ({
      name: `n "${k}", ok`,
      sellSum: k % 7 === 0 ? k + 0.125 : k,
      profit: k,
    }));
    const path = await tmp.file('rubles-big.json', JSON.stringify({ rows }));
    const { text } = await convertToText(path, { format: 'csv', report, csv: { rubles: true, crlf: true } });
    expect(text.length).toBeGreaterThan(1 << 20);
    const parsed = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(parsed).toHaveLength(rows.length);
    parsed.forEach((r, k) => {
      expect(r.name).toBe(rows[k]!.name);
      expect(r.sellSum).toMatch(/^\d+\.\d{5}$/);
      expect(Math.round(Number(r.sellSum) * 1e5)).toBe(Math.round(rows[k]!.sellSum * 1e3));
      expect(r.profit).toMatch(/^\d+\.\d\d$/);
    });
  });
});

describe('--columns', () => {
  const rows = [
    { meta: { href: 'https://x/e/p/1', type: 'product' }, name: 'a,b', stock: 1 },
    { name: 'c', stock: 2, late: true },
  ];

  it('picks and orders columns in one pass', async () => {
    const text = await csvOf(rows, { format: 'csv', csv: { columns: ['stock', 'meta.id', 'late'] } });
    expect(text).toBe('stock,meta.id,late\n1,1,\n2,,true\n');
  });

  it('leaves a column no record has empty and reports it with the available ones', async () => {
    const path = await tmp.file('missing-column.json', JSON.stringify({ meta: { size: rows.length }, rows }));
    const { text, result } = await convertToText(path, { format: 'csv', csv: { columns: ['name', 'nmae'] } });
    expect(text).toBe('name,nmae\n"a,b",\nc,\n');
    expect(result.missingColumns).toEqual(['nmae']);
    expect(result.availableColumns).toEqual(['meta.id', 'meta.type', 'name', 'stock', 'late']);
  });

  it('refuses empty and duplicate names at once', () => {
    expect(() => resolveCsvOptions({ columns: [' ', ''] })).toThrow(UsageError);
    expect(() => resolveCsvOptions({ columns: ['a', 'a'] })).toThrow(UsageError);
  });
});

describe('a CSV into a file: the header first, the file written again only when it must', () => {
  /** Converts rows into a new file; whether the file at the end is the one first opened. */
  async function intoFile(rows: unknown[], csv: Parameters<typeof convertToText>[1]['csv'] = {}) {
    const input = await tmp.file(`file-${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ rows }));
    const path = `${input}.csv`;
    const spare = `${input}.spare`;
    const output = createWriteStream(path, { flags: 'wx' });
    await once(output, 'open');
    const first = (await stat(path)).ino;
    const report = findReportByAlias('profit-byproduct')!;
    const options = { format: 'csv', report, csv, chunkSize: 4096, holdBytes: 8192 } as const;
    await convertFile(input, output, { ...options, outputFile: { path, spare } });
    const text = await readFile(path, 'utf8');
    expect(text).toBe((await convertToText(input, options)).text);
    return { once: (await stat(path)).ino === first, text, spareLeft: existsSync(spare) };
  }
  const rows = (n: number) => Array.from({ length: n }, (_, k) => ({ name: `p${k}`, sellSum: k * 100, profit: k }));

  it('all columns in the first lines: written once, straight', async () => {
    const { once: written, text } = await intoFile(rows(3000));
    expect(text.split('\n')).toHaveLength(3002);
    expect(written).toBe(true);
  });

  it('a column first seen after the header went out: written again, early lines padded', async () => {
    const late = [...rows(3000), { name: 'late', extra: 'x' }];
    const { once: written, text, spareLeft } = await intoFile(late);
    expect(written).toBe(false);
    expect(spareLeft).toBe(false);
    const parsed = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(parsed[0]).toEqual({ name: 'p0', sellSum: '0', profit: '0', extra: '' });
    expect(parsed.at(-1)).toEqual({ name: 'late', sellSum: '', profit: '', extra: 'x' });
  });

  it('--rubles with fractional kopecks after the header went out: written again, decimals evened', async () => {
    const fractional = [...rows(3000), { name: 'frac', sellSum: 100.5, profit: 1 }];
    const { once: written, text } = await intoFile(fractional, { rubles: true });
    expect(written).toBe(false);
    const parsed = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(parsed[1]!.sellSum).toBe('1.000');
    expect(parsed.at(-1)!.sellSum).toBe('1.005');
  });
});
