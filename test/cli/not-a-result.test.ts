/**
 * A DONE task whose result file is not a result (issue 14 item 2): an API error body, `{}`, or a
 * top-level array where the report has an envelope. export, fetch and convert end in the error
 * that names it — exit 3 for permission codes, 4 for other API errors, 7 for a wrong shape — and
 * an existing --out stays untouched, with no temporary file left.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli } from '../helpers/test-io.js';

const TOKEN = 'tok-NOTARESULT-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const OLD = 'a good export from yesterday\n';
const outputs: string[] = [];
let dir: string;
let sb: Sandbox;

beforeAll(async () => {
  sb = await startTestSandbox({ token: TOKEN, rows: 20 });
});
afterAll(async () => {
  await sb.close();
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-not-a-result-'));
});
afterEach(async () => {
  sb.setFaults({ resultBody: null });
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) =>
  runCli(argv, { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 10 }, outputs);

const PERMISSION = JSON.stringify({
  errors: [
    {
      error: 'Недостаточно прав для просмотра объекта',
      code: 1016,
      moreInfo: 'https://dev.moysklad.ru/doc/api/remap/1.2/#error_1016',
    },
  ],
});
const OTHER = JSON.stringify({ errors: [{ error: 'Ошибка формата фильтрации', code: 1002, parameter: 'filter' }] });

const CASES: Array<{ name: string; body: string; code: number; stderr: RegExp }> = [
  { name: 'a permission error body (1016)', body: PERMISSION, code: 3, stderr: /API error 1016: Недостаточно прав/ },
  {
    name: 'another API error body (1002)',
    body: OTHER,
    code: 4,
    stderr: /API error 1002: Ошибка формата фильтрации \(parameter filter\)/,
  },
  { name: 'an empty object', body: '{}', code: 7, stderr: /not a result of stock-bystore: an empty object/ },
  {
    name: 'a top-level array',
    body: '[{"stockByStore":[]}]',
    code: 7,
    stderr: /not a result of stock-bystore: the file is a JSON array/,
  },
];

describe.each(CASES)('$name', ({ body, code, stderr }) => {
  it('export: exit code, the reason on stderr, the old --out untouched, nothing left behind', async () => {
    sb.setFaults({ resultBody: body });
    const out = join(dir, 'stock.csv');
    await writeFile(out, OLD);
    const r = await cli(['export', 'stock-bystore', '--out', out]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/wrote/);
    expect(await readFile(out, 'utf8')).toBe(OLD);
    expect(await readdir(dir)).toEqual(['stock.csv']);
  });

  it('fetch --format json: the same (a JSON copy is no more a result than a CSV)', async () => {
    const id = (await cli(['start', 'stock-bystore'])).stdout.trim();
    sb.setFaults({ resultBody: body });
    const out = join(dir, 'stock.json');
    await writeFile(out, OLD);
    const r = await cli(['fetch', id, '--wait', '--out', out]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(await readFile(out, 'utf8')).toBe(OLD);
    expect(await readdir(dir)).toEqual(['stock.json']);
  });

  it('convert: the same file on disk, same exit code', async () => {
    const input = join(dir, 'result.json');
    await writeFile(input, body);
    const out = join(dir, 'stock.csv');
    await writeFile(out, OLD);
    const r = await cli(['convert', input, '--report', 'stock-bystore', '--out', out]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(await readFile(out, 'utf8')).toBe(OLD);
    expect((await readdir(dir)).sort()).toEqual(['result.json', 'stock.csv']);
  });
});

describe('the checks do not refuse real results', () => {
  it('an empty rows[] is a result: a header-less empty CSV, exit 0', async () => {
    const input = join(dir, 'empty.json');
    await writeFile(input, '{"meta":{"size":0},"rows":[]}');
    const r = await cli(['convert', input, '--report', 'stock-bystore', '--out', join(dir, 'e.ndjson')]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'e.ndjson'), 'utf8')).toBe('');
  });

  it('an error body with --json carries the API errors and exit code', async () => {
    const input = join(dir, 'err.json');
    await writeFile(input, PERMISSION);
    const r = await cli(['--json', 'convert', input, '--out', join(dir, 'x.csv')]);
    expect(r.code).toBe(3);
    const json = JSON.parse(r.stdout) as { error: { code: string; apiErrors: Array<{ code: number }> } };
    expect(json.error.code).toBe('ERR_MS_AUTH');
    expect(json.error.apiErrors.map((e) => e.code)).toEqual([1016]);
  });
});

describe('a delimiter that occurs in numbers', () => {
  it('is exit 2 before any request (export) and before reading (convert)', async () => {
    const before = sb.requests.length;
    for (const delimiter of ['.', '-', '0', 'e']) {
      const r = await cli(['export', 'stock-bystore', '--out', join(dir, 'x.csv'), '--delimiter', delimiter]);
      expect(r.code, delimiter).toBe(2);
      expect(r.stderr).toMatch(/--delimiter .* occurs in numbers/);
    }
    expect(sb.requests.length).toBe(before);
    const input = join(dir, 'r.json');
    await writeFile(input, '{"rows":[{"a":-1.5}]}');
    const r = await cli(['convert', input, '--out', join(dir, 'x.csv'), '--delimiter', '.']);
    expect(r.code).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['r.json']);
  });
});
