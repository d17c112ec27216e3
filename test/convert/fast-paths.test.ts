/**
 * The byte-level fast paths against their references, on hostile and edge values:
 * - CsvFlattener.addBytes (CSV straight from the record's bytes) = add(JSON.parse(record)), byte for
 *   byte, columns and padding epochs included; it declines (returns false, nothing changed) exactly
 *   where JSON.parse semantics differ from a left-to-right reading (duplicate keys, array-index keys);
 * - numbers: the cell is the JSON text on both paths, rubles shifted exactly;
 * - skipMinify (NDJSON of pretty input) = JSON.stringify(JSON.parse()) for minification and
 *   = skipValidated for validation (same errors at the same bytes);
 * - skipBoundaries with whitespace runs and strings cut at every chunk boundary (whole files).
 */
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { CsvFlattener, resolveCsvOptions, type CsvOptions } from '../../src/convert/csv.js';
import { parseExact } from '../../src/convert/exact-json.js';
import { JsonSkipper, JsonSyntaxError } from '../../src/convert/scan.js';

const skipper = new JsonSkipper();
const skipBoundaries = (b: Buffer, i: number, end: number): number => skipper.skipBoundaries(b, i, end);
const skipMinify = (b: Buffer, i: number, end: number, out: Buffer, o: number): number =>
  skipper.skipMinify(b, i, end, out, o);
const skipValidated = (b: Buffer, i: number, end: number): number => skipper.skipValidated(b, i, end);
import { findReportByAlias } from '../../src/reports/catalog.js';
import { mulberry32 } from '../../src/sandbox/generate.js';
import { convertToText, makeTmp, parseLines } from './helpers.js';

/** Small deterministic PRNG: the sandbox generator's own. */
const rng = mulberry32;

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '10',
  '100',
  '1.0',
  '1.50',
  '1.5',
  '-1.5',
  '1e2',
  '1E2',
  '1e+2',
  '1e-2',
  '-0.0',
  '0.5',
  '0.000001',
  '0.0000001',
  '0.0000015',
  '-0.000001',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '123456789012345.6',
  '12345678901234.5',
  '0.123456789012345',
  '0.1234567890123456',
  '9007199254740993',
  '1e21',
  '1e-7',
  '5e-324',
  '1.7976931348623157e308',
  '234.392',
  '31.358',
  '8900.0',
  '-9.99',
  '0.30000000000000004',
];
const STRINGS = [
  '',
  'plain',
  'a,b',
  'a;b',
  'tab\tx',
  'say "hi"',
  'cr\rx',
  'lf\nx',
  'back\\slash',
  'Основной склад',
  'Склад «Север»',
  'é',
  '\u0000',
  '\u001f',
  '\ud83c\udf63',
  '\ud800',
  'x\udc00y',
  '/',
  'a b c',
  '  ',
  '{"x":[1]}',
  '1',
  'true',
];
const HREFS = [
  'https://api.moysklad.ru/api/remap/1.2/entity/product/648f9c1e-2a11-11f0-0a80-000100000000?expand=supplier',
  'https://x/entity/store/4070d33f-2a11-11f0-0a80-000600000000',
  'https://x/e/id/',
  'https://x/e/id//?q=1#f',
  'https://x/e/a,b',
  'https://x/e/a;b?x',
  'noslash',
  '',
  '/',
  '?',
  '#x',
  'a#b?c',
  'https://x/e/Склад',
  'https://x/e/\u00e9\u0416',
];
const KEYS = ['a', 'b', 'name', 'stock', 'meta', 'id', 'x.y', 'a,b', 'q"', 'Ключ', '__proto__', 'type', 'href', 'é'];

/** JSON text of a string, sometimes with gratuitous escapes (\/ and \uXXXX of plain chars). */
function jsonString(s: string, r: () => number): string {
  let t = JSON.stringify(s);
  if (r() < 0.2) t = t.replace(/\//g, '\\/');
  if (r() < 0.15) t = t.replace(/[a-zа-я]/, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return t;
}

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

/** Random JSON text of a value (depth-bounded). */
function value(r: () => number, depth: number): string {
  const x = r();
  if (x < 0.25) return jsonString(pick(r, STRINGS), r);
  if (x < 0.45) return pick(r, NUMBERS);
  if (x < 0.5) return pick(r, ['true', 'false', 'null']);
  if (x < 0.58) return `[${Array.from({ length: Math.floor(r() * 3) }, () => value(r, depth + 1)).join(',')}]`;
  if (x < 0.7) return meta(r);
  if (depth < 3) return object(r, depth + 1);
  return pick(r, NUMBERS);
}

function meta(r: () => number): string {
  const fields: string[] = [];
  const n = Math.floor(r() * 5);
  for (let k = 0; k < n; k++) {
    const y = r();
    if (y < 0.35 && r() < 0.9 && fields.some((f) => f.startsWith('"href"'))) continue;
    if (y < 0.35) fields.push(`"href":${r() < 0.85 ? jsonString(pick(r, HREFS), r) : value(r, 3)}`);
    else if (y < 0.6)
      fields.push(`"type":${r() < 0.7 ? jsonString(pick(r, ['product', 'store', 'a,b', 'x"y']), r) : value(r, 3)}`);
    else if (y < 0.8) fields.push(`"metadataHref":${jsonString(pick(r, HREFS), r)}`);
    else fields.push(`"mediaType":"application/json"`);
  }
  return `{${fields.join(',')}}`;
}

function object(r: () => number, depth: number): string {
  const n = Math.floor(r() * 5);
  const fields: string[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) {
    const key = r() < 0.95 ? pick(r, KEYS) : pick(r, ['0', '1', '01', '4294967294', '4294967295', '-1', '1.5']);
    if (seen.has(key) && r() < 0.9) continue; // a few duplicate keys, not many
    seen.add(key);
    fields.push(`${jsonString(key, r)}:${key === 'meta' && r() < 0.8 ? meta(r) : value(r, depth)}`);
  }
  return `{${fields.join(',')}}`;
}

/** A record of the stock-by-store shape with random deviations. */
function record(r: () => number): string {
  const fields: string[] = [];
  if (r() < 0.9) fields.push(`"meta":${meta(r)}`);
  const items = Array.from({ length: Math.floor(r() * 4) }, () =>
    r() < 0.85
      ? `{"meta":${meta(r)},"name":${jsonString(pick(r, STRINGS), r)},"stock":${pick(r, NUMBERS)}${r() < 0.3 ? `,${jsonString(pick(r, ['a', 'b', 'Ключ', 'x.y', 'q"']), r)}:${value(r, 2)}` : ''}}`
      : value(r, 2),
  );
  const explode = r() < 0.9 ? `"stockByStore":[${items.join(',')}]` : `"stockByStore":${value(r, 1)}`;
  const extraKeys = [...new Set(Array.from({ length: Math.floor(r() * 3) }, () => pick(r, KEYS)))].filter(
    (k) => k !== 'meta' || r() < 0.1,
  );
  const extra = extraKeys.map((key) => `${jsonString(key, r)}:${value(r, 1)}`);
  if (r() < 0.5) fields.push(explode, ...extra);
  else fields.push(...extra, explode);
  if (r() < 0.03) fields.push(explode); // a duplicate explode key
  return `{${fields.join(',')}}`;
}

/** Pretty-prints JSON text with random whitespace (spaces, tabs, CRLF, deep indentation). */
function spaced(text: string, r: () => number): string {
  let out = '';
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    out += c;
    if (inString) {
      if (c === '\\') out += text[++k]!;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if ('{[,:'.includes(c) && r() < 0.7)
      out += pick(r, ['\n', '\r\n', ' ', '\t', '\n        ', '\n' + ' '.repeat(Math.floor(r() * 40))]);
  }
  return out;
}

interface Run {
  bytes: Buffer;
  names: string[];
  epochs: Array<[number, number]>;
  lines: number;
  declined: number;
}

/** Flattens the records both ways. */
function both(
  records: string[],
  options: Partial<CsvOptions>,
  report: { explode?: string; money?: string[] },
): [Run, Run] {
  const opts = resolveCsvOptions(options);
  const ref = new CsvFlattener(opts, report);
  const refParts: string[] = [];
  for (const t of records) {
    ref.add(parseExact(t));
    refParts.push(ref.takeBatch());
  }
  const fast = new CsvFlattener(opts, report);
  fast.out = { buf: Buffer.alloc(16), used: 0 };
  const parts: Buffer[] = [];
  let declined = 0;
  for (const t of records) {
    // Surround the record with other bytes: addBytes must stay within its range.
    const b = Buffer.from(`,  ${t} ]`);
    if (!fast.addBytes(b, 3, b.length - 2)) {
      declined++;
      expect(fast.out.used).toBe(0);
      fast.add(parseExact(t));
    }
    parts.push(Buffer.from(fast.out.buf.subarray(0, fast.out.used)));
    fast.out.used = 0;
  }
  return [
    {
      bytes: Buffer.from(refParts.join('')),
      names: [...ref.names],
      epochs: ref.epochs.map((e) => [...e] as [number, number]),
      lines: ref.lines,
      declined: 0,
    },
    {
      bytes: Buffer.concat(parts),
      names: [...fast.names],
      epochs: fast.epochs.map((e) => [...e] as [number, number]),
      lines: fast.lines,
      declined,
    },
  ];
}

function expectSame(ref: Run, fast: Run): void {
  expect(fast.bytes.toString('utf8')).toBe(ref.bytes.toString('utf8'));
  expect(fast.bytes.equals(ref.bytes)).toBe(true);
  expect(fast.names).toEqual(ref.names);
  expect(fast.epochs).toEqual(ref.epochs);
  expect(fast.lines).toBe(ref.lines);
}

describe('CsvFlattener.addBytes = add(JSON.parse(record))', () => {
  const stock = { explode: 'stockByStore', money: ['stock', 'stockByStore.stock', 'a'] };

  it('on thousands of random hostile records, compact and pretty, with every option', () => {
    const r = rng(5);
    const optionSets: Array<Partial<CsvOptions>> = [
      {},
      { delimiter: ';' },
      { delimiter: '\\t', crlf: true },
      { delimiter: ' ' },
      { delimiter: '/' },
      { delimiter: 'a', rubles: true },
      { rubles: true },
      { columns: ['meta.id', 'stockByStore.name', 'a', 'nope', 'stockByStore.stock', 'meta.type'] },
    ];
    let declined = 0;
    let total = 0;
    for (let round = 0; round < 40; round++) {
      const records = Array.from({ length: 60 }, () => record(r));
      const texts = round % 2 === 0 ? records : records.map((t) => spaced(t, r));
      for (const options of optionSets) {
        for (const report of [stock, {}]) {
          const [ref, fast] = both(texts, options, report);
          expectSame(ref, fast);
          declined += fast.declined;
          total += texts.length;
        }
      }
    }
    // The fast path takes most records (hostile ones included), declines some (duplicates, index keys).
    expect(declined).toBeGreaterThan(0);
    expect(declined).toBeLessThan(total / 2);
  });

  it('on records of the generator (the bench data): all taken, none declined', () => {
    const rec =
      '{"meta":{"href":"https://api.moysklad.ru/api/remap/1.2/entity/product/648f9c1e-2a11-11f0-0a80-000100000000?expand=supplier","metadataHref":"https://api.moysklad.ru/api/remap/1.2/entity/product/metadata","type":"product","mediaType":"application/json"},"stockByStore":[{"meta":{"href":"https://api.moysklad.ru/api/remap/1.2/entity/store/4070d33f-2a11-11f0-0a80-000600000000","metadataHref":"https://api.moysklad.ru/api/remap/1.2/entity/store/metadata","type":"store","mediaType":"application/json"},"name":"Основной склад","stock":174,"reserve":3,"inTransit":7},{"meta":{"href":"https://x/entity/store/c642e270","type":"store"},"name":"Склад «Север»","stock":234.392,"reserve":0,"inTransit":10}]}';
    const [ref, fast] = both([rec, rec, JSON.stringify(JSON.parse(rec), null, 2)], {}, stock);
    expectSame(ref, fast);
    expect(fast.declined).toBe(0);
  });

  it('declines duplicate keys and array-index keys, leaving no trace', () => {
    const f = new CsvFlattener(resolveCsvOptions({}), stock);
    f.out = { buf: Buffer.alloc(64), used: 0 };
    for (const t of [
      '{"a":1,"b":2,"a":3}',
      '{"a":{"x":1},"a":{"y":2}}',
      '{"meta":{"href":"/a","href":"/b"}}',
      '{"meta":{"type":"a","type":"b"}}',
      '{"stockByStore":[],"stockByStore":[{"a":1}]}',
      '{"stockByStore":[{"a":1,"a":2}]}',
      '{"b":1,"2":2}',
      '{"x":{"0":1}}',
      '[1]',
      '"x"',
      '{"a":1}x',
      '{"a":01}',
      '{"a":"\u0001"}',
      '{"a":"\\x"}',
      '{"a":tru}',
      '{"a":1,}',
    ]) {
      const b = Buffer.from(t);
      expect(f.addBytes(b, 0, b.length), t).toBe(false);
    }
    expect(f.out.used).toBe(0);
    expect(f.names).toEqual([]);
    expect(f.lines).toBe(0);
    // Keys that look like indexes but are not (JSON.parse keeps their order): taken.
    const b = Buffer.from('{"b":1,"01":2,"-1":3,"4294967295":4,"1.5":5}');
    expect(f.addBytes(b, 0, b.length)).toBe(true);
    expect(f.names).toEqual(['b', '01', '-1', '4294967295', '1.5']);
  });

  it('keeps money columns, explode order (parent fields after the array first) and padding epochs', () => {
    const records = [
      '{"stockByStore":[{"stock":1050}],"a":12345}',
      '{"z":true,"stockByStore":[],"a":-0.5}',
      '{"stockByStore":[1,null,"s",[1,2],{"meta":{"href":"x/y/"}}],"a":1e3}',
      '{"stockByStore":{"stock":7},"a":null}',
      '{"a":"1,5","new":{"deep":{"er":[]}}}',
      '{"accounts":{"meta":{"href":"x/accounts","type":"account","size":2,"limit":1000}},"a":1}',
      '{"notes":{"meta":{"size":"2","href":"x/n/"}},"images":{"meta":{"size":1.0e0,"type":"image"}},"a":2}',
    ];
    for (const options of [{}, { rubles: true }, { delimiter: ';', crlf: true }]) {
      const [ref, fast] = both(records, options, stock);
      expectSame(ref, fast);
      expect(fast.declined).toBe(0);
    }
  });
});

/** A decimal text as [sign, significant digits, exponent of their first digit]; null when it is zero. */
function decimalKey(t: string): string | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t)!;
  const digits = m[2]! + (m[3] ?? '');
  const lead = digits.length - digits.replace(/^0+/, '').length;
  const sig = digits.replace(/^0+/, '').replace(/0+$/, '');
  if (sig === '') return null;
  return `${m[1]}|${sig}|${m[2]!.length - lead + Number(m[4] ?? 0)}`;
}

describe('numbers are written as the JSON text has them; rubles exactly', () => {
  it('a number cell is its text on both paths, and rublesText(t) × 100 = t to the last digit', () => {
    const r = rng(9);
    const texts = [
      ...NUMBERS,
      '9007199254740993',
      '12345678901234567890123',
      '1e400',
      '1e-400',
      '-0',
      '80000.0',
      '1.50',
      '0.000001',
    ];
    for (let k = 0; k < 5000; k++) {
      const int = r() < 0.3 ? '0' : String(Math.floor(r() * 10 ** Math.floor(r() * 19))).replace(/e.*/, '');
      const frac =
        r() < 0.5 ? '' : `.${'0'.repeat(Math.floor(r() * 8))}${Math.floor(r() * 10 ** Math.floor(r() * 14))}`;
      const exp = r() < 0.1 ? `e${Math.floor(r() * 80) - 40}` : '';
      texts.push(`${r() < 0.3 ? '-' : ''}${int}${frac}${exp}`);
    }
    const valid = texts.filter((t) => /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t));
    const records = valid.map((t) => `{"n":${t},"money":${t}}`);
    const [ref, fast] = both(records, { rubles: true }, { money: ['money'] });
    expectSame(ref, fast);
    const lines = fast.bytes.toString('utf8').split('\n');
    valid.forEach((t, k) => {
      const [n, money] = lines[k]!.split(',');
      expect(n, t).toBe(t);
      const shifted = decimalKey(money!);
      const key = decimalKey(t);
      expect(
        shifted === null ? null : shifted.replace(/\|(-?\d+)$/, (_, e: string) => `|${Number(e) + 2}`),
        `${t} → ${money}`,
      ).toBe(key);
    });
  });
});

describe('skipMinify (NDJSON of pretty input)', () => {
  function minify(text: string): { end: number; out: string } {
    const b = Buffer.from(text);
    const out = Buffer.alloc(b.length + 8);
    const end = skipMinify(b, 0, b.length, out, 0);
    // minOutEnd is internal: the output is the bytes up to the last non-zero-filled byte.
    return { end, out: out.subarray(0, out.indexOf(0) < 0 ? out.length : out.indexOf(0)).toString() };
  }

  it('minifies exactly like JSON.stringify(JSON.parse()) for values without escapes or odd numbers', () => {
    const r = rng(3);
    for (let k = 0; k < 2000; k++) {
      const compact = JSON.stringify(JSON.parse(record(r).replace(/\\u00(00|1f)/g, 'x')));
      if (compact.includes('\\u0000')) continue;
      const text = spaced(compact, r);
      const { end, out } = minify(text);
      expect(end).toBe(text.length === Buffer.byteLength(text) ? text.length : Buffer.byteLength(text));
      expect(out).toBe(compact);
    }
  });

  it('returns -1 at every cut and fails where skipValidated fails, with the same error', () => {
    const r = rng(4);
    for (let k = 0; k < 300; k++) {
      const text = spaced(record(r), r);
      const b = Buffer.from(text);
      const out = Buffer.alloc(b.length + 8);
      for (let cut = 1; cut < b.length; cut += 1 + Math.floor(r() * 5)) {
        expect(skipMinify(b, 0, cut, out, 0)).toBe(-1);
        expect(skipValidated(b, 0, cut)).toBe(-1);
      }
      // Corrupt one byte: both validators agree on the outcome and the error.
      const bad = Buffer.from(b);
      const at = Math.floor(r() * bad.length);
      bad[at] = pick(r, [0x01, 0x0b, 0x22, 0x5c, 0x7d, 0x5d, 0x2c, 0x3a, 0x78, 0x30, 0x2d, 0x0a, 0x20, 0x7b]);
      const outcome = (f: () => number): string => {
        try {
          return `end ${f()}`;
        } catch (err) {
          if (!(err instanceof JsonSyntaxError)) throw err;
          return `error ${err.pos} ${err.message}`;
        }
      };
      expect(outcome(() => skipMinify(bad, 0, bad.length, Buffer.alloc(bad.length + 8), 0))).toBe(
        outcome(() => skipValidated(bad, 0, bad.length)),
      );
    }
  });
});

describe('skipBoundaries', () => {
  it('finds the end skipValidated finds, on pretty values with escapes, at every cut', () => {
    const r = rng(6);
    for (let k = 0; k < 300; k++) {
      const text = spaced(record(r), r);
      const b = Buffer.from(text);
      expect(skipBoundaries(b, 0, b.length)).toBe(skipValidated(b, 0, b.length));
      for (let cut = 1; cut < b.length; cut += 1 + Math.floor(r() * 3)) expect(skipBoundaries(b, 0, cut)).toBe(-1);
    }
  });
});

describe('whole files: pretty input (spaces, tabs, CRLF, long indentation) cut at every chunk boundary', () => {
  let tmp: Awaited<ReturnType<typeof makeTmp>>;
  beforeAll(async () => {
    tmp = await makeTmp();
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it('gives the records and the CSV of the compact file, fast path = stream-json', async () => {
    const report = findReportByAlias('stock-bystore')!;
    const r = rng(8);
    const rows = Array.from({ length: 12 }, () => record(r));
    const compactText = `{"meta":{"size":${rows.length}},"rows":[${rows.join(',')}]}`;
    const expected = (JSON.parse(compactText) as { rows: unknown[] }).rows;
    const compact = await tmp.file('compact.json', compactText);
    const pretty = await tmp.file('pretty.json', spaced(compactText, r).replace(/\n/g, '\r\n'));
    const csvRef = (await convertToText(compact, { format: 'csv', report, engine: 'stream-json' })).text;
    for (const chunkSize of [1, 2, 3, 5, 7, 13, 64, 1000, 1 << 16]) {
      for (const path of [compact, pretty]) {
        const nd = await convertToText(path, { format: 'ndjson', report, chunkSize });
        expect(parseLines(nd.text)).toEqual(expected);
        const csv = await convertToText(path, { format: 'csv', report, chunkSize });
        expect(csv.text).toBe(csvRef);
        expect(csv.result.records).toBe(rows.length);
      }
    }
    // Records the byte path declines (duplicate keys, index keys, a column first seen in one of
    // them) between records it takes: JSON.parse'd in their place, in order, columns included.
    const mixed = [
      '{"a":1,"b":"x"}',
      '{"a":2,"a":3,"dup":"first seen here"}',
      '{"b":"y","dup":"z","stockByStore":[{"s":1},{"s":2}]}',
      '{"2":"two","1":"one","a":4}',
      '{"a":5,"stockByStore":[{"s":3,"s":4,"late":true}]}',
      '{"late":false}',
    ];
    const mixedPath = await tmp.file('mixed.json', spaced(`{"rows":[${mixed.join(',')}]}`, r));
    const mixedRef = (await convertToText(mixedPath, { format: 'csv', report, engine: 'stream-json' })).text;
    expect(mixedRef.split('\n')[0]).toBe('a,b,dup,stockByStore.s,1,2,stockByStore.late,late');
    for (const chunkSize of [1, 3, 8, 64, 1 << 16]) {
      expect((await convertToText(mixedPath, { format: 'csv', report, chunkSize })).text).toBe(mixedRef);
    }
    // A delimiter the byte path does not take (non-ASCII): the JSON.parse path, same cells.
    const other = (await convertToText(pretty, { format: 'csv', report, csv: { delimiter: '§' } })).text;
    expect(other).toBe(
      (await convertToText(compact, { format: 'csv', report, engine: 'stream-json', csv: { delimiter: '§' } })).text,
    );
  });
});
