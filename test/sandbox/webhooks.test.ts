import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';

interface Received {
  method: string;
  url: URL;
  body: unknown;
  contentType: string | undefined;
}

/** A tiny local receiver; `respond` decides each answer (a status, or 'hang' to never answer). */
function startReceiver(
  respond: (n: number) => number | 'hang' = () => 200,
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        contentType: req.headers['content-type'],
      });
      const answer = respond(received.length);
      if (answer === 'hang') return;
      res.writeHead(answer).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        received,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const post = (sandbox: Sandbox, body: unknown): ReturnType<typeof sandboxRequest> =>
  sandboxRequest(sandbox, '/entity/webhook', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('webhooks (§7)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ queueLimit: 100, webhookTimeoutMs: 100 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('registers, lists, reads, disables and deletes async webhooks', async () => {
    const created = await post(sandbox, {
      url: 'http://example.invalid/hook',
      action: 'PROCESSED',
      entityType: 'async',
    });
    expect(created.status).toBe(200);
    const hook = created.json as Record<string, unknown>;
    expect(hook).toEqual({
      meta: {
        href: `${sandbox.baseUrl}/entity/webhook/${hook.id as string}`,
        metadataHref: `${sandbox.baseUrl}/entity/webhook/metadata`,
        type: 'webhook',
        mediaType: 'application/json',
      },
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      accountId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      entityType: 'async',
      url: 'http://example.invalid/hook',
      method: 'POST',
      enabled: true,
      action: 'PROCESSED',
    });
    const list = await sandboxRequest(sandbox, '/entity/webhook');
    expect(list.json).toMatchObject({ meta: { type: 'webhook', size: 1 }, rows: [{ id: hook.id }] });
    const href = (hook.meta as { href: string }).href;
    expect((await sandboxRequest(sandbox, href)).json).toEqual(hook);
    const disabled = await sandboxRequest(sandbox, href, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: '{"enabled":false}',
    });
    expect(disabled.json).toMatchObject({ enabled: false, url: 'http://example.invalid/hook' });
    const removed = await sandboxRequest(sandbox, href, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect((await sandboxRequest(sandbox, href)).status).toBe(404);
  });

  it('refuses bad registrations with the documented codes', async () => {
    const cases: Array<[unknown, number]> = [
      [{ url: 'http://127.0.0.1:1/a', action: 'CREATE', entityType: 'async' }, 30008],
      [{ url: 'http://127.0.0.1:1/a', action: 'DELETE', entityType: 'async' }, 30008],
      [{ url: 'http://127.0.0.1:1/a', action: 'FINISHED', entityType: 'async' }, 30002],
      [{ url: 'http://127.0.0.1:1/a', action: 'PROCESSED', entityType: 'product' }, 30000],
      [{ url: 'ftp://127.0.0.1/a', action: 'PROCESSED', entityType: 'async' }, 30005],
      [{ url: 'not a url', action: 'PROCESSED', entityType: 'async' }, 30005],
      [{ url: `http://127.0.0.1:1/${'x'.repeat(260)}`, action: 'PROCESSED', entityType: 'async' }, 30010],
      [{ url: 'http://127.0.0.1:1/a', action: 'PROCESSED', entityType: 'async', method: 'GET' }, 30001],
      [{ url: 'http://127.0.0.1:1/a', action: 'PROCESSED', entityType: 'async', diffType: 'FIELDS' }, 30009],
      ['{not json', 2016],
    ];
    for (const [body, code] of cases) {
      const r = await post(sandbox, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json, JSON.stringify(body)).toMatchObject({ errors: [{ code }] });
    }
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(sandbox, { url: `http://127.0.0.1:1/n${i}`, action: 'UPDATE', entityType: 'async' });
      expect(r.status).toBe(200);
      ids.push((r.json as { id: string }).id);
    }
    expect(
      (await post(sandbox, { url: 'http://127.0.0.1:1/n0', action: 'UPDATE', entityType: 'async' })).json,
    ).toMatchObject({ errors: [{ code: 30003 }] });
    expect(
      (await post(sandbox, { url: 'http://127.0.0.1:1/n5', action: 'UPDATE', entityType: 'async' })).json,
    ).toMatchObject({ errors: [{ code: 30007 }] });
    for (const id of ids) await sandboxRequest(sandbox, `/entity/webhook/${id}`, { method: 'DELETE' });
  });

  it('POSTs PROCESSED on the final state and UPDATE on each change, with ?requestId', async () => {
    const receiver = await startReceiver();
    try {
      const processed = (await post(sandbox, { url: receiver.url, action: 'PROCESSED', entityType: 'async' })).json as {
        id: string;
      };
      const update = (
        await post(sandbox, {
          url: `${receiver.url}?kind=update`,
          action: 'UPDATE',
          entityType: 'async',
          diffType: 'FIELDS',
        })
      ).json as { id: string };
      const created = await sandboxRequest(sandbox, '/report/dashboard/day?async=true');
      const statusUrl = created.headers['content-location'] as string;
      await waitForTask(sandbox, statusUrl);
      await until(() => receiver.received.length >= 3);
      const events = receiver.received.map(
        (r): Record<string, unknown> => ({
          ...(r.body as { events: Array<Record<string, unknown>> }).events[0],
          path: r.url.pathname,
        }),
      );
      for (const r of receiver.received) {
        expect(r.method).toBe('POST');
        expect(r.contentType).toMatch(/^application\/json/);
        expect(r.url.searchParams.get('requestId')).toMatch(/^[0-9a-f-]{36}$/);
      }
      const processedEvents = events.filter((e) => e.action === 'PROCESSED');
      expect(processedEvents).toEqual([
        { meta: { type: 'async', href: statusUrl }, action: 'PROCESSED', accountId: expect.any(String), path: '/hook' },
      ]);
      const updates = events.filter((e) => e.action === 'UPDATE');
      expect(updates.map((e) => e.updatedFields)).toEqual([['state'], ['state', 'resultUrl', 'deletionDate']]);
      expect(receiver.received.filter((r) => r.url.searchParams.get('kind') === 'update')).toHaveLength(2);
      // Disabled hooks stay silent.
      await sandboxRequest(sandbox, `/entity/webhook/${update.id}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: '{"enabled":false}',
      });
      const before = receiver.received.length;
      const cancelled = await sandboxRequest(sandbox, '/report/dashboard/week?async=true');
      await sandboxRequest(sandbox, `${cancelled.headers['content-location'] as string}/cancel`, { method: 'PUT' });
      await until(() => receiver.received.length === before + 1);
      expect(receiver.received[before]?.body).toMatchObject({ events: [{ action: 'PROCESSED' }] });
      await sandboxRequest(sandbox, `/entity/webhook/${processed.id}`, { method: 'DELETE' });
      await sandboxRequest(sandbox, `/entity/webhook/${update.id}`, { method: 'DELETE' });
    } finally {
      await receiver.close();
    }
  });

  it('retries up to 3 more times with the same requestId on errors and timeouts', async () => {
    const failing = await startReceiver((n) => (n < 3 ? 500 : 204));
    const hanging = await startReceiver(() => 'hang');
    try {
      const a = (await post(sandbox, { url: failing.url, action: 'PROCESSED', entityType: 'async' })).json as {
        id: string;
      };
      const b = (await post(sandbox, { url: hanging.url, action: 'PROCESSED', entityType: 'async' })).json as {
        id: string;
      };
      const created = await sandboxRequest(sandbox, '/report/dashboard/month?async=true');
      await waitForTask(sandbox, created.headers['content-location'] as string);
      await until(() => failing.received.length === 3 && hanging.received.length === 4);
      await new Promise((r) => setTimeout(r, 250));
      expect(failing.received).toHaveLength(3);
      expect(hanging.received).toHaveLength(4);
      for (const receiver of [failing, hanging]) {
        expect(new Set(receiver.received.map((r) => r.url.searchParams.get('requestId'))).size).toBe(1);
      }
      const log = sandbox.webhookDeliveries.filter((d) => d.webhookId === b.id);
      expect(log.map((d) => [d.attempt, d.status])).toEqual([
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
      ]);
      expect(sandbox.webhookDeliveries.filter((d) => d.webhookId === a.id).map((d) => d.status)).toEqual([
        500, 500, 204,
      ]);
      await sandboxRequest(sandbox, `/entity/webhook/${a.id}`, { method: 'DELETE' });
      await sandboxRequest(sandbox, `/entity/webhook/${b.id}`, { method: 'DELETE' });
    } finally {
      await failing.close();
      await hanging.close();
    }
  });

  it('never sends anything off loopback: such deliveries are only logged', async () => {
    const hook = (
      await post(sandbox, { url: 'https://some_url.example/hook', action: 'PROCESSED', entityType: 'async' })
    ).json as { id: string };
    const created = await sandboxRequest(sandbox, '/report/dashboard/day?async=true');
    await waitForTask(sandbox, created.headers['content-location'] as string);
    await until(() => sandbox.webhookDeliveries.some((d) => d.webhookId === hook.id));
    expect(sandbox.webhookDeliveries.filter((d) => d.webhookId === hook.id).map((d) => d.status)).toEqual([-1]);
  });
});
