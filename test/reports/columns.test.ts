/**
 * REPORT_COLUMNS against the sandbox generator: every column the CSV converter makes of generated
 * records is in the table, and every column of the table is made by some record, so the
 * `--columns` check can neither refuse a real column nor drift from the row shapes.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFile } from '../../src/convert/index.js';
import { REPORTS } from '../../src/reports/catalog.js';
import { REPORT_COLUMNS, unknownColumns } from '../../src/reports/columns.js';
import { writeResultFile } from '../../src/sandbox/generate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-columns-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function generatedColumns(alias: string, path: string): Promise<Set<string>> {
  const spec = REPORTS.find((r) => r.alias === alias);
  const columns = new Set<string>();
  for (const variant of [{}, { assortmentWithoutStock: true }, { fieldForms: true }]) {
    for (const seed of [1, 2, 3]) {
      const file = join(dir, `${alias}-${seed}.json`);
      const requestUrl =
        `https://api.moysklad.ru/api/remap/1.2${path}?momentFrom=2026-11-01%2000:00:00` +
        '&momentTo=2026-11-03%2000:00:00&interval=day';
      await writeResultFile(file, { report: alias, rows: 200, seed, requestUrl, ...variant });
      await convertFile(file, createWriteStream(`${file}.csv`), { format: 'csv', ...(spec ? { report: spec } : {}) });
      const header = (await readFile(`${file}.csv`, 'utf8')).split('\n')[0] ?? '';
      for (const column of header.split(',')) columns.add(column);
    }
  }
  return columns;
}

describe('REPORT_COLUMNS', () => {
  it('has an entry for every catalogue report', () => {
    expect(Object.keys(REPORT_COLUMNS).sort()).toEqual(REPORTS.map((r) => r.alias).sort());
  });

  it.each(REPORTS.map((r) => [r.alias, r.path] as const))(
    '%s: the same columns as the generator makes',
    async (alias, path) => {
      const made = await generatedColumns(alias, path);
      expect([...(REPORT_COLUMNS[alias] ?? [])].sort()).toEqual([...made].sort());
    },
  );

  it('suggests the closest names for a typo, and a right leaf under the wrong parent', () => {
    const spec = REPORTS.find((r) => r.alias === 'stock-bystore');
    if (!spec) throw new Error('no stock-bystore');
    expect(unknownColumns(spec, ['meta.id', 'stockByStore.stok', 'stock', 'zzzzzz'])).toEqual([
      { name: 'stockByStore.stok', near: expect.arrayContaining(['stockByStore.stock']) },
      { name: 'stock', near: ['stockByStore.stock'] },
      { name: 'zzzzzz', near: [] },
    ]);
    expect(unknownColumns(spec, ['period.from', 'stockByStore.name'])).toEqual([]);
  });
});
