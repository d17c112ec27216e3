/**
 * `ms-async batch` over real sockets against the sandbox (issue 9): every output exact, the
 * account's limits kept as the sandbox itself counted them, failures contained, and nothing sent
 * for a bad job file or a dry run.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRecords, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { InterruptSignal } from '../../src/main.js';
import { sandboxRequest, startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli, type TestDepsOptions } from '../helpers/test-io.js';

const TOKEN = 'tok-BATCH-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const FOREIGN = 'tok-SOMEONE-ELSE-ffeeddccbbaa99887766';
const outputs: string[] = [];
let dir: string;
let sandbox: Sandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-batch-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  for (const text of outputs) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(FOREIGN);
  }
});

const BIG_BUCKET = { units: 10_000, windowMs: 3000, weights: {} };

async function start(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  // A large rate bucket: the CLI's sleeps skip virtual time while the sandbox's bucket refills in
  // real time, so ten jobs would exhaust their 429 retries in milliseconds. These tests are about
  // task slots and requests in flight, not about waiting out 429s (test/api covers those).
  sandbox = await startTestSandbox({ rows: 30, rateLimit: BIG_BUCKET, ...options });
  return sandbox;
}

function cli(sb: Sandbox, argv: string[], options: TestDepsOptions = {}) {
  return runCli(argv, { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 5, ...options }, outputs);
}

async function jobFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The sandbox's records of a report, as NDJSON lines would hold them. */
function expected(sb: Sandbox, report: string, query = ''): unknown[] {
  const paths: Record<string, string> = {
    'stock-bystore': '/report/stock/bystore',
    'stock-all': '/report/stock/all',
    counterparty: '/entity/counterparty',
    assortment: '/entity/assortment',
    'profit-byproduct': '/report/profit/byproduct',
    'profit-byemployee': '/report/profit/byemployee',
    'money-byaccount': '/report/money/byaccount',
    'counterparty-report': '/report/counterparty',
    'dashboard-day': '/report/dashboard/day',
    'sales-plotseries': '/report/sales/plotseries',
  };
  const requestUrl = `${sb.baseUrl}${paths[report]}?${query}${query ? '&' : ''}async=true`;
  // Plot series hold one record per bucket: 10 days here.
  const rows = report === 'sales-plotseries' ? 10 : sb.options.rows;
  return [
    ...generateRecords(report, {
      rows,
      seed: sb.options.seed,
      stores: sb.options.stores,
      baseUrl: sb.baseUrl,
      requestUrl,
      fieldForms: sb.options.fieldForms,
    }),
  ];
}

async function ndjson(path: string): Promise<unknown[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

const TEN_JOBS = `
defaults:
  format: ndjson
jobs:
  - { report: stock-bystore, out: out/01.ndjson }
  - { report: stock-all, out: out/02.ndjson }
  - { report: counterparty, out: out/03.ndjson }
  - { report: assortment, out: out/04.ndjson }
  - report: profit-byproduct
    period: 2026-03
    out: out/05.ndjson
  - report: profit-byemployee
    params: { momentFrom: "2026-04-01 00:00:00", momentTo: "2026-04-30 23:59:59" }
    out: out/06.ndjson
  - { report: money-byaccount, out: out/07.ndjson }
  - { report: counterparty-report, out: out/08.ndjson }
  - { report: dashboard-day, out: out/09.ndjson }
  - report: sales-plotseries
    params: { momentFrom: "2026-03-01 00:00:00", momentTo: "2026-03-10 00:00:00", interval: day }
    out: out/10.ndjson
`;

const TEN_QUERIES = [
  ['stock-bystore', ''],
  ['stock-all', ''],
  ['counterparty', ''],
  ['assortment', ''],
  ['profit-byproduct', 'momentFrom=2026-03-01%2000%3A00%3A00&momentTo=2026-03-31%2023%3A59%3A59'],
  ['profit-byemployee', 'momentFrom=2026-04-01%2000%3A00%3A00&momentTo=2026-04-30%2023%3A59%3A59'],
  ['money-byaccount', ''],
  ['counterparty-report', ''],
  ['dashboard-day', ''],
  ['sales-plotseries', 'momentFrom=2026-03-01%2000%3A00%3A00&momentTo=2026-03-10%2000%3A00%3A00&interval=day'],
] as const;

async function expectTenOutputs(sb: Sandbox): Promise<void> {
  for (const [i, [report, query]] of TEN_QUERIES.entries()) {
    const got = await ndjson(join(dir, 'out', `${String(i + 1).padStart(2, '0')}.ndjson`));
    expect(got, `job ${i + 1} (${report})`).toEqual(expected(sb, report, query));
  }
}

describe("batch: ten jobs within the account's limits", () => {
  it('waits out a queue partly taken by foreign tasks (61002) and writes every output exactly', async () => {
    const sb = await start({ queueLimit: 4 });
    // Two foreign tasks hold half the queue until the batch has met a 61002, then go away: the
    // batch must wait for the slots, not fail (and not depend on how fast this machine is).
    const foreign = { Authorization: `Bearer ${FOREIGN}`, 'X-Sandbox-Processing-Ms': '600000' };
    const held: string[] = [];
    for (let n = 0; n < 2; n += 1) {
      const created = await sandboxRequest(sb, '/report/stock/all?async=true', { headers: foreign });
      expect(created.status).toBe(202);
      held.push(created.headers['content-location'] as string);
    }
    const refusals = (): number =>
      sb.requests.filter((q) => q.origin === 'api' && /[?&]async=true/.test(q.url) && q.status === 429).length;
    const release = (async () => {
      for (let waited = 0; refusals() === 0 && waited < 60_000; waited += 20)
        await new Promise((r) => setTimeout(r, 20));
      for (const url of held) await sandboxRequest(sb, `${url}/cancel`, { method: 'PUT', headers: foreign });
    })();
    await mkdir(join(dir, 'out'));
    const file = await jobFile('nightly.yaml', TEN_JOBS);
    const r = await cli(sb, ['batch', file]);
    await release;
    expect(r.stderr).toMatch(/batch: 10 of 10 jobs done/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    await expectTenOutputs(sb);
    // The queue really was full: some of our creations were answered 61002 and waited out.
    expect(refusals()).toBeGreaterThan(0);
    expect(sb.maxQueued()).toBeLessThanOrEqual(4);
    expect(sb.maxQueued(TOKEN)).toBeLessThanOrEqual(4);
    expect(sb.maxInFlightOf(TOKEN)).toBeLessThanOrEqual(5);
    expect(await readdir(join(dir, 'out'))).toHaveLength(10); // no temporary file left
  });

  it('never has more than 4 of its tasks queued, even where the account would take more', async () => {
    // The sandbox's queue takes 20 here: only our own semaphore keeps us at 4.
    const sb = await start({ queueLimit: 20, processingMs: 250 });
    await mkdir(join(dir, 'out'));
    const file = await jobFile('nightly.yaml', TEN_JOBS);
    const r = await cli(sb, ['--json', 'batch', file]);
    expect(r.code).toBe(0);
    expect(sb.maxQueued(TOKEN)).toBe(4);
    expect(sb.maxInFlightOf(TOKEN)).toBeLessThanOrEqual(5);
    await expectTenOutputs(sb);
    const summaries = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(summaries.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(summaries[0]).toMatchObject({
      index: 1,
      report: 'stock-bystore',
      out: 'out/01.ndjson',
      reused: false,
      state: 'DONE',
      format: 'ndjson',
      records: 30,
      rows: 30,
      path: join(dir, 'out', '01.ndjson'),
    });
    expect(summaries[0]?.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(summaries[0]?.outputBytes).toBe((await readFile(join(dir, 'out', '01.ndjson'))).length);
  });
});

describe('batch: two accounts', () => {
  it('jobs of two profiles go to their own accounts, each with its own 4 task slots', async () => {
    const a = await start({ queueLimit: 20, processingMs: 250, token: TOKEN });
    const b = await startTestSandbox({
      rows: 30,
      queueLimit: 20,
      processingMs: 250,
      token: FOREIGN,
      rateLimit: BIG_BUCKET,
    });
    try {
      const configDir = join(dir, 'config');
      await mkdir(configDir);
      const config = (argv: string[]) => runCli(argv, { configDir, env: {} }, outputs);
      expect((await config(['config', 'set', 'base-url', a.baseUrl])).code).toBe(0);
      expect((await config(['config', 'set', 'token', TOKEN])).code).toBe(0);
      expect((await config(['--profile', 'shop2', 'config', 'set', 'base-url', b.baseUrl])).code).toBe(0);
      expect((await config(['--profile', 'shop2', 'config', 'set', 'token', FOREIGN])).code).toBe(0);
      const jobs = ['counterparty', 'assortment', 'stock-all', 'stock-bystore', 'money-byaccount'].flatMap((report) => [
        `  - { report: ${report}, out: a-${report}.ndjson }`,
        `  - { report: ${report}, out: b-${report}.ndjson, profile: shop2 }`,
      ]);
      const file = await jobFile('jobs.yaml', `jobs:\n${jobs.join('\n')}\n`);
      const r = await runCli(['batch', file], { configDir, env: {}, realCapMs: 5 }, outputs);
      expect(r.stderr).toMatch(/batch: 10 of 10 jobs done/);
      expect(r.code).toBe(0);
      for (const report of ['counterparty', 'assortment', 'stock-all']) {
        expect(await ndjson(join(dir, `a-${report}.ndjson`))).toEqual(expected(a, report));
        expect(await ndjson(join(dir, `b-${report}.ndjson`))).toEqual(expected(b, report));
      }
      expect(a.maxQueued(TOKEN)).toBeLessThanOrEqual(4);
      expect(b.maxQueued(FOREIGN)).toBeLessThanOrEqual(4);
      expect(a.maxQueued(FOREIGN)).toBe(0);
      expect(b.maxQueued(TOKEN)).toBe(0);
      // Five jobs each, all started at once: each account filled its own four slots.
      expect(a.maxQueued(TOKEN)).toBe(4);
      expect(b.maxQueued(FOREIGN)).toBe(4);
    } finally {
      await b.close();
    }
  });
});

const WITH_A_FAULT = `
jobs:
  - { report: counterparty, out: a.ndjson }
  - { report: /report/nothing/here, out: b.ndjson }
  - { report: assortment, out: c.ndjson }
`;

describe('batch: failures', () => {
  it('a failing job ends the batch with its exit code while the others are written', async () => {
    const sb = await start();
    const file = await jobFile('jobs.yaml', WITH_A_FAULT);
    const r = await cli(sb, ['--json', 'batch', file]);
    expect(r.code).toBe(4); // 61000 at creation: the API rejected the request
    expect(await ndjson(join(dir, 'a.ndjson'))).toEqual(expected(sb, 'counterparty'));
    expect(await ndjson(join(dir, 'c.ndjson'))).toEqual(expected(sb, 'assortment'));
    expect((await readdir(dir)).sort()).toEqual(['a.ndjson', 'c.ndjson', 'jobs.yaml']);
    const summaries = JSON.parse(r.stdout) as Array<Record<string, unknown>>; // one JSON document on stdout
    expect(summaries[1]).toMatchObject({
      index: 2,
      report: '/report/nothing/here',
      error: { code: 'ERR_MS_API', exitCode: 4 },
    });
    expect(summaries[2]).toMatchObject({ index: 3, state: 'DONE' });
    expect(r.stderr).toMatch(/1 of 3 jobs failed; the first in the file: job 2 \(\/report\/nothing\/here\)/);
  });

  it("the exit code is the first failed job's in file order, not the first to fail in time", async () => {
    const sb = await start();
    const file = await jobFile(
      'jobs.yaml',
      `
jobs:
  - report: sales-plotseries
    params: { momentFrom: "2026-03-01", momentTo: "2026-03-02", interval: week }
    out: slow-api-error.csv
  - { report: /report/nothing/here, out: fast-rejection.csv }
`,
    );
    const r = await cli(sb, ['batch', file]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/2 of 2 jobs failed; the first in the file: job 1 \(sales-plotseries\)/);
  });

  it('--fail-fast stops the other jobs and writes nothing more', async () => {
    const sb = await start({ processingMs: 1500 });
    const file = await jobFile('jobs.yaml', WITH_A_FAULT);
    const r = await cli(sb, ['--json', 'batch', file, '--fail-fast']);
    expect(r.code).toBe(4);
    expect(await readdir(dir)).toEqual(['jobs.yaml']);
    const summaries = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(summaries[0]).toMatchObject({ index: 1, stopped: true });
    expect(summaries[2]).toMatchObject({ index: 3, stopped: true });
    expect(r.stderr).toMatch(/STOPPED .*by --fail-fast/);
  });

  it('Ctrl-C leaves the tasks running, says how to resume each job, exit 130', async () => {
    const sb = await start({ processingMs: 5000 });
    const file = await jobFile(
      'jobs.yaml',
      `
jobs:
  - { report: counterparty, out: a.csv }
  - { report: assortment, out: b.csv }
`,
    );
    const controller = new AbortController();
    const r = await cli(sb, ['batch', file], {
      signal: controller.signal,
      onSleep: (_ms, count) => {
        if (count === 6) controller.abort(new InterruptSignal());
      },
    });
    expect(r.code).toBe(130);
    const ids = [...r.stderr.matchAll(/ms-async fetch ([0-9a-f-]{36}) --wait --out (\S+)/g)];
    expect(ids.map((m) => m[2])).toEqual([join(dir, 'a.csv'), join(dir, 'b.csv')]);
    for (const [, id] of ids) {
      const task = (await sandboxRequest(sb, `/async/${id}`, { headers: { Authorization: `Bearer ${TOKEN}` } }))
        .json as { state: string };
      expect(['PENDING', 'PROCESSING']).toContain(task.state);
    }
    expect(await readdir(dir)).toEqual(['jobs.yaml']);
  });
});

describe('batch: the job file is checked before anything is sent', () => {
  it.each([
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv, formt: csv }\n',
      /job 1 \(stock-bystore\): field "formt": unknown key; did you mean "format"\?/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv, format: xls }\n',
      /job 1 \(stock-bystore\): field "format": "xls" is not one of/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv }\n  - { report: stock-all, out: b.csv, timeout: soon }\n',
      /job 2 \(stock-all\): field "timeout": "soon" is not a duration/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv, excel: yes please }\n',
      /job 1 \(stock-bystore\): field "excel": must be true or false/,
    ],
    ['jobs:\n  - { report: stock-bystore }\n', /job 1 \(stock-bystore\): field "out": is required/],
    [
      'jobs:\n  - { report: stock-bystre, out: a.csv }\n',
      /job 1 \(stock-bystre\): field "report": unknown report "stock-bystre"; did you mean "stock-bystore"\?/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv, period: last-month }\n',
      /job 1 \(stock-bystore\): field "period": stock-bystore takes no period/,
    ],
    [
      'jobs:\n  - { report: profit-byproduct, out: a.csv, split: month }\n',
      /job 1 \(profit-byproduct\): field "split": --split needs --period/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: a.csv }\n  - { report: stock-all, out: ./a.csv }\n',
      /job 2 \(stock-all\): field "out": job 1 writes \.\/a\.csv too/,
    ],
    [
      'jobs:\n  - { report: stock-bystore, out: missing/a.csv }\n',
      /job 1 \(stock-bystore\): field "out": the folder of --out does not exist/,
    ],
    ['jobs:\n  - { report: stock-bystore, out: a.csv, token: abc }\n', /credentials do not belong in a job file/],
    ['defaults: { columns: 7 }\njobs: []\n', /"jobs" must be a non-empty list/],
    ['jobs:\n  - report: stock-bystore\n    out: a.csv\n   bad: indent\n', /not valid YAML/],
  ])('%j', async (text, message) => {
    const sb = await start();
    const file = await jobFile('jobs.yaml', text);
    const r = await cli(sb, ['batch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(sb.requests).toHaveLength(0);
  });

  it('a JSON job file has the same schema; every problem is listed at once', async () => {
    const sb = await start();
    const file = await jobFile(
      'jobs.json',
      JSON.stringify({
        jobs: [
          { report: 'stock-bystore', out: 'a.csv', rubles: 'yes' },
          { report: 'counterparty', out: 'b.xyz' },
        ],
      }),
    );
    const r = await cli(sb, ['batch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/job 1 \(stock-bystore\): field "rubles": must be true or false/);
    expect(sb.requests).toHaveLength(0);
  });

  it("a job's columns are checked against the report's catalogue, as export --columns is", async () => {
    const sb = await start();
    const file = await jobFile(
      'jobs.yaml',
      'jobs:\n  - { report: stock-bystore, out: a.csv }\n  - { report: stock-all, out: b.csv, columns: "name,stok" }\n',
    );
    const r = await cli(sb, ['batch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /job file: job 2 \(stock-all\): field "columns": stock-all has no column "stok" \(did you mean "stock"\?\)/,
    );
    expect(r.stderr).not.toMatch(/job 1/);
    expect(sb.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['jobs.yaml']);
  });

  it('every problem of every job is listed in one run, one line each, and nothing is sent', async () => {
    const sb = await start();
    const file = await jobFile(
      'jobs.yaml',
      `
jobs:
  - { report: stock-bystore, out: a.csv, format: xls }
  - { report: stock-all, out: ./a.csv, columns: "name,stok" }
  - { report: profit-byproduct, out: p.csv, period: 2026-13 }
  - { report: nosuch, out: n.csv }
  - { report: counterparty, out: nofolder/x.csv }
  - { report: assortment, out: t.csv, token: abc }
  - { report: money-byaccount, out: m.csv, colums: name }
`,
    );
    const r = await cli(sb, ['batch', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((line) => /^\s+job \d/.test(line));
    const expectedLines = [
      /^job 1 \(stock-bystore\): field "format": "xls" is not one of/,
      /^job 2 \(stock-all\): field "out": job 1 writes \.\/a\.csv too/,
      /^job 6 \(assortment\): field "token": credentials do not belong in a job file/,
      /^job 7 \(money-byaccount\): field "colums": unknown key; did you mean "columns"\?/,
      /^job 2 \(stock-all\): field "columns": stock-all has no column "stok"/,
      /^job 3 \(profit-byproduct\): field "period": /,
      /^job 4 \(nosuch\): field "report": unknown report "nosuch"/,
      /^job 5 \(counterparty\): field "out": the folder of --out does not exist/,
    ];
    expect(r.stderr).toMatch(new RegExp(`job file: ${expectedLines.length} problems:`));
    expect(lines).toHaveLength(expectedLines.length);
    for (const pattern of expectedLines)
      expect(lines.map((line) => line.trim())).toContainEqual(expect.stringMatching(pattern));
    expect(r.stderr).not.toContain('abc');
    expect(sb.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['jobs.yaml']);
  });

  it("--dry-run prints each job's requests and sends nothing", async () => {
    const sb = await start();
    const file = await jobFile(
      'jobs.yaml',
      `
defaults: { excel: true }
jobs:
  - { report: stock-bystore, out: stock.csv }
  - { report: profit-byproduct, period: 2026-01..2026-03, split: month, out: profit.csv }
`,
    );
    const r = await cli(sb, ['batch', file, '--dry-run']);
    expect(r.code).toBe(0);
    expect(sb.requests).toHaveLength(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'job 1 stock-bystore → stock.csv (csv)',
      `  GET ${sb.baseUrl}/report/stock/bystore?async=true`,
      'job 2 profit-byproduct → profit.csv (csv)',
      `  GET ${sb.baseUrl}/report/profit/byproduct?momentFrom=2026-01-01%2000%3A00%3A00&momentTo=2026-01-31%2023%3A59%3A59&async=true`,
      `  GET ${sb.baseUrl}/report/profit/byproduct?momentFrom=2026-02-01%2000%3A00%3A00&momentTo=2026-02-28%2023%3A59%3A59&async=true`,
      `  GET ${sb.baseUrl}/report/profit/byproduct?momentFrom=2026-03-01%2000%3A00%3A00&momentTo=2026-03-31%2023%3A59%3A59&async=true`,
    ]);
    expect(await readdir(dir)).toEqual(['jobs.yaml']);
  });
});
