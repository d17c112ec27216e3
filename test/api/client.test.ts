import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClientOptions } from '../../src/api/client.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { ApiError, AuthError, NetworkError, ResultGoneError, TaskFailedError } from '../../src/errors.js';
import { errorToJson, formatErrorLines } from '../../src/ui/errors.js';
import { pollTask } from '../../src/poller/poll.js';

const TOKEN = 'tok-Zq81ySECRETxx93jf7a0c2e4f6a8c0d2e4f6';

let sb: Sandbox;
let logs: string[];
let sleeps: number[];

/** Records every wish to sleep and waits at most a few real ms, so retries run fast. */
const quickSleep = (ms: number, signal?: AbortSignal) => {
  sleeps.push(ms);
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    setTimeout(resolve, Math.min(ms, 5));
  });
};

function client(options: Partial<ApiClientOptions> = {}) {
  return createApiClient({
    baseUrl: sb.baseUrl,
    auth: { kind: 'bearer', token: TOKEN },
    sleep: quickSleep,
    onLog: (l) => logs.push(l),
    ...options,
  });
}

/** Every way an error could leak: message, JSON, printed lines, util.inspect (cause included). */
function expectNoToken(error: unknown): void {
  const texts = [
    JSON.stringify(errorToJson(error)),
    formatErrorLines(error, false).join('\n'),
    inspect(error, { depth: 6 }),
  ];
  for (const text of texts) expect(text).not.toContain(TOKEN);
}

async function waitDone(c: ReturnType<typeof client>, id: string) {
  return pollTask((signal) => c.getTask(id, { signal }), {
    timeoutMs: 10_000,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
    now: Date.now,
  });
}

beforeEach(async () => {
  sb = await startTestSandbox({ token: TOKEN });
  logs = [];
  sleeps = [];
});
afterEach(async () => {
  await sb.close();
  expect(logs.join('\n')).not.toContain(TOKEN);
});

describe('the client against the sandbox', () => {
  it('creates a task, polls it to DONE and returns the storage link without following it', async () => {
    const c = client();
    const created = await c.createTask('/report/stock/bystore?filter=stockMode%3Dall');
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.statusUrl).toBe(`${sb.baseUrl}/async/${created.id}`);
    expect(created.resultUrl).toBe(`${sb.baseUrl}/async/${created.id}/result`);
    expect(created.request).toBe(`${sb.baseUrl}/report/stock/bystore?filter=stockMode%3Dall&async=true`);
    const done = await waitDone(c, created.id);
    expect(done).toMatchObject({ id: created.id, state: 'DONE', resultUrl: created.resultUrl });
    const link = await c.getResultLink(created.id);
    expect(link.startsWith(sb.storageUrl)).toBe(true);
    expect(sb.requests.some((r) => r.origin === 'storage')).toBe(false);
    for (const r of sb.requests) {
      expect(r.headers['accept-encoding']).toBe('gzip');
      expect(r.headers['user-agent']).toMatch(/^ms-async\/\d/);
      expect(r.headers.authorization).toBe('Bearer ***');
    }
    expect(logs[0]).toMatch(new RegExp(`^GET ${sb.baseUrl}/report/stock/bystore\\?\\S+ 202 \\d+ms$`));
  });

  it('decodes answers whether or not they are gzip-compressed', async () => {
    sb.setFaults({ skipGzipEvery: 2 });
    const c = client();
    const { id } = await c.createTask('/report/stock/all');
    for (let i = 0; i < 4; i += 1) expect((await c.getTask(id)).id).toBe(id);
  });

  it("requests that ended leave no listener on the run's signal (no MaxListenersExceededWarning)", async () => {
    const run = new AbortController();
    const c = client();
    const { id } = await c.createTask('/report/stock/all');
    // More than Node's default of 10 listeners, as a long `status --wait` polls.
    for (let i = 0; i < 12; i += 1) expect((await c.getTask(id, { signal: run.signal })).id).toBe(id);
    await c.getResultLink(id, { signal: run.signal }).catch(() => undefined);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('Basic auth works too', async () => {
    const c = client({ auth: { kind: 'basic', login: 'admin@shop', password: 'p' } });
    await expect(c.getEmployee()).resolves.toBeTruthy();
    expect(sb.requests[0]?.headers.authorization).toBe('Basic ***');
  });

  it('lists tasks with a state filter and pages', async () => {
    const c = client();
    const a = await c.createTask('/report/stock/all');
    await waitDone(c, a.id);
    await c.createTask('/report/profit/byproduct');
    const done = await c.listTasks({ states: ['DONE'] });
    expect(done.rows.map((t) => t.id)).toEqual([a.id]);
    const all = await c.listTasks({ limit: 1, offset: 0 });
    expect(all.size).toBe(2);
    expect(all.rows).toHaveLength(1);
    const exact = await c.listTasks({ request: a.request });
    expect(exact.rows.map((t) => t.id)).toEqual([a.id]);
  });

  it('429: waits X-Lognex-Retry-After, then retries (the next request really waited)', async () => {
    sb.setFaults({ status429: { at: 1 } });
    const c = client({
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return new Promise((r, j) => (signal?.aborted ? j(signal.reason) : setTimeout(r, ms)));
      },
    });
    await c.getEmployee();
    const [first, second] = sb.requests;
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    const retryAfter = Math.ceil(3000 / 45);
    // Obeyed, plus jitter (up to a quarter and 100 ms) so that parallel runs do not come back together.
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(retryAfter);
    expect(sleeps[0]).toBeLessThanOrEqual(Math.ceil(retryAfter * 1.25 + 100));
    expect(second!.startedAt - first!.endedAt).toBeGreaterThanOrEqual(retryAfter - 2);
  });

  it('429 for too long → NetworkError (exit 7)', async () => {
    sb.setFaults({ status429: { at: 1, count: 100 } });
    const error = await client({ maxRateLimitWaitMs: 300 })
      .getEmployee()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expectNoToken(error);
  });

  it('5xx: retried with backoff, then success', async () => {
    sb.setFaults({ status5xx: { at: 1, count: 2, status: 503 } });
    await expect(client().getEmployee()).resolves.toBeTruthy();
    expect(sb.requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(sleeps).toHaveLength(2);
  });

  it('5xx: retries exhausted → NetworkError (exit 7) with status and request, no token', async () => {
    sb.setFaults({ status5xx: { at: 1, count: 50, status: 500 } });
    const error = await client({ maxRetries: 3 })
      .listTasks()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      exitCode: 7,
      httpStatus: 500,
      request: { method: 'GET', url: `${sb.baseUrl}/async` },
    });
    expect(sb.requests).toHaveLength(4);
    expectNoToken(error);
  });

  it('a dropped connection is retried on a status read', async () => {
    const c = client();
    const { id } = await c.createTask('/report/stock/all');
    sb.setFaults({ dropConnection: { at: 1 } });
    await expect(c.getTask(id)).resolves.toMatchObject({ id });
    expect(sb.requests.slice(1).map((r) => r.status)).toEqual([0, 200]);
  });

  it('a dropped task creation is NOT repeated (it may have created a task); the hint says to check list', async () => {
    sb.setFaults({ dropConnection: { at: 1 } });
    const error = await client()
      .createTask('/report/stock/all')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).hint).toMatch(/ms-async list/);
    expect(sb.requests).toHaveLength(1);
    expectNoToken(error);
  });

  it('a 503 on creation is retried (the API refused it), a broken JSON answer of a read is retried', async () => {
    sb.setFaults({ status5xx: { at: 1, status: 503 } });
    const c = client();
    const { id } = await c.createTask('/report/stock/all');
    sb.setFaults({ brokenJson: { at: 1 } });
    await expect(c.getTask(id)).resolves.toMatchObject({ id });
  });

  it('1073: lowers the concurrency limit and retries', async () => {
    await sb.close();
    sb = await startTestSandbox({ token: TOKEN, parallelLimit: 2 });
    sb.setFaults({ slowApiMs: 30 });
    const c = client();
    const results = await Promise.all(Array.from({ length: 10 }, () => c.getEmployee()));
    expect(results).toHaveLength(10);
    expect(sb.requests.some((r) => r.status === 429)).toBe(true);
    expect(c.limiter.limit).toBeLessThan(5);
  });

  it('paces down when X-RateLimit-Remaining runs low, so the bucket never runs dry', async () => {
    await sb.close();
    sb = await startTestSandbox({ token: TOKEN, rateLimit: { units: 6, windowMs: 600, weights: { default: 1 } } });
    const realSleep = (ms: number) => {
      sleeps.push(ms);
      return new Promise<void>((r) => setTimeout(r, ms));
    };
    const c = client({ sleep: realSleep });
    for (let i = 0; i < 12; i += 1) await c.getEmployee();
    expect(sb.requests.every((r) => r.status === 200)).toBe(true);
    expect(sleeps.length).toBeGreaterThan(0);
  });

  it('never more than 5 requests in flight under 20 concurrent calls', async () => {
    sb.setFaults({ slowApiMs: 25 });
    const c = client();
    await Promise.all(Array.from({ length: 20 }, () => c.getEmployee()));
    expect(sb.maxInFlight).toBeLessThanOrEqual(5);
    expect(sb.maxInFlight).toBeGreaterThan(1);
    expect(sb.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('maps API errors to the error tree, never with the token', async () => {
    const c = client();
    const bad = await createApiClient({ baseUrl: sb.baseUrl, auth: { kind: 'bearer', token: `${TOKEN}-wrong` } })
      .getEmployee()
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AuthError);
    expect(bad).toMatchObject({ exitCode: 3, httpStatus: 401, hint: expect.stringContaining('ms-async login') });
    expect((bad as AuthError).apiErrors[0]?.code).toBe(1056);
    expectNoToken(bad);

    const unknown = await c.getTask('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ResultGoneError);

    const { id } = await c.createTask('/report/stock/all');
    const notReady = await c.getResultLink(id).catch((e: unknown) => e);
    expect(notReady).toBeInstanceOf(ApiError);
    expect((notReady as ApiError).apiErrors[0]?.code).toBe(61006);
    await waitDone(c, id);
    const finished = await c.cancelTask(id).catch((e: unknown) => e);
    expect(finished).toBeInstanceOf(ApiError);
    expect((finished as ApiError).apiErrors[0]?.code).toBe(61007);
    sb.advanceClock(2 * 3_600_000);
    const gone = await c.getResultLink(id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ResultGoneError);
    expect(gone).toMatchObject({ exitCode: 8, hint: expect.stringContaining('again') });

    const limit = await c.createTask('/report/stock/all?limit=10').catch((e: unknown) => e);
    expect(limit).toMatchObject({ exitCode: 4, apiErrors: [expect.objectContaining({ code: 61001 })] });
    for (const e of [unknown, notReady, finished, gone, limit]) expectNoToken(e);
  });

  it('result of ERROR/CANCEL/API_ERROR tasks → typed errors', async () => {
    const c = client();
    sb.setFaults({ taskOutcome: 'ERROR' });
    const failed = await c.createTask('/report/stock/all');
    await waitDone(c, failed.id);
    await expect(c.getResultLink(failed.id)).rejects.toBeInstanceOf(TaskFailedError);
    sb.setFaults({ taskOutcome: 'API_ERROR_AUTH' });
    const denied = await c.createTask('/report/stock/all');
    expect((await waitDone(c, denied.id)).state).toBe('API_ERROR');
    await expect(c.getResultLink(denied.id)).rejects.toBeInstanceOf(AuthError);
    sb.setFaults({ taskOutcome: null, pendingMs: 5000 });
    const cancelled = await c.createTask('/report/stock/all');
    await c.cancelTask(cancelled.id);
    await expect(c.getResultLink(cancelled.id)).rejects.toMatchObject({ exitCode: 5 });
  });

  it('webhooks: add, list, duplicate refused (30003), remove', async () => {
    const c = client();
    const hook = await c.createWebhook({ url: 'https://example.com/hook', action: 'PROCESSED' });
    expect(hook).toMatchObject({ entityType: 'async', action: 'PROCESSED', url: 'https://example.com/hook' });
    expect((await c.listWebhooks()).map((h) => h.id)).toContain(hook.id);
    const dup = await c
      .createWebhook({ url: 'https://example.com/hook', action: 'PROCESSED' })
      .catch((e: unknown) => e);
    expect(dup).toMatchObject({ exitCode: 4, apiErrors: [expect.objectContaining({ code: 30003 })] });
    await c.deleteWebhook(hook.id);
    expect(await c.listWebhooks()).toEqual([]);
  });
});
