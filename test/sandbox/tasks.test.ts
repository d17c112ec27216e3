import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTS } from '../../src/reports/catalog.js';
import { writeResultFile } from '../../src/sandbox/generate.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { rawRequest, sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';

const DATE_MS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-sandbox-tasks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Creates a task; returns its status URL. */
async function create(sandbox: Sandbox, pathAndQuery: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await sandboxRequest(sandbox, pathAndQuery, { headers });
  expect(r.status, r.text).toBe(202);
  return r.headers['content-location'] as string;
}

async function withSandbox(
  options: Parameters<typeof startTestSandbox>[0],
  body: (sandbox: Sandbox) => Promise<void>,
): Promise<void> {
  const sandbox = await startTestSandbox({ queueLimit: 100, ...options });
  try {
    await body(sandbox);
  } finally {
    await sandbox.close();
  }
}

describe('creating tasks (§2.2)', () => {
  it('answers 202 with no body, Location and Content-Location on every one of the 17 endpoints', async () => {
    await withSandbox({}, async (sandbox) => {
      for (const spec of REPORTS) {
        const query = spec.required.length ? 'momentFrom=2026-03-01&momentTo=2026-03-02&interval=day&' : '';
        const r = await sandboxRequest(sandbox, `${spec.path}?${query}async=true`);
        expect(r.status, spec.alias).toBe(202);
        expect(r.raw.length).toBe(0);
        const location = r.headers.location as string;
        const statusUrl = r.headers['content-location'] as string;
        expect(statusUrl).toMatch(new RegExp(`^${sandbox.baseUrl}/async/[0-9a-f-]{36}$`));
        expect(location).toBe(`${statusUrl}/result`);
        expect(r.headers['x-ratelimit-limit']).toBe('45');
      }
    });
  });

  it('refuses limit/offset with 61001 and unsupported endpoints with 61000', async () => {
    await withSandbox({}, async (sandbox) => {
      for (const query of ['limit=10&async=true', 'async=true&offset=0']) {
        const r = await sandboxRequest(sandbox, `/report/stock/all?${query}`);
        expect(r.status).toBe(400);
        expect(r.json).toMatchObject({ errors: [{ code: 61001 }] });
      }
      for (const path of [
        '/report/stock/all/current?async=true',
        '/entity/product?async=true',
        '/report/turnover/all?async=true',
      ]) {
        const r = await sandboxRequest(sandbox, path);
        expect(r.status, path).toBe(400);
        expect(r.json).toMatchObject({ errors: [{ code: 61000, error: expect.stringContaining('асинхрон') }] });
      }
      const post = await sandboxRequest(sandbox, '/report/counterparty?async=true', { method: 'POST', body: '{}' });
      expect(post.json).toMatchObject({ errors: [{ code: 61000 }] });
      // None of the refused requests created a task.
      expect(((await sandboxRequest(sandbox, '/async')).json as { meta: { size: number } }).meta.size).toBe(0);
    });
  });

  it('limits the queue to queueLimit PENDING+PROCESSING tasks with 61002', async () => {
    await withSandbox({ queueLimit: 4, pendingMs: 400, processingMs: 100 }, async (sandbox) => {
      const urls: string[] = [];
      for (let i = 0; i < 4; i++) urls.push(await create(sandbox, '/report/dashboard/day?async=true'));
      const full = await sandboxRequest(sandbox, '/report/dashboard/day?async=true', {
        headers: { 'Accept-Language': 'en' },
      });
      expect(full.status).toBe(429);
      expect(full.json).toMatchObject({
        errors: [{ code: 61002, error: expect.stringContaining('simultaneously executing') }],
      });
      expect(full.headers['x-lognex-retry-after']).toBeUndefined();
      await waitForTask(sandbox, urls[0] as string);
      await create(sandbox, '/report/dashboard/day?async=true');
    });
  });
});

describe('task lifecycle (§2.3, §2.4)', () => {
  it('moves PENDING → PROCESSING → DONE with exactly the documented fields per state', async () => {
    await withSandbox({ pendingMs: 150, processingMs: 150 }, async (sandbox) => {
      const statusUrl = await create(sandbox, '/report/stock/bystore?filter=stockMode%3Dall&async=true');
      const id = statusUrl.split('/').pop() as string;
      const seen: string[] = [];
      let done: Record<string, unknown> | undefined;
      while (!done) {
        const task = (await sandboxRequest(sandbox, statusUrl)).json as Record<string, unknown>;
        if (seen[seen.length - 1] !== task.state) seen.push(task.state as string);
        const base = ['meta', 'id', 'accountId', 'owner', 'state', 'request'];
        if (task.state === 'DONE') {
          expect(Object.keys(task)).toEqual([...base, 'resultUrl', 'deletionDate']);
          done = task;
        } else {
          expect(Object.keys(task)).toEqual(base);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      expect(seen).toEqual(['PENDING', 'PROCESSING', 'DONE']);
      expect(done).toMatchObject({
        meta: { href: statusUrl, type: 'async', mediaType: 'application/json' },
        id,
        accountId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        owner: { meta: { type: 'employee', href: expect.stringContaining('/entity/employee/') } },
        request: `${new URL(sandbox.baseUrl).origin}/api/remap/1.2/report/stock/bystore?filter=stockMode%3Dall&async=true`,
        resultUrl: `${statusUrl}/result`,
        deletionDate: expect.stringMatching(DATE_MS),
      });
      // deletionDate = done + 1 h, in MSK (UTC+3).
      const msk = Date.parse(`${(done.deletionDate as string).replace(' ', 'T')}Z`) - 3 * 3_600_000;
      expect(Math.abs(msk - (sandbox.now() + 3_600_000))).toBeLessThan(5_000);
    });
  });

  it('result: 61006 while not ready, then 302 to storage whose file equals writeResultFile', async () => {
    await withSandbox({ pendingMs: 80, processingMs: 80, rows: 37, seed: 11, stores: 4 }, async (sandbox) => {
      const statusUrl = await create(sandbox, '/report/stock/bystore?async=true');
      const early = await sandboxRequest(sandbox, `${statusUrl}/result`);
      expect(early.status).toBe(400);
      expect(early.json).toMatchObject({ errors: [{ code: 61006 }] });
      const task = await waitForTask(sandbox, statusUrl);
      const result = await sandboxRequest(sandbox, task.resultUrl as string);
      expect(result.status).toBe(302);
      expect(result.raw.length).toBe(0);
      const link = new URL(result.headers.location as string);
      expect(link.origin).toBe(sandbox.storageUrl);
      expect(link.pathname).toMatch(/^\/batch\/[0-9a-f-]{36}\/apiasynctaskresult\/[0-9a-f-]{36}$/);
      expect(link.searchParams.get('temp_url_sig')).toMatch(/^[0-9a-f]{40}$/);
      const expires = Number(link.searchParams.get('temp_url_expires'));
      expect(Math.abs(expires * 1000 - (sandbox.now() + 300_000))).toBeLessThan(2000);
      expect(link.searchParams.get('filename')).toBe(`asynctask_${task.id as string}_result.json`);
      const download = await rawRequest(link.toString());
      expect(download.status).toBe(200);
      const expectedPath = join(dir, 'expected.json');
      await writeResultFile(expectedPath, {
        report: 'stock-bystore',
        rows: 37,
        seed: 11,
        stores: 4,
        requestUrl: task.request as string,
        baseUrl: sandbox.baseUrl,
      });
      expect(download.raw.equals(await readFile(expectedPath))).toBe(true);
      // A new 302 (fresh link) each time, within the hour (§9.13).
      const again = await sandboxRequest(sandbox, task.resultUrl as string);
      expect(again.status).toBe(302);
      expect(again.headers.location).not.toBe(result.headers.location);
    });
  });

  it('gives plot series one record per bucket of the period (capped by rows)', async () => {
    await withSandbox({ rows: 1000 }, async (sandbox) => {
      const statusUrl = await create(
        sandbox,
        '/report/money/plotseries?momentFrom=2026-03-01%2000:00:00&momentTo=2026-03-02%2023:00:00&interval=hour&async=true',
      );
      const task = await waitForTask(sandbox, statusUrl);
      const result = await sandboxRequest(sandbox, task.resultUrl as string);
      const body = (await rawRequest(result.headers.location as string)).json as { series: unknown[]; credit: number };
      expect(body.series).toHaveLength(48);
      expect(typeof body.credit).toBe('number');
    });
  });

  it('carries X-Lognex-Remap-Beta-Feature: assortmentWithoutStock into the task (no stock fields)', async () => {
    await withSandbox({ rows: 60 }, async (sandbox) => {
      const rowsOf = async (headers: Record<string, string>): Promise<Array<Record<string, unknown>>> => {
        const task = await waitForTask(sandbox, await create(sandbox, '/entity/assortment?async=true', headers));
        const link = (await sandboxRequest(sandbox, task.resultUrl as string)).headers.location as string;
        return ((await rawRequest(link)).json as { rows: Array<Record<string, unknown>> }).rows;
      };
      const legacy = await rowsOf({});
      const beta = await rowsOf({ 'X-Lognex-Remap-Beta-Feature': 'assortmentWithoutStock' });
      expect(legacy.some((r) => 'stock' in r)).toBe(true);
      expect(legacy.filter((r) => (r.meta as { type: string }).type === 'service').every((r) => !('stock' in r))).toBe(
        true,
      );
      expect(beta.some((r) => 'stock' in r || 'quantity' in r || 'reserve' in r)).toBe(false);
      expect(beta.map((r) => r.id)).toEqual(legacy.map((r) => r.id));
    });
  });

  it('61003 after deletionDate (virtual clock), and the storage object is gone too', async () => {
    await withSandbox({}, async (sandbox) => {
      const task = await waitForTask(sandbox, await create(sandbox, '/report/dashboard/month?async=true'));
      const link = (await sandboxRequest(sandbox, task.resultUrl as string)).headers.location as string;
      sandbox.advanceClock(3_600_000 + 1000);
      const gone = await sandboxRequest(sandbox, task.resultUrl as string);
      expect(gone.status).toBe(410);
      expect(gone.json).toMatchObject({ errors: [{ code: 61003 }] });
      // The link itself has expired (5 min) as well.
      expect((await rawRequest(link)).status).toBe(403);
      // The task still reads DONE with its deletionDate.
      expect((await sandboxRequest(sandbox, task.meta ? (task.meta as { href: string }).href : '')).json).toMatchObject(
        { state: 'DONE' },
      );
    });
  });

  it('plot series without momentFrom/momentTo/interval end API_ERROR with 39000; /result answers the original error', async () => {
    await withSandbox({}, async (sandbox) => {
      const statusUrl = await create(
        sandbox,
        '/report/orders/plotseries?momentFrom=2026-03-01&interval=day&async=true',
        { 'Accept-Language': 'en' },
      );
      const task = await waitForTask(sandbox, statusUrl);
      expect(Object.keys(task)).toEqual(['meta', 'id', 'accountId', 'owner', 'state', 'request', 'errors']);
      expect(task).toMatchObject({
        state: 'API_ERROR',
        errors: [{ error: 'Error: required parameter for the indicators request is missing: momentTo', code: 39000 }],
      });
      const result = await sandboxRequest(sandbox, `${statusUrl}/result`);
      expect(result.status).toBe(412);
      expect(result.json).toEqual({ errors: task.errors });
      const badInterval = await waitForTask(
        sandbox,
        await create(
          sandbox,
          '/report/sales/plotseries?momentFrom=2026-03-01&momentTo=2026-03-02&interval=week&async=true',
        ),
      );
      expect(badInterval).toMatchObject({ state: 'API_ERROR', errors: [{ code: 39002 }] });
      expect(
        (await sandboxRequest(sandbox, `${badInterval.meta ? (badInterval.meta as { href: string }).href : ''}/result`))
          .status,
      ).toBe(400);
    });
  });

  it('cancel: 204 for PENDING/PROCESSING, then CANCEL and 61005; 61007 for finished tasks', async () => {
    await withSandbox({ pendingMs: 200 }, async (sandbox) => {
      const statusUrl = await create(sandbox, '/report/stock/all?async=true');
      const cancel = await sandboxRequest(sandbox, `${statusUrl}/cancel`, { method: 'PUT' });
      expect(cancel.status).toBe(204);
      expect(cancel.raw.length).toBe(0);
      expect((await sandboxRequest(sandbox, statusUrl)).json).toMatchObject({ state: 'CANCEL' });
      const result = await sandboxRequest(sandbox, `${statusUrl}/result`);
      expect(result.json).toMatchObject({ errors: [{ code: 61005 }] });
      const again = await sandboxRequest(sandbox, `${statusUrl}/cancel`, { method: 'PUT' });
      expect(again.status).toBe(400);
      expect(again.json).toMatchObject({ errors: [{ code: 61007 }] });
    });
  });
});

describe('GET /async (§2.5)', () => {
  it('filters on state (= OR, != AND), request and deletionDate; orders; pages; meta.size', async () => {
    await withSandbox({ pendingMs: 10, processingMs: 10 }, async (sandbox) => {
      const a = await waitForTask(sandbox, await create(sandbox, '/report/dashboard/day?async=true'));
      sandbox.advanceClock(60_000);
      const b = await waitForTask(sandbox, await create(sandbox, '/report/dashboard/week?async=true'));
      const cUrl = await create(sandbox, '/report/dashboard/month?async=true');
      await sandboxRequest(sandbox, `${cUrl}/cancel`, { method: 'PUT' });
      const errUrl = await create(sandbox, '/report/sales/plotseries?async=true');
      await waitForTask(sandbox, errUrl);
      const list = async (
        query: string,
      ): Promise<{ meta: Record<string, unknown>; rows: Array<Record<string, unknown>> }> => {
        const r = await sandboxRequest(sandbox, `/async${query}`);
        expect(r.status, r.text).toBe(200);
        return r.json as { meta: Record<string, unknown>; rows: Array<Record<string, unknown>> };
      };
      const all = await list('');
      expect(all.meta).toMatchObject({
        href: `${sandbox.baseUrl}/async`,
        type: 'async',
        mediaType: 'application/json',
        size: 4,
        limit: 1000,
        offset: 0,
      });
      expect(all).toHaveProperty('context.employee.meta.type', 'employee');
      expect(all.rows.map((r) => r.state)).toEqual(['DONE', 'DONE', 'CANCEL', 'API_ERROR']);
      expect((await list('?filter=state=DONE')).rows.map((r) => r.id)).toEqual([a.id, b.id]);
      expect((await list('?filter=state=done')).meta.size).toBe(2); // the workbook's lower case
      expect((await list('?filter=state=CANCEL;state=API_ERROR')).meta.size).toBe(2);
      expect((await list('?filter=state!=DONE;state!=CANCEL')).rows.map((r) => r.state)).toEqual(['API_ERROR']);
      expect(
        (await list(`?filter=${encodeURIComponent(`request=${b.request as string}`)}`)).rows.map((r) => r.id),
      ).toEqual([b.id]);
      expect((await list(`?filter=${encodeURIComponent(`request!=${b.request as string}`)}`)).meta.size).toBe(3);
      const aDeletion = a.deletionDate as string;
      expect((await list(`?filter=${encodeURIComponent(`deletionDate=${aDeletion}`)}`)).rows.map((r) => r.id)).toEqual([
        a.id,
      ]);
      expect((await list(`?filter=${encodeURIComponent(`deletionDate>${aDeletion}`)}`)).rows.map((r) => r.id)).toEqual([
        b.id,
      ]);
      expect((await list(`?filter=${encodeURIComponent(`deletionDate>=${aDeletion}`)}`)).meta.size).toBe(2);
      expect((await list(`?filter=${encodeURIComponent(`deletionDate<=${aDeletion}`)}`)).rows.map((r) => r.id)).toEqual(
        [a.id],
      );
      expect((await list(`?filter=${encodeURIComponent(`deletionDate<${aDeletion}`)}`)).meta.size).toBe(0);
      expect(
        (await list(`?filter=${encodeURIComponent(`deletionDate!=${aDeletion};state=DONE`)}`)).rows.map((r) => r.id),
      ).toEqual([b.id]);
      // Date without milliseconds / seconds, as in the docs' examples.
      expect(
        (await list(`?filter=${encodeURIComponent('deletionDate>2026-01-01 00:00:00;state=DONE')}`)).meta.size,
      ).toBe(2);
      expect((await list(`?filter=${encodeURIComponent('deletionDate<2020-01-01 00:00')}`)).meta.size).toBe(0);
      expect((await list('?filter=state=DONE&order=deletionDate,desc')).rows.map((r) => r.id)).toEqual([b.id, a.id]);
      expect((await list('?order=request,desc')).rows.map((r) => r.request)).toEqual(
        all.rows
          .map((r) => r.request as string)
          .sort()
          .reverse(),
      );
      const page = await list('?limit=2&offset=1');
      expect(page.meta).toMatchObject({ size: 4, limit: 2, offset: 1, nextHref: expect.stringContaining('offset=3') });
      expect(page.rows.map((r) => r.id)).toEqual(all.rows.slice(1, 3).map((r) => r.id));
      for (const bad of [
        '?filter=foo=1',
        '?filter=state>DONE',
        '?filter=state=WHATEVER',
        '?order=id',
        '?limit=0',
        '?limit=1001',
        `?filter=${encodeURIComponent('deletionDate>yesterday')}`,
      ]) {
        const r = await sandboxRequest(sandbox, `/async${bad}`);
        expect(r.status, bad).toBe(400);
        expect((r.json as { errors: Array<{ code: number }> }).errors[0]?.code).toBeGreaterThan(1000);
      }
      // Tasks older than a week leave the list (but stay readable by id).
      sandbox.advanceClock(8 * 86_400_000);
      expect((await list('')).meta.size).toBe(0);
      expect((await sandboxRequest(sandbox, (a.meta as { href: string }).href)).status).toBe(200);
    });
  });
});
