/**
 * Hints that reproduce the whole command (issue 11): pasted into a shell, the resume hint writes
 * the same file the interrupted export would have; `--json` prints one summary on success and the
 * same shape inside the error; `--columns` typos are exit 2 before any request.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InterruptSignal } from '../../src/main.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-HINTS-0123456789abcdef0123456789abcdef';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async hints '));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The words a POSIX shell makes of a command line: the real test of the quoting. */
function shellWords(line: string): string[] {
  const out = execFileSync('bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

function hintOf(stderr: string): string {
  const match = /hint: (?:resume with|fetch it later with): (.*)/.exec(stderr);
  if (!match?.[1]) throw new Error(`no hint in:\n${stderr}`);
  return match[1];
}

describe('resume hints', () => {
  // Waits end on the test's virtual clock long before a task leaves PENDING in real time.
  const t = useCliSandbox(TOKEN, 'hints', { pendingMs: 2500, rows: 30 });

  it('carry every output flag and the profile, not the --timeout reached; pasted, they write the same CSV', async () => {
    const out = join(dir, "p's.csv");
    const r = await t.cli([
      '--profile',
      'shop2',
      'export',
      'profit-byproduct',
      '--out',
      out,
      '--excel',
      '--rubles',
      '--columns',
      'assortment.meta.id,sellSum',
      '-p',
      'momentFrom=2026-11-01 00:00:00',
      '--reuse',
      '--timeout',
      '20s',
    ]);
    expect(r.code).toBe(6);
    const hint = hintOf(r.stderr);
    const id = /fetch ([0-9a-f-]{36})/.exec(hint)?.[1];
    expect(hint).toBe(
      `ms-async --profile shop2 fetch ${id} --wait --out '${out.replace(/'/g, `'\\''`)}' --excel --rubles ` +
        '--columns assortment.meta.id,sellSum',
    );
    const words = shellWords(hint);
    expect(words.slice(0, 4)).toEqual(['ms-async', '--profile', 'shop2', 'fetch']);
    while (!(await t.cli(['status', id ?? ''])).stdout.includes('DONE')) await new Promise((r) => setTimeout(r, 200));
    const resumed = await t.cli(words.slice(1));
    expect(resumed.code).toBe(0);
    const csv = await readFile(out, 'utf8');
    expect(csv.startsWith('\uFEFFassortment.meta.id;sellSum\r\n')).toBe(true);
    // --rubles: money has two decimals (kopecks would be whole numbers), with --excel's decimal comma.
    expect(csv.split('\r\n')[1]).toMatch(/^[0-9a-f-]{36};-?\d+,\d\d$/);
  });

  it('never repeat --token, and keep repeated flags and the global ones before the command', async () => {
    const out = join(dir, 'x.ndjson');
    const r = await t.cli(['--token', TOKEN, '-q', 'export', 'stock-all', '--out', out, '--timeout', '10s']);
    expect(r.code).toBe(6);
    expect(r.stderr).not.toContain('--token');
    expect(hintOf(r.stderr)).toMatch(/^ms-async --quiet fetch [0-9a-f-]{36} --wait --out '.*x\.ndjson'$/);
  });

  it('after Ctrl-C keep the --timeout typed: it was not what ended the wait', async () => {
    const controller = new AbortController();
    const r = await t.cli(['export', 'stock-all', '--out', join(dir, 'c.csv'), '--timeout', '10m'], {
      signal: controller.signal,
      onSleep: (_ms, count) => {
        if (count === 2) controller.abort(new InterruptSignal());
      },
    });
    expect(r.code).toBe(130);
    expect(hintOf(r.stderr)).toMatch(/^ms-async fetch [0-9a-f-]{36} --wait --out '.*c\.csv' --timeout 10m$/);
  });

  it('--json: the error carries the summary of the task that exists', async () => {
    const r = await t.cli(['--json', 'export', 'stock-all', '--out', join(dir, 's.csv'), '--timeout', '10s']);
    expect(r.code).toBe(6);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; summary: Record<string, unknown> } };
    expect(error.code).toBe('ERR_MS_TIMEOUT');
    expect(error.summary).toMatchObject({
      taskId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reused: false,
      state: 'PENDING',
      records: null,
      rows: null,
      path: join(dir, 's.csv'),
      format: 'csv',
    });
  });
});

describe('--json summary and --columns', () => {
  const t = useCliSandbox(TOKEN, 'summary', { rows: 40 });

  it('export --json prints one summary object with rows, records, bytes and the path', async () => {
    const out = join(dir, 'stock.csv');
    const r = await t.cli(['--json', 'export', 'stock-bystore', '--out', out]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    const csv = await readFile(out, 'utf8');
    expect(summary).toEqual({
      taskId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reused: false,
      state: 'DONE',
      records: 40,
      rows: csv.trimEnd().split('\n').length - 1,
      resultBytes: expect.any(Number),
      outputBytes: Buffer.byteLength(csv),
      path: out,
      format: 'csv',
      durationMs: expect.any(Number),
    });
    // Each record has one row per store: the CSV has more rows than records.
    expect(summary.rows as number).toBeGreaterThan(40);
    expect(r.stderr).toMatch(/wrote [\d,]+ rows \(40 records\) to .*stock\.csv in \d+\.\ds/);
  });

  it('a --columns name the report cannot produce is exit 2 before any request, with the closest name', async () => {
    const r = await t.cli([
      'export',
      'stock-bystore',
      '--out',
      join(dir, 's.csv'),
      '--columns',
      'meta.id,stockByStore.stok',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no column "stockByStore\.stok" \(did you mean "stockByStore\.stock"/);
    expect(t.sb.requests).toHaveLength(0);
    const convert = await t.cli([
      'convert',
      'nothing.json',
      '--report',
      'stock-all',
      '--out',
      '-',
      '--columns',
      'nmae',
    ]);
    expect(convert.code).toBe(2);
    expect(convert.stderr).toMatch(/did you mean "name"/);
  });

  it('an API path is not checked; --json with --out - is refused', async () => {
    const raw = await t.cli([
      'export',
      '/report/stock/bystore',
      '--out',
      join(dir, 's.csv'),
      '--columns',
      'meta.id,custom.x',
    ]);
    expect(raw.code).toBe(0);
    expect(raw.stderr).toMatch(/warning: --columns: no record has "custom\.x"/);
    const both = await t.cli(['--json', 'export', 'stock-all', '--out', '-']);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toMatchObject({ error: { code: 'ERR_MS_USAGE' } });
  });
});
