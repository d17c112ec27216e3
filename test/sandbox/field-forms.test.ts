/**
 * The sandbox speaks the forms real bodies take (docs/api-facts.md §10.2–§10.6), checked against
 * cut-downs of the docs repository's own example bodies (test/fixtures/field-forms/README.md).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSandboxOptions } from '../../src/cli/commands/sandbox.js';
import { parseFaultSpec } from '../../src/sandbox/faults.js';
import { generateRecords, writeResultFile } from '../../src/sandbox/generate.js';
import { sandboxRequest, useSandbox, waitForTask } from '../helpers/start-sandbox.js';

type Row = Record<string, unknown>;
const BASE = 'http://127.0.0.1:9/api/remap/1.2';
const FIXTURES = new URL('../fixtures/field-forms/', import.meta.url);

const fixtureText = (name: string): Promise<string> => readFile(new URL(name, FIXTURES), 'utf8');
const fixtureRows = async (name: string): Promise<Row[]> =>
  (JSON.parse(await fixtureText(name)) as { rows: Row[] }).rows;
const rows = (report: string, fieldForms: boolean, count = 300): Row[] => [
  ...generateRecords(report, { rows: count, seed: 11, baseUrl: BASE, fieldForms }),
];

/** Every path of a value (`a.b`, `list[].c`) with the JSON types seen there. */
function shapes(value: unknown, path = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (path !== '') (out.get(path) ?? out.set(path, new Set()).get(path))?.add(type);
  if (Array.isArray(value)) for (const item of value) shapes(item, `${path}[]`, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) shapes(child, path === '' ? key : `${path}.${key}`, out);
  }
  return out;
}

/** Paths of the fixture rows that the generated rows never show with the same type. */
function missingShapes(fixture: Row[], generated: Row[]): string[] {
  const want = shapes(fixture);
  const have = shapes(generated);
  const missing: string[] = [];
  for (const [path, types] of want) {
    // Link fields the docs print on some metas and not on others carry no shape worth matching.
    if (/\.(metadataHref|uuidHref)$/.test(path)) continue;
    for (const type of types) if (!have.get(path)?.has(type)) missing.push(`${path}: ${type}`);
  }
  return missing;
}

describe("generated rows take the shapes of the docs' example bodies", () => {
  for (const [fixture, report] of [
    ['stock-all.json', 'stock-all'],
    ['profit-byproduct.json', 'profit-byproduct'],
    ['counterparty.json', 'counterparty'],
    ['assortment.json', 'assortment'],
  ] as const) {
    it(`${report}: every path of ${fixture}`, async () => {
      // Shapes of the row arrays, so `[]` leads each path: compare rows as a list of rows.
      expect(missingShapes(await fixtureRows(fixture), rows(report, true))).toEqual([]);
    });
  }

  it('the table shapes (fieldForms off) lack what the field adds', async () => {
    expect(missingShapes(await fixtureRows('counterparty.json'), rows('counterparty', false))).toEqual(
      expect.arrayContaining([
        '[].state.meta.href: string',
        '[].bonusProgram.meta.type: string',
        '[].bonusPoints: number',
      ]),
    );
    const assortment = rows('assortment', false);
    for (const key of ['files', 'paymentItemType', 'trackingType', 'discountProhibited']) {
      expect(assortment.some((r) => key in r)).toBe(false);
    }
  });
});

describe('result files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ms-async-forms-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function resultText(report: string, fieldForms: boolean): Promise<string> {
    const path = join(dir, `${report}-${fieldForms}.json`);
    await writeResultFile(path, { report, rows: 200, seed: 5, baseUrl: BASE, fieldForms });
    return readFile(path, 'utf8');
  }

  it("mix Java-style x.0 numbers, plain integers and fractional kopecks, as the docs' stock body does", async () => {
    const javaStyle = /"(?:price|salePrice)":\d+\.0[,}]/;
    const integer = /"stock":-?\d+[,}]/;
    const fractionalKopecks = /"price":\d+\.\d{3,}[,}]/;
    const fixture = (await fixtureText('stock-all.json')).replace(/\s+/g, '');
    for (const re of [javaStyle, integer, fractionalKopecks]) expect(fixture).toMatch(re);
    const generated = await resultText('stock-all', true);
    for (const re of [javaStyle, integer, fractionalKopecks]) expect(generated).toMatch(re);
    expect(await resultText('stock-all', false)).not.toMatch(fractionalKopecks);
    expect(await resultText('profit-byproduct', true)).toMatch(/"sellPrice":\d+\.\d{3,}[,}]/);
  });

  it("carry context.employee without a meta wrapper, like the docs' stock body", async () => {
    const fixture = JSON.parse(await fixtureText('stock-all.json')) as { context: { employee: Row } };
    expect(fixture.context.employee.meta).toBeUndefined();
    const body = JSON.parse(await resultText('stock-all', true)) as { context: { employee: Row } };
    expect(body.context.employee.meta).toBeUndefined();
    expect(body.context.employee.href).toBe(`${BASE}/context/employee`);
  });
});

describe('single forms', () => {
  it("stock/all rows mostly lack stockDays (the docs' example has it in no row)", async () => {
    expect((await fixtureRows('stock-all.json')).some((r) => 'stockDays' in r)).toBe(false);
    const share = (list: Row[]): number => list.filter((r) => 'stockDays' in r).length / list.length;
    expect(share(rows('stock-all', true))).toBeLessThan(0.4);
    expect(share(rows('stock-all', false))).toBeGreaterThan(0.6);
  });

  it('image metas point at a download and have no type', () => {
    const images = rows('stock-all', true, 600)
      .map((r) => r.image as { meta: Row } | undefined)
      .filter((i) => i !== undefined);
    expect(images.length).toBeGreaterThan(10);
    for (const image of images) {
      expect(image.meta.type).toBeUndefined();
      expect(image.meta.href).toMatch(/\/download\/[0-9a-f-]{36}$/);
      expect(image.meta.mediaType).toBeTypeOf('string');
    }
    const tableForm = rows('stock-all', false, 600).find((r) => r.image !== undefined)?.image as { meta: Row };
    expect(tableForm.meta.type).toBe('image');
  });

  it("collections are metas with size, limit and offset, their href ending in the collection's name", () => {
    const check = (list: Row[], names: string[]): void => {
      for (const name of names) {
        const metas = list.map((r) => (r[name] as { meta?: Row } | undefined)?.meta).filter((m) => m !== undefined);
        expect(metas.length, name).toBeGreaterThan(0);
        for (const m of metas) {
          expect(m.href).toMatch(new RegExp(`/${name}$`));
          expect([typeof m.size, typeof m.limit, typeof m.offset]).toEqual(['number', 'number', 'number']);
        }
      }
    };
    check(rows('counterparty', true), ['accounts', 'contactpersons', 'notes', 'files']);
    check(rows('assortment', true), ['images', 'files']);
    check(rows('stock-all', true), ['images']);
  });

  it('counterparty rows carry every field §10.6 lists, sometimes', () => {
    const list = rows('counterparty', true);
    for (const key of ['state', 'priceType', 'bonusProgram', 'bonusPoints', 'actualAddressFull']) {
      expect(
        list.some((r) => key in r),
        key,
      ).toBe(true);
    }
    const address = list.find((r) => r.actualAddressFull)?.actualAddressFull as Record<string, { meta: Row }>;
    expect(address.country?.meta.type).toBe('country');
    expect(address.region?.meta.type).toBe('region');
  });
});

describe('the sandbox', () => {
  const sandbox = useSandbox({ rows: 60 });

  it('sends the field forms by default; --no-field-forms turns them off', async () => {
    expect(sandbox().options.fieldForms).toBe(true);
    const created = await sandboxRequest(sandbox(), '/entity/counterparty?async=true');
    expect(created.status).toBe(202);
    const statusUrl = String(created.headers['content-location']);
    await waitForTask(sandbox(), statusUrl);
    const link = await sandboxRequest(sandbox(), `${statusUrl}/result`);
    const result = await sandboxRequest(sandbox(), String(link.headers.location), { headers: { Authorization: '' } });
    const body = result.json as { rows: Row[] };
    expect(body.rows.some((r) => 'bonusProgram' in r || 'state' in r)).toBe(true);
    expect(body.rows.every((r) => (r.files as { meta?: Row } | undefined)?.meta !== undefined)).toBe(true);

    const base = {
      host: '127.0.0.1',
      port: 0,
      storagePort: 0,
      rows: 1,
      seed: 1,
      stores: 1,
      pendingMs: 1,
      processingMs: 1,
      storageRange: true,
      fault: [],
    };
    expect(toSandboxOptions({ ...base, fieldForms: false }, undefined).fieldForms).toBe(false);
    expect(toSandboxOptions(base, undefined).fieldForms).toBe(true);
  });
});

describe('the forms of a 429 (docs/api-facts.md §10.1)', () => {
  const sandbox = useSandbox({ parallelLimit: 2, rateLimit: { units: 10_000, windowMs: 3000, weights: {} } });

  it('status429 :parallel answers X-Lognex-Auth 429005 with {} and no Retry-After; :bare has neither', async () => {
    sandbox().setFaults({ status429: { at: 1, count: 1, form: 'parallel' } });
    const parallel = await sandboxRequest(sandbox(), '/context/employee');
    expect(parallel.status).toBe(429);
    expect(parallel.headers['x-lognex-auth']).toBe('429005');
    expect(parallel.json).toEqual({});
    expect(parallel.headers['x-lognex-retry-after']).toBeUndefined();

    sandbox().setFaults({ status429: { at: 1, count: 1, form: 'bare' } });
    const bare = await sandboxRequest(sandbox(), '/context/employee');
    expect(bare.status).toBe(429);
    expect(bare.raw.length).toBe(0);
    expect(Object.keys(bare.headers).filter((h) => h.startsWith('x-'))).toEqual([]);

    sandbox().setFaults({ status429: { at: 1, count: 1 } });
    const rate = await sandboxRequest(sandbox(), '/context/employee');
    expect(rate.headers['x-lognex-auth']).toBe('429002');
    expect(rate.json).toMatchObject({ errors: [{ code: 1049 }] });
    expect((await sandboxRequest(sandbox(), '/context/employee')).status).toBe(200);
  });

  it('the parallel limit itself carries X-Lognex-Auth 429005 with its code 1073', async () => {
    sandbox().setFaults({ slowApiMs: 150 });
    const answers = await Promise.all([1, 2, 3, 4].map(() => sandboxRequest(sandbox(), '/context/employee')));
    sandbox().setFaults({ slowApiMs: 0 });
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.headers['x-lognex-auth']).toBe('429005');
      expect(a.json).toMatchObject({ errors: [{ code: 1073 }] });
    }
  });

  it('--fault status429=N[+K]:form', () => {
    expect(parseFaultSpec('status429=2+1:parallel')).toEqual({ status429: { at: 2, count: 2, form: 'parallel' } });
    expect(parseFaultSpec('status429=1:bare')).toEqual({ status429: { at: 1, count: 1, form: 'bare' } });
    expect(() => parseFaultSpec('status429=1:loud')).toThrow(/rate, parallel, bare/);
  });
});

describe('the pre-2021 exchange (docs/api-facts.md §10.7)', () => {
  const sandbox = useSandbox({ rows: 25 });

  it('legacy-async: creation answers 204 with the URLs swapped, /result answers 200 with the file', async () => {
    expect(parseFaultSpec('legacy-async')).toEqual({ legacyAsync: true });
    sandbox().setFaults({ legacyAsync: true });
    try {
      const created = await sandboxRequest(sandbox(), '/report/stock/all?async=true');
      expect(created.status).toBe(204);
      const statusUrl = String(created.headers.location);
      expect(statusUrl).toMatch(/\/async\/[^/]+$/);
      expect(created.headers['content-location']).toBe(`${statusUrl}/result`);
      await waitForTask(sandbox(), statusUrl);
      const result = await sandboxRequest(sandbox(), `${statusUrl}/result`);
      expect(result.status).toBe(200);
      expect(result.headers['content-encoding']).toBe('gzip');
      const body = result.json as { meta: { size: number }; rows: Row[] };
      expect(body.rows).toHaveLength(25);
      expect(body.meta.size).toBe(25);
    } finally {
      sandbox().setFaults({ legacyAsync: false });
    }
    const current = await sandboxRequest(sandbox(), '/report/stock/all?async=true');
    expect(current.status).toBe(202);
  });
});
