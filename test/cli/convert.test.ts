/** `ms-async convert`: a result file on disk → CSV/NDJSON/JSON with the export's own code. */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    { meta: { href: `https://api.moysklad.ru/api/remap/1.2/entity/store/s1`, type: 'store' }, name: 'Склад; "Юг", 2', stock: -3.5 },
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
});
