/** `ms-async convert`: a result file on disk → CSV/NDJSON/JSON with the export's own code. */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/test-io.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-convert-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const product = (id: string, name: string) => ({
  meta: { href: `https://api.moysklad.ru/api/remap/1.2/entity/product/${id}?expand=supplier`, type: 'product' },
  name,
  stockByStore: [
    {
      meta: { href: `https://api.moysklad.ru/api/remap/1.2/entity/store/s1`, type: 'store' },
      name: 'Склад; "Юг", 2',
      stock: -3.5,
    },
  ],
});

async function resultFile(body: unknown): Promise<string> {
  const path = join(dir, 'asynctask_result.json');
  await writeFile(path, JSON.stringify(body));
  return path;
}

describe('ms-async convert', () => {
  it('converts with the catalogue report and warns when meta.size disagrees with the records', async () => {
    const input = await resultFile({ meta: { size: 3 }, rows: [product('p1', 'Чай, зелёный'), product('p2', '=1+1')] });
    const out = join(dir, 'stock.csv');
    const r = await runCli(['convert', input, '--report', 'stock-bystore', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(
      'meta.id,meta.type,name,stockByStore.meta.id,stockByStore.meta.type,stockByStore.name,stockByStore.stock\n' +
        'p1,product,"Чай, зелёный",s1,store,"Склад; ""Юг"", 2",-3.5\n' +
        'p2,product,=1+1,s1,store,"Склад; ""Юг"", 2",-3.5\n',
    );
    expect(r.stderr).toMatch(/warning: the result holds 2 records but its meta\.size says 3/);
  });

  it('writes NDJSON to stdout with --out -', async () => {
    const input = await resultFile({ rows: [product('p1', 'a\nb')] });
    const r = await runCli(['convert', input, '--out', '-']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toEqual(product('p1', 'a\nb'));
  });

  it('a malformed file is exit 7 and the existing output stays untouched, with no part file left', async () => {
    const input = join(dir, 'broken.json');
    await writeFile(input, '{"rows":[{"name":"a"},{"name":"b"');
    const out = join(dir, 'stock.csv');
    await writeFile(out, 'old\n');
    const r = await runCli(['convert', input, '--report', 'stock-all', '--out', out]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^ms-async: error: .*(cut short|truncated|unexpected end|byte \d+)/m);
    expect(await readFile(out, 'utf8')).toBe('old\n');
    expect((await readdir(dir)).sort()).toEqual(['broken.json', 'stock.csv']);
  });

  it('a missing input or an unknown report is exit 2', async () => {
    expect((await runCli(['convert', join(dir, 'nope.json'), '--out', join(dir, 'x.csv')])).code).toBe(2);
    const input = await resultFile({ rows: [] });
    const r = await runCli(['convert', input, '--report', 'stok', '--out', join(dir, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown report "stok"/);
  });

  it('decodes a gzip file (curl without --compressed) transparently, leaving nothing behind', async () => {
    const body = JSON.stringify({ meta: { size: 1 }, rows: [product('p1', 'Чай')] });
    const input = join(dir, 'saved.json');
    await writeFile(input, gzipSync(body));
    const out = join(dir, 'stock.csv');
    const r = await runCli(['convert', input, '--report', 'stock-bystore', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^meta\.id,.*\np1,product,Чай,s1,store,/s);
    expect((await readdir(dir)).sort()).toEqual(['saved.json', 'stock.csv']);
    await writeFile(input, gzipSync(body).subarray(0, 20));
    expect((await runCli(['convert', input, '--out', join(dir, 'x.csv')])).code).toBe(7);
  });

  it('a task object or a webhook event is exit 2 naming what it is, the old output untouched', async () => {
    const task = {
      meta: { href: 'https://api.moysklad.ru/api/remap/1.2/async/7e11f3a2-1c9b-11f0-0a80-0b4c00000020', type: 'async' },
      id: '7e11f3a2-1c9b-11f0-0a80-0b4c00000020',
      state: 'DONE',
      request: 'https://api.moysklad.ru/api/remap/1.2/report/stock/all?async=true',
      resultUrl: 'https://api.moysklad.ru/api/remap/1.2/async/7e11f3a2-1c9b-11f0-0a80-0b4c00000020/result',
    };
    const event = { events: [{ meta: task.meta, action: 'PROCESSED', accountId: 'a1' }] };
    const out = join(dir, 'stock.csv');
    await writeFile(out, 'old\n');
    const t = await runCli(['convert', await resultFile(task), '--report', 'stock-all', '--out', out]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/is not a result file: it is an async task object/);
    expect(t.stderr).toContain(`ms-async fetch ${task.id} --out ${out}`);
    const e = await runCli(['convert', await resultFile(event), '--out', out]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/it is a webhook event/);
    expect(await readFile(out, 'utf8')).toBe('old\n');
  });
});

describe('ms-async convert: records nested thousands of levels deep (issue 14 item 6)', () => {
  const deepArray = `{"rows":[{"a":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
  const deepObject = `{"rows":[{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}]}`;
  it.each([
    ['array', 'csv', deepArray],
    ['object', 'csv', deepObject],
    ['array', 'xlsx', deepArray],
    ['object', 'xlsx', deepObject],
  ])('a deep %s to %s is exit 7 with one clear line, not a stack trace', async (_kind, format, text) => {
    const input = join(dir, 'deep.json');
    await writeFile(input, text);
    const out = join(dir, `deep.${format}`);
    await writeFile(out, 'OLD');
    const r = await runCli(['convert', input, '--out', out]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^ms-async: error: a record nests (deeper than 1000 levels|too deeply to flatten)/m);
    expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
    expect(await readFile(out, 'utf8')).toBe('OLD');
    expect((await readdir(dir)).sort()).toEqual(['deep.json', `deep.${format}`].sort());
  });
  it('nesting a real result could have stays a JSON cell', async () => {
    const input = join(dir, 'ok.json');
    await writeFile(input, `{"rows":[{"a":${'['.repeat(50)}1${']'.repeat(50)}}]}`);
    const out = join(dir, 'ok.csv');
    const r = await runCli(['convert', input, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(`a\n${'['.repeat(50)}1${']'.repeat(50)}\n`);
  });
});
