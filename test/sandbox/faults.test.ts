import { describe, expect, it } from 'vitest';
import { defaultFaults, parseFaultSpec } from '../../src/sandbox/faults.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { rawRequest, sandboxRequest, useSandbox, waitForTask } from '../helpers/start-sandbox.js';

const sandbox = useSandbox({ queueLimit: 1000, rateLimit: { units: 10_000, windowMs: 3000, weights: {} } });

async function doneTask(s: Sandbox, path = '/report/stock/all?async=true'): Promise<Record<string, unknown>> {
  const created = await sandboxRequest(s, path);
  return waitForTask(s, created.headers['content-location'] as string);
}

describe('fault switches', () => {
  it('status429: the given API requests answer 429/1049 with rate headers, counted from when set', async () => {
    sandbox().setFaults({ status429: { at: 2, count: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await sandboxRequest(sandbox(), '/context/employee');
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.json).toMatchObject({ errors: [{ code: 1049 }] });
        expect(Number(r.headers['x-lognex-retry-after'])).toBeGreaterThan(0);
        expect(r.headers['x-ratelimit-remaining']).toBe('0');
        expect(r.headers['x-lognex-retry-timeinterval']).toBe('3000');
      }
    }
    expect(statuses).toEqual([200, 429, 429, 200]);
    sandbox().setFaults({ status429: null });
  });

  it('status5xx: answers the chosen status without side effects', async () => {
    sandbox().setFaults({ status5xx: { at: 1, count: 1, status: 502 } });
    const r = await sandboxRequest(sandbox(), '/report/dashboard/day?async=true');
    expect(r.status).toBe(502);
    expect(r.json).toMatchObject({ errors: [{ code: 1999 }] });
    const list = await sandboxRequest(sandbox(), '/async?filter=state=PENDING;state=PROCESSING');
    expect((list.json as { meta: { size: number } }).meta.size).toBe(0);
    sandbox().setFaults({ status5xx: { at: 1 } });
    expect((await sandboxRequest(sandbox(), '/context/employee')).status).toBe(503);
    expect((await sandboxRequest(sandbox(), '/context/employee')).status).toBe(200);
  });

  it('dropConnection: the request gets no answer at all', async () => {
    sandbox().setFaults({ dropConnection: { at: 1 } });
    await expect(sandboxRequest(sandbox(), '/context/employee')).rejects.toThrow();
    expect((await sandboxRequest(sandbox(), '/context/employee')).status).toBe(200);
    expect(sandbox().requests.some((r) => r.origin === 'api' && r.status === 0 && r.endedAt > 0)).toBe(true);
  });

  it('brokenJson: a 200 whose JSON is cut; skipGzipEvery: answers without Content-Encoding', async () => {
    sandbox().setFaults({ brokenJson: { at: 1 } });
    const broken = await sandboxRequest(sandbox(), '/context/employee');
    expect(broken.status).toBe(200);
    expect(broken.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(broken.text)).toThrow();
    expect((await sandboxRequest(sandbox(), '/context/employee')).json).toHaveProperty('name');
    sandbox().setFaults({ skipGzipEvery: 1 });
    const plain = await sandboxRequest(sandbox(), '/context/employee');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.raw.toString('utf8')).toBe(plain.text);
    expect(plain.json).toHaveProperty('name');
    sandbox().setFaults({ skipGzipEvery: 0 });
  });

  it('cutDownloadAfterBytes: the first download breaks after N bytes, the next is whole', async () => {
    const task = await doneTask(sandbox());
    sandbox().setFaults({ cutDownloadAfterBytes: 1000 });
    const link = (await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string;
    await expect(rawRequest(link)).rejects.toThrow();
    const again = await rawRequest(link);
    expect(again.status).toBe(200);
    expect(again.raw.length).toBe(Number(again.headers['content-length']));
    expect(sandbox().options.faults).toBeDefined();
  });

  it('expiredLink: the first link is already expired (403), a fresh one works', async () => {
    const task = await doneTask(sandbox());
    sandbox().setFaults({ expiredLink: true });
    const first = (await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string;
    expect(Number(new URL(first).searchParams.get('temp_url_expires')) * 1000).toBeLessThan(sandbox().now());
    expect((await rawRequest(first)).status).toBe(403);
    const second = (await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string;
    expect((await rawRequest(second)).status).toBe(200);
  });

  it('truncateResult: once cuts the next download mid-JSON, always cuts every one', async () => {
    const task = await doneTask(sandbox());
    const download = async (): Promise<string> =>
      (await rawRequest((await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string)).text;
    const whole = await download();
    sandbox().setFaults({ truncateResult: 'once' });
    const cut = await download();
    expect(cut.length).toBeLessThan(whole.length);
    expect(whole.startsWith(cut)).toBe(true);
    expect(() => JSON.parse(cut)).toThrow();
    expect(await download()).toBe(whole);
    sandbox().setFaults({ truncateResult: 'always' });
    expect(await download()).toBe(cut);
    expect(await download()).toBe(cut);
    sandbox().setFaults({ truncateResult: 'off' });
  });

  it('taskOutcome: ERROR → 61004, CANCEL → 61005, API_ERROR → 400/1040, API_ERROR_AUTH → 403/1016', async () => {
    const cases = [
      { outcome: 'ERROR', state: 'ERROR', status: 400, code: 61004 },
      { outcome: 'CANCEL', state: 'CANCEL', status: 400, code: 61005 },
      { outcome: 'API_ERROR', state: 'API_ERROR', status: 400, code: 1040 },
      { outcome: 'API_ERROR_AUTH', state: 'API_ERROR', status: 403, code: 1016 },
    ] as const;
    for (const c of cases) {
      sandbox().setFaults({ taskOutcome: c.outcome });
      const task = await doneTask(sandbox(), '/report/profit/byproduct?async=true');
      expect(task.state, c.outcome).toBe(c.state);
      const result = await sandboxRequest(sandbox(), `${(task.meta as { href: string }).href}/result`);
      expect(result.status, c.outcome).toBe(c.status);
      expect(result.json).toMatchObject({ errors: [{ code: c.code }] });
      if (c.state === 'API_ERROR') expect(task.errors).toEqual((result.json as { errors: unknown }).errors);
    }
    sandbox().setFaults({ taskOutcome: 'API_ERROR', apiError: { status: 412, code: 39000, error: 'custom' } });
    const custom = await doneTask(sandbox(), '/report/profit/byproduct?async=true');
    expect(custom.errors).toMatchObject([{ code: 39000, error: 'custom' }]);
    sandbox().setFaults({ taskOutcome: null, apiError: null });
    // Per request, with a sandbox-only header (the task's request URL stays clean).
    const perRequest = await doneTask(sandbox(), '/report/profit/byproduct?async=true');
    expect(perRequest.state).toBe('DONE');
    const created = await sandboxRequest(sandbox(), '/report/profit/byvariant?async=true', {
      headers: { 'X-Sandbox-Outcome': 'error' },
    });
    expect(await waitForTask(sandbox(), created.headers['content-location'] as string)).toMatchObject({
      state: 'ERROR',
      request: expect.not.stringContaining('sandbox'),
    });
  });

  it('pendingMs/processingMs: slow tasks', async () => {
    sandbox().setFaults({ pendingMs: 400, processingMs: 10 });
    const created = await sandboxRequest(sandbox(), '/report/dashboard/day?async=true');
    await new Promise((r) => setTimeout(r, 50));
    expect((await sandboxRequest(sandbox(), created.headers['content-location'] as string)).json).toMatchObject({
      state: 'PENDING',
    });
    await waitForTask(sandbox(), created.headers['content-location'] as string);
    sandbox().setFaults({ pendingMs: null, processingMs: null });
  });

  it('storageBytesPerSecond: slow storage', async () => {
    const task = await doneTask(sandbox());
    sandbox().setFaults({ storageBytesPerSecond: 200_000 });
    const link = (await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string;
    const started = Date.now();
    const r = await rawRequest(link);
    expect(Date.now() - started).toBeGreaterThanOrEqual((r.raw.length / 200_000) * 1000 * 0.7);
    sandbox().setFaults({ storageBytesPerSecond: null });
  });

  it('rows per request: X-Sandbox-Rows', async () => {
    const created = await sandboxRequest(sandbox(), '/entity/assortment?async=true', {
      headers: { 'X-Sandbox-Rows': '7' },
    });
    const task = await waitForTask(sandbox(), created.headers['content-location'] as string);
    const body = (
      await rawRequest((await sandboxRequest(sandbox(), task.resultUrl as string)).headers.location as string)
    ).json as { rows: unknown[]; meta: { size: number } };
    expect(body.rows).toHaveLength(7);
    expect(body.meta.size).toBe(7);
  });
});

describe('control endpoints over HTTP (sandbox-only)', () => {
  it('GET/PUT __sandbox/faults and POST __sandbox/clock need no auth and are not recorded', async () => {
    const before = sandbox().requests.length;
    const put = await rawRequest(`${sandbox().baseUrl}/__sandbox/faults`, {
      method: 'PUT',
      body: JSON.stringify({ status5xx: { at: 1, status: 500 } }),
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ status5xx: { at: 1, status: 500 } });
    const get = await rawRequest(`${sandbox().baseUrl}/__sandbox/faults`);
    expect(get.json).toEqual({ ...defaultFaults(), status5xx: { at: 1, status: 500 } });
    expect((await sandboxRequest(sandbox(), '/context/employee')).status).toBe(500);
    await rawRequest(`${sandbox().baseUrl}/__sandbox/faults`, {
      method: 'PUT',
      body: JSON.stringify({ status5xx: null }),
    });
    const now = sandbox().now();
    const clock = await rawRequest(`${sandbox().baseUrl}/__sandbox/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceMs: 3_600_000 }),
    });
    expect(clock.status).toBe(200);
    expect(sandbox().now() - now).toBeGreaterThanOrEqual(3_600_000);
    expect((await rawRequest(`${sandbox().baseUrl}/__sandbox/clock`, { method: 'POST', body: '{}' })).status).toBe(400);
    expect(sandbox().requests.length).toBe(before + 1);
  });
});

describe('parseFaultSpec (CLI syntax)', () => {
  it.each([
    ['status429=3', { status429: { at: 3, count: 1 } }],
    ['status429=3+2', { status429: { at: 3, count: 3 } }],
    ['status429=3-5', { status429: { at: 3, count: 3 } }],
    ['status5xx=2', { status5xx: { at: 2, count: 1, status: 503 } }],
    ['status5xx=2+1:500', { status5xx: { at: 2, count: 2, status: 500 } }],
    ['drop=1', { dropConnection: { at: 1, count: 1 } }],
    ['broken-json=4', { brokenJson: { at: 4, count: 1 } }],
    ['no-gzip', { skipGzipEvery: 1 }],
    ['no-gzip=3', { skipGzipEvery: 3 }],
    ['slow-api=200', { slowApiMs: 200 }],
    ['cut-download=1024', { cutDownloadAfterBytes: 1024 }],
    ['expired-link', { expiredLink: true }],
    ['truncate', { truncateResult: 'once' }],
    ['truncate=always', { truncateResult: 'always' }],
    ['task=api-error-auth', { taskOutcome: 'API_ERROR_AUTH' }],
    ['task=CANCEL', { taskOutcome: 'CANCEL' }],
    ['pending-ms=5000', { pendingMs: 5000 }],
    ['processing-ms=1', { processingMs: 1 }],
    ['slow-storage=65536', { storageBytesPerSecond: 65536 }],
  ])('%s', (spec, expected) => {
    expect(parseFaultSpec(spec)).toEqual(expected);
  });

  it('rejects nonsense', () => {
    for (const bad of ['bogus', 'status429=0', 'status429=x', 'task=LATER', 'truncate=twice', 'slow-api=-1']) {
      expect(() => parseFaultSpec(bad), bad).toThrow();
    }
  });
});
