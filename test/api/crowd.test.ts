/**
 * Crowds (issue 14 item 5): many runs of one account on one machine share its limits through the
 * account gate, so they all succeed and draw few refusals. MoySklad switches an account's API off
 * above 200 failing requests a minute (docs/api-facts.md §3.5); the target is under 100.
 * This runs the exports in-process (each its own session and gate, sharing only the cache folder,
 * as separate processes do); `node bench/crowd.mjs` runs 60 real processes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli } from '../helpers/test-io.js';

const TOKEN = 'tok-CROWD-00112233445566778899aabbccddeeff0011';
const RUNS = 16;
let sb: Sandbox;
let dir: string;

beforeAll(async () => {
  sb = await startTestSandbox({ token: TOKEN, rows: 20, pendingMs: 100, processingMs: 300 });
  dir = await mkdtemp(join(tmpdir(), 'ms-async-crowd-'));
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

/** Failing answers (4xx/5xx, 429 above all) in the worst sliding minute. */
function worstMinute(records: ReadonlyArray<{ status: number; startedAt: number }>): number {
  const failing = records
    .filter((r) => r.status >= 400)
    .map((r) => r.startedAt)
    .sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0, j = 0; i < failing.length; i += 1) {
    while ((failing[i] ?? 0) - (failing[j] ?? 0) >= 60_000) j += 1;
    worst = Math.max(worst, i - j + 1);
  }
  return worst;
}

it(`${RUNS} parallel exports of one account all succeed, with few refusals`, async () => {
  const realSleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : {});
  const runs = await Promise.all(
    Array.from({ length: RUNS }, (_, i) =>
      runCli(['export', 'counterparty', '--out', join(dir, `out-${i}.ndjson`), '--timeout', '90s'], {
        env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN, MS_ASYNC_SHARED_LIMITS: process.env.CROWD_GATE ?? '' },
        sleep: realSleep,
      }),
    ),
  );
  const codes = runs.map((r) => r.code);
  const failing = sb.requests.filter((r) => r.origin === 'api' && r.status >= 400);
  const api = sb.requests.filter((r) => r.origin === 'api');
  // eslint-disable-next-line no-console
  console.log(
    `crowd of ${RUNS}: ${api.length} API requests, ${failing.length} failing ` +
      `(${[...new Set(failing.map((r) => r.status))].join(', ') || 'none'}), worst minute ${worstMinute(failing)}`,
  );
  expect(codes).toEqual(Array.from({ length: RUNS }, () => 0));
  for (let i = 0; i < RUNS; i += 1) {
    expect((await readFile(join(dir, `out-${i}.ndjson`), 'utf8')).split('\n').filter(Boolean)).toHaveLength(20);
  }
  expect(worstMinute(failing)).toBeLessThan(5);
  for (const r of runs) expect(r.stderr + r.stdout).not.toContain(TOKEN);
}, 120_000);
