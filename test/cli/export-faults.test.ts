/**
 * export/fetch against the sandbox's fault switches (issue 4): each ends in the contract's exit
 * code with the output either complete and correct or untouched, and no temporary file left.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli, type TestDepsOptions } from '../helpers/test-io.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { InterruptSignal } from '../../src/main.js';

const TOKEN = 'tok-EXPORT-5f4e3d2c1b0a99887766554433221100';
const OLD = 'an older export that must survive a failed run\n';
const outputs: string[] = [];
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

function cliFor(sandbox: Sandbox) {
  return (argv: string[], options: TestDepsOptions = {}) =>
    runCli(argv, { env: { MS_BASE_URL: sandbox.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 10, ...options }, outputs);
}

/** The folder holds exactly these names: no part, download or raw file left behind. */
async function expectOnly(names: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...names].sort());
}

function taskCreations(sandbox: Sandbox): number {
  return sandbox.requests.filter((r) => r.origin === 'api' && /[?&]async=true/.test(r.url)).length;
}

async function withSandbox(options: Partial<SandboxOptions>, body: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sandbox = await startTestSandbox({ token: TOKEN, rows: 120, ...options });
  try {
    await body(sandbox);
  } finally {
    await sandbox.close();
  }
}

describe('export: the happy path and what it leaves behind', () => {
  let sb: Sandbox;
  let reference: string;
  beforeAll(async () => {
    sb = await startTestSandbox({ token: TOKEN, rows: 120 });
  });
  afterAll(async () => sb.close());

  it('writes the CSV, replaces an older file, leaves no temporary file, says what it wrote', async () => {
    const out = join(dir, 'stock.csv');
    await writeFile(out, OLD);
    const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    reference = await readFile(out, 'utf8');
    expect(reference.split('\n')[0]).toMatch(/^meta\.id,meta\.type,stockByStore\./);
    expect(r.stderr).toMatch(/wrote 360 rows \(120 records\) to .*stock\.csv in \d+\.\ds/);
    expect(r.stderr).not.toContain('\u001b[');
    await expectOnly(['stock.csv']);
  });

  it('never sends Authorization to the storage origin', async () => {
    const storage = sb.requests.filter((req) => req.origin === 'storage');
    expect(storage.length).toBeGreaterThan(0);
    for (const req of storage) expect(req.headers.authorization).toBeUndefined();
    const api = sb.requests.filter((req) => req.origin === 'api');
    for (const req of api) expect(req.headers.authorization).toBe('Bearer ***');
  });

  it('--out - streams the same CSV to stdout and nothing else', async () => {
    const r = await cliFor(sb)(['-q', 'export', 'stock-bystore', '--out', '-', '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(reference);
    expect(r.stderr).toBe('');
    await expectOnly([]);
  });

  it('--reuse downloads the DONE task instead of starting another', async () => {
    const before = taskCreations(sb);
    const out = join(dir, 'again.csv');
    const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out, '--reuse']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/reusing task [0-9a-f-]+ \(DONE\)/);
    expect(taskCreations(sb)).toBe(before);
    expect(await readFile(out, 'utf8')).toBe(reference);
  });

  it('--reuse follows a running task', async () => {
    sb.setFaults({ pendingMs: 150 });
    const cli = cliFor(sb);
    const started = await cli(['start', '/report/stock/bystore?groupBy=product']);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    const before = taskCreations(sb);
    const r = await cli(['export', 'stock-bystore', '-p', 'groupBy=product', '--out', join(dir, 'p.csv'), '--reuse']);
    sb.setFaults({ pendingMs: null });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`reusing task ${id} (P`);
    expect(taskCreations(sb)).toBe(before);
  });

  it('fetch <id> of a finished task reads the report from the task and converts alike', async () => {
    const id = (await cliFor(sb)(['start', 'stock-bystore'])).stdout.trim();
    const out = join(dir, 'fetched.csv');
    const r = await cliFor(sb)(['fetch', id, '--wait', '--out', out]);
    expect(r.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(reference);
  });

  it('bad input is exit 2 before any request, and an existing file stays', async () => {
    const cli = cliFor(sb);
    const before = sb.requests.length;
    const out = join(dir, 'keep.csv');
    await writeFile(out, OLD);
    const cases: string[][] = [
      ['export', 'stock-bystore', '--out', join(dir, 'no-such-folder', 'x.csv')],
      ['export', 'stock-bystore', '--out', join(dir, 'x.xls')],
      ['export', 'stock-bystore', '--out', out, '-p', 'limit=10'],
      ['export', 'stock-bystre', '--out', out],
      ['export', 'sales-plotseries', '--out', out],
      ['export', 'stock-bystore', '--out', out, '--format', 'xml'],
      ['export', 'stock-bystore', '--out', dir],
      ['export', 'stock-bystore', '--out', out, '--delimiter', ';;'],
      ['export', 'stock-bystore', '--out', out, '--timeout', 'soon'],
    ];
    for (const argv of cases) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/error/);
    }
    expect(sb.requests.length).toBe(before);
    expect(await readFile(out, 'utf8')).toBe(OLD);
    await expectOnly(['keep.csv']);
  });
});

describe('export survives the faults it can, and fails cleanly on the rest', () => {
  const recover: Array<[string, Partial<SandboxOptions>, (sb: Sandbox) => void]> = [
    [
      'a download cut mid-way, resumed with Range',
      { storage: { gzip: false, range: true, contentLength: true } },
      (sb) => sb.setFaults({ cutDownloadAfterBytes: 3000 }),
    ],
    [
      'a download cut mid-way on a storage without Range, restarted',
      { storage: { gzip: false, range: false, contentLength: true } },
      (sb) => sb.setFaults({ cutDownloadAfterBytes: 3000 }),
    ],
    [
      'a cut gzip download without Content-Length',
      { storage: { gzip: true, range: true, contentLength: false } },
      (sb) => sb.setFaults({ cutDownloadAfterBytes: 2000 }),
    ],
    ['an expired storage link, renewed through /result', {}, (sb) => sb.setFaults({ expiredLink: true })],
    ['429 with X-Lognex-Retry-After', {}, (sb) => sb.setFaults({ status429: { at: 2, count: 1 } })],
    [
      'a 503 and a dropped connection while polling',
      {},
      (sb) => sb.setFaults({ status5xx: { at: 2, count: 1, status: 503 }, dropConnection: { at: 3, count: 1 } }),
    ],
    ['a result truncated once, downloaded again', {}, (sb) => sb.setFaults({ truncateResult: 'once' })],
  ];

  let reference: string;
  beforeAll(async () => {
    await withSandbox({}, async (sb) => {
      const out = join(tmpdir(), `ms-async-ref-${process.pid}.csv`);
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out]);
      expect(r.code).toBe(0);
      reference = await readFile(out, 'utf8');
      await rm(out);
    });
  });

  it.each(recover)('%s: exit 0 and the same bytes', async (_name, options, arm) => {
    await withSandbox(options, async (sb) => {
      arm(sb);
      const out = join(dir, 'stock.csv');
      await writeFile(out, OLD);
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(reference);
      await expectOnly(['stock.csv']);
    });
  });

  it('the expired link made the client ask /result again', async () => {
    await withSandbox({}, async (sb) => {
      sb.setFaults({ expiredLink: true });
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', join(dir, 's.csv')]);
      expect(r.code).toBe(0);
      expect(sb.requests.filter((q) => q.origin === 'api' && q.url.endsWith('/result')).length).toBe(2);
      expect(sb.requests.filter((q) => q.origin === 'storage').map((q) => q.status)).toEqual([403, 200]);
    });
  });

  it('the resumed download asked for the missing bytes only', async () => {
    // A cut after the first bytes can drop them with the connection; cut well into a larger body.
    await withSandbox({ rows: 600 }, async (sb) => {
      sb.setFaults({ cutDownloadAfterBytes: 300_000 });
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', join(dir, 's.csv')]);
      expect(r.code).toBe(0);
      const storage = sb.requests.filter((q) => q.origin === 'storage');
      expect(storage).toHaveLength(2);
      expect(storage[1]?.headers.range).toMatch(/^bytes=(\d+)-$/);
      // It resumes from what reached the disk before the cut: more than nothing, no more than was sent.
      const from = Number(/=(\d+)-/.exec(storage[1]?.headers.range ?? '')?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(300_000);
      expect(storage[1]?.status).toBe(206);
    });
  });

  const fail: Array<[string, (sb: Sandbox) => void, number, RegExp]> = [
    [
      'a result that stays truncated',
      (sb) => sb.setFaults({ truncateResult: 'always' }),
      7,
      /not well-formed|truncated|cut short|unexpected end/i,
    ],
    [
      '5xx that retries do not overcome',
      (sb) => sb.setFaults({ status5xx: { at: 2, count: 50, status: 502 } }),
      7,
      /502|server|failed/i,
    ],
    ['a task ending API_ERROR', (sb) => sb.setFaults({ taskOutcome: 'API_ERROR' }), 4, /API error \d+/],
    [
      'a task ending API_ERROR for lack of permission',
      (sb) => sb.setFaults({ taskOutcome: 'API_ERROR_AUTH' }),
      3,
      /1016|permission|доступ/i,
    ],
    ['a task ending ERROR', (sb) => sb.setFaults({ taskOutcome: 'ERROR' }), 5, /ERROR/],
    ['a task ending CANCEL', (sb) => sb.setFaults({ taskOutcome: 'CANCEL' }), 5, /CANCEL/],
  ];

  it.each(fail)('%s: exit %i, the old file untouched, nothing left over', async (_name, arm, code, message) => {
    await withSandbox({}, async (sb) => {
      arm(sb);
      const out = join(dir, 'stock.csv');
      await writeFile(out, OLD);
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(await readFile(out, 'utf8')).toBe(OLD);
      await expectOnly(['stock.csv']);
    });
  });

  it('--timeout reached while the task runs: exit 6 with the command that resumes', async () => {
    await withSandbox({ pendingMs: 60_000 }, async (sb) => {
      const out = join(dir, 'stock.csv');
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out, '--timeout', '20s']);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/ms-async fetch [0-9a-f-]+ --wait --out \S+stock\.csv/);
      await expectOnly([]);
    });
  });

  it('a result past its deletionDate: exit 8 with a hint to export again', async () => {
    await withSandbox({}, async (sb) => {
      const cli = cliFor(sb);
      const id = (await cli(['start', 'stock-bystore'])).stdout.trim();
      expect((await cli(['status', id, '--wait'])).code).toBe(0);
      sb.advanceClock(2 * 3_600_000);
      const r = await cli(['fetch', id, '--out', join(dir, 'late.csv')]);
      expect(r.code).toBe(8);
      expect(r.stderr).toMatch(/61003/);
      expect(r.stderr).toMatch(/hint: .*again/);
      const unknown = await cli(['fetch', '00000000-0000-0000-0000-000000000000', '--out', join(dir, 'x.csv')]);
      expect(unknown.code).toBe(8);
      await expectOnly([]);
    });
  });

  it('fetch asks for the task and its result link at once, and a missing task fails as such', async () => {
    await withSandbox({}, async (sb) => {
      const cli = cliFor(sb);
      const id = (await cli(['start', 'stock-bystore'])).stdout.trim();
      expect((await cli(['status', id, '--wait'])).code).toBe(0);
      expect(sb.maxInFlightOf(TOKEN)).toBe(1);
      // Slow answers: asked one after the other, the two would never be in flight together.
      sb.setFaults({ slowApiMs: 150 });
      const r = await cli(['fetch', id, '--out', join(dir, 'stock.csv')]);
      expect(r.code, r.stderr).toBe(0);
      expect(sb.maxInFlightOf(TOKEN)).toBe(2);
      expect((await readFile(join(dir, 'stock.csv'), 'utf8')).split('\n').length).toBeGreaterThan(100);
      // Both requests fail on an unknown id: one error, the task's, and no file.
      const unknown = await cli(['fetch', '00000000-0000-0000-0000-000000000000', '--out', join(dir, 'x.csv')]);
      expect(unknown.code).toBe(8);
      expect(unknown.stderr.split('\n')[0]).toBe(
        'ms-async: error: task 00000000-0000-0000-0000-000000000000 is unknown (tasks are kept for a week)',
      );
      expect(unknown.stderr.match(/error:/g)).toHaveLength(1);
      await expectOnly(['stock.csv']);
    });
  });

  it('Ctrl-C while waiting leaves the task running and prints how to resume (130)', async () => {
    await withSandbox({ pendingMs: 60_000 }, async (sb) => {
      const controller = new AbortController();
      const out = join(dir, 'stock.csv');
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', out], {
        signal: controller.signal,
        onSleep: (_ms, count) => {
          if (count === 2) controller.abort(new InterruptSignal());
        },
      });
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/goes on running/);
      expect(r.stderr).toMatch(/ms-async fetch [0-9a-f-]+ --wait --out/);
      expect(sb.requests.some((q) => q.method === 'PUT')).toBe(false);
      await expectOnly([]);
    });
  });

  it('Ctrl-C with --cancel-on-interrupt cancels the task', async () => {
    await withSandbox({ pendingMs: 60_000 }, async (sb) => {
      const controller = new AbortController();
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', join(dir, 's.csv'), '--cancel-on-interrupt'], {
        signal: controller.signal,
        onSleep: (_ms, count) => {
          if (count === 2) controller.abort(new InterruptSignal());
        },
      });
      expect(r.code).toBe(130);
      expect(sb.requests.filter((q) => q.method === 'PUT' && q.url.endsWith('/cancel')).map((q) => q.status)).toEqual([
        204,
      ]);
      expect(r.stderr).toMatch(/task [0-9a-f-]+ was cancelled/);
      await expectOnly([]);
    });
  });

  it('Ctrl-C with --cancel-on-interrupt and a cancel that fails: said so, not "cancelled", still 130', async () => {
    await withSandbox({ pendingMs: 60_000 }, async (sb) => {
      const controller = new AbortController();
      const r = await cliFor(sb)(['export', 'stock-bystore', '--out', join(dir, 's.csv'), '--cancel-on-interrupt'], {
        signal: controller.signal,
        onSleep: (_ms, count) => {
          if (count !== 2) return;
          // From here on every API request fails (the cancel included, with its retries).
          sb.setFaults({ status5xx: { at: 1, count: 50, status: 500 } });
          controller.abort(new InterruptSignal());
        },
      });
      expect(r.code).toBe(130);
      const cancels = sb.requests.filter((q) => q.method === 'PUT' && q.url.endsWith('/cancel'));
      expect(cancels.length).toBeGreaterThan(0);
      expect(cancels.every((q) => q.status === 500)).toBe(true);
      expect(r.stderr).not.toMatch(/was cancelled|task [0-9a-f-]+ cancelled/);
      expect(r.stderr).toMatch(/cancelling task [0-9a-f-]+ failed .*it may still be running/);
      expect(r.stderr).toMatch(/ms-async status [0-9a-f-]+/);
      await expectOnly([]);
    });
  });
});
