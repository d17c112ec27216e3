#!/usr/bin/env node
/**
 * A crowd of parallel exports against one sandbox account (issue 14 item 5): N real processes of
 * bin/ms-async.js, one sandbox, and the count of failing API answers in the worst minute.
 * MoySklad switches an account's API off above 200 failing requests a minute; the target is
 * under 100 with every export succeeding.
 *
 *   npm run build && node bench/crowd.mjs --runs 60 [--rows 20] [--shared-limits off]
 *
 * Heavy on a 2-core machine (60 Node processes): not part of `npm test`, which runs a smaller
 * crowd in-process (test/api/crowd.test.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '../dist/sandbox/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '60' },
    rows: { type: 'string', default: '20' },
    'shared-limits': { type: 'string', default: 'on' },
    timeout: { type: 'string', default: '10m' },
  },
});
const runs = Number(values.runs);
const token = 'crowd-bench-token';
const dir = await mkdtemp(join(tmpdir(), 'ms-async-crowd-'));
const sandbox = await startSandbox({ token, rows: Number(values.rows), pendingMs: 200, processingMs: 800 });
const bin = new URL('../bin/ms-async.js', import.meta.url).pathname;
const started = Date.now();

function runOne(i) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [bin, 'export', 'counterparty', '--out', join(dir, `out-${i}.ndjson`), '--timeout', values.timeout],
      {
        env: {
          ...process.env,
          MS_BASE_URL: sandbox.baseUrl,
          MS_TOKEN: token,
          MS_ASYNC_CACHE_DIR: join(dir, 'cache'),
          MS_ASYNC_SHARED_LIMITS: values['shared-limits'],
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started }));
  });
}

const results = await Promise.all(Array.from({ length: runs }, (_, i) => runOne(i)));
await sandbox.close();

const api = sandbox.requests.filter((r) => r.origin === 'api');
const failing = api
  .filter((r) => r.status >= 400)
  .map((r) => r.startedAt)
  .sort((a, b) => a - b);
let worst = 0;
for (let i = 0, j = 0; i < failing.length; i += 1) {
  while (failing[i] - failing[j] >= 60_000) j += 1;
  worst = Math.max(worst, i - j + 1);
}
const byStatus = {};
for (const r of api) if (r.status >= 400) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
const ok = results.filter((r) => r.code === 0).length;
console.log(
  JSON.stringify({
    runs,
    succeeded: ok,
    exitCodes: [...new Set(results.map((r) => r.code))],
    apiRequests: api.length,
    failing: failing.length,
    failingByStatus: byStatus,
    worstMinute: worst,
    seconds: Math.round((Date.now() - started) / 1000),
    sharedLimits: values['shared-limits'],
  }),
);
for (const r of results.filter((x) => x.code !== 0).slice(0, 3)) console.error(r.stderr.trim());
await rm(dir, { recursive: true, force: true });
process.exitCode = ok === runs && worst < 100 ? 0 : 1;
