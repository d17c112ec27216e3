/**
 * convertFile end to end on generated results: CSV read back by csv-parse equals an independent
 * flattening of the generated records; NDJSON lines parse to the records; meta.size; output
 * stream handling (end or not, backpressure), progress, abort.
 */
import { parse } from 'csv-parse/sync';
import { readFile, readdir } from 'node:fs/promises';
import { JsonNumber } from '../../src/convert/csv-rules.js';
import { parseExact, stringifyExact } from '../../src/convert/exact-json.js';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFile } from '../../src/convert/index.js';
import { REPORTS, findReportByAlias } from '../../src/reports/catalog.js';
import { generateRecords, writeResultFile } from '../../src/sandbox/generate.js';
import { Collect, convertToText, makeTmp, parseLines } from './helpers.js';

let tmp: Awaited<ReturnType<typeof makeTmp>>;
beforeAll(async () => {
  tmp = await makeTmp();
});
afterAll(async () => {
  await tmp.cleanup();
});

/** The contract's CSV rules, written the slow and obvious way. */
function expectedCsvRecords(
  records: Array<Record<string, unknown>>,
  explode: string | undefined,
): Array<Record<string, string>> {
  const idOf = (href: unknown): string =>
    typeof href === 'string' ? ((href.split(/[?#]/)[0] ?? '').replace(/\/+$/, '').split('/').pop() ?? '') : '';
  const walk = (o: Record<string, unknown>, prefix: string, into: Record<string, string>, skip?: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (k === skip) continue;
      const name = prefix + k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber)) {
        if (
          k === 'meta' &&
          ((v as { size?: unknown }).size instanceof JsonNumber || typeof (v as { size?: unknown }).size === 'number')
        ) {
          // A collection (accounts, notes, images …): its size, not an id made of its name.
          const size = (v as { size: unknown }).size;
          into[`${prefix}size`] = size instanceof JsonNumber ? size.text : String(size);
        } else if (k === 'meta') {
          const m = v as Record<string, unknown>;
          into[`${name}.id`] = idOf(m.href);
          into[`${name}.type`] = m.type === undefined || m.type === null ? '' : String(m.type);
        } else {
          walk(v as Record<string, unknown>, `${name}.`, into);
        }
      } else {
        // Numbers as the file wrote them (`80000.0` stays): CSV never changes a value.
        into[name] = Array.isArray(v)
          ? stringifyExact(v)
          : v === null
            ? ''
            : v instanceof JsonNumber
              ? v.text
              : String(v);
      }
    }
  };
  const out: Array<Record<string, string>> = [];
  for (const r of records) {
    const parent: Record<string, string> = {};
    const items = explode === undefined ? undefined : r[explode];
    walk(r, '', parent, Array.isArray(items) ? explode : undefined);
    if (!Array.isArray(items) || items.length === 0) {
      out.push(parent);
      continue;
    }
    for (const item of items as Array<Record<string, unknown>>) {
      const row = { ...parent };
      walk(item, `${explode}.`, row);
      out.push(row);
    }
  }
  return out;
}

describe('CSV read back by csv-parse equals the generated records, flattened', () => {
  it.each(REPORTS.map((r) => [r.alias, r] as const))('%s', async (alias, report) => {
    const path = await tmp.file(`${alias}.json`);
    await writeResultFile(path, { report: alias, rows: 20, seed: 11, stores: 4 });
    const body = parseExact(await readFile(path, 'utf8')) as Record<string, unknown>;
    const records = (report.records === 'root' ? [body] : body[report.records]) as Array<Record<string, unknown>>;
    expect(records).toHaveLength([...generateRecords(alias, { rows: 20, seed: 11, stores: 4 })].length);
    const expected = expectedCsvRecords(records, report.explode);
    for (const csv of [{}, { delimiter: ';', bom: true, crlf: true }]) {
      const { text, result } = await convertToText(path, { format: 'csv', report, csv });
      const parsed = parse(text, {
        columns: true,
        bom: true,
        delimiter: csv.delimiter ?? ',',
        relax_column_count: false,
      }) as Array<Record<string, string>>;
      const header = Object.keys(parsed[0] ?? {});
      expect(parsed).toEqual(expected.map((e) => Object.fromEntries(header.map((h) => [h, e[h] ?? '']))));
      expect(new Set(expected.flatMap((e) => Object.keys(e)))).toEqual(new Set(header));
      expect(result.lines).toBe(expected.length);
    }
  });

  it('stock-bystore: products × stores records', async () => {
    const report = findReportByAlias('stock-bystore')!;
    const path = await tmp.file('sb.json');
    await writeResultFile(path, { report: 'stock-bystore', rows: 50, seed: 5, stores: 6 });
    const { text, result } = await convertToText(path, { format: 'csv', report });
    expect(result).toMatchObject({ records: 50, metaSize: 50, lines: 300, engine: 'fast' });
    expect(parse(text, { columns: true })).toHaveLength(300);
  });
});

describe('NDJSON and meta.size', () => {
  it('reads meta.size before or after the records, compact or pretty', async () => {
    const report = findReportByAlias('counterparty')!;
    for (const metaLast of [false, true]) {
      for (const pretty of [false, true]) {
        const path = await tmp.file(`cp-${metaLast}-${pretty}.json`);
        await writeResultFile(path, { report: 'counterparty', rows: 30, seed: 2, pretty, metaLast });
        const { text, result } = await convertToText(path, { format: 'ndjson', report });
        expect(result).toMatchObject({ records: 30, metaSize: 30, lines: 30 });
        expect(parseLines(text)).toEqual([...generateRecords('counterparty', { rows: 30, seed: 2 })]);
        for (const line of text.split('\n').slice(0, -1)) expect(line).toBe(line.trim());
      }
    }
  });

  it('has no metaSize when the file has none', async () => {
    const path = await tmp.file('nosize.json', '{"meta":{"type":"x"},"rows":[{"a":1}]}');
    const { result } = await convertToText(path, { format: 'ndjson' });
    expect(result.records).toBe(1);
    expect(result.metaSize).toBeUndefined();
  });
});

describe('the output stream', () => {
  const report = findReportByAlias('stock-bystore')!;

  it('ends a file-like output but not when told not to (stdout)', async () => {
    const path = await tmp.file('small.json', '{"rows":[{"a":1}]}');
    const ended = new Collect();
    await convertFile(path, ended, { format: 'ndjson' });
    expect(ended.writableEnded).toBe(true);
    const open = new Collect();
    await convertFile(path, open, { format: 'ndjson', end: false });
    expect(open.writableEnded).toBe(false);
    expect(open.text()).toBe('{"a":1}\n');
  });

  it('waits for a slow output (backpressure) and keeps order', async () => {
    const path = await tmp.file('bp.json');
    await writeResultFile(path, { report: 'stock-bystore', rows: 400, seed: 9 });
    const chunks: Buffer[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        chunks.push(chunk);
        setTimeout(() => {
          inFlight--;
          cb();
        }, 1);
      },
    });
    await convertFile(path, slow, { format: 'ndjson', report, chunkSize: 4096 });
    expect(maxInFlight).toBe(1);
    expect(parseLines(Buffer.concat(chunks).toString())).toEqual([
      ...generateRecords('stock-bystore', { rows: 400, seed: 9 }),
    ]);
  });

  it('rejects when the output fails', async () => {
    const path = await tmp.file('fail.json');
    await writeResultFile(path, { report: 'stock-bystore', rows: 200, seed: 1 });
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('EPIPE'));
      },
    });
    broken.on('error', () => undefined);
    await expect(convertFile(path, broken, { format: 'csv', report, chunkSize: 2048 })).rejects.toThrow('EPIPE');
  });

  it('reports progress against meta.size, throttled, ending with the total', async () => {
    const path = await tmp.file('progress.json');
    await writeResultFile(path, { report: 'stock-bystore', rows: 300, seed: 4 });
    const seen: Array<{ records: number; total?: number }> = [];
    await convertFile(path, new PassThrough().resume(), {
      format: 'csv',
      report,
      chunkSize: 1024,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(50);
    expect(seen.at(-1)).toEqual({ records: 300, total: 300 });
  });

  it('stops on abort and leaves no temporary body file', async () => {
    const path = await tmp.file('abort.json');
    await writeResultFile(path, { report: 'stock-bystore', rows: 300, seed: 4 });
    const controller = new AbortController();
    const promise = convertFile(path, new PassThrough().resume(), {
      format: 'csv',
      report,
      chunkSize: 512,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(promise).rejects.toThrow(/abort/i);
    expect((await readdir(tmp.dir)).filter((f) => f.endsWith('.csv-body'))).toEqual([]);
  });
});
