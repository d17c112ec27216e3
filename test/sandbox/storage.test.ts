import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { throttle } from '../../src/sandbox/core.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { rawRequest, sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';

/** A DONE stock task and a fresh storage link to its result. */
async function doneLink(sandbox: Sandbox): Promise<string> {
  const created = await sandboxRequest(sandbox, '/report/stock/bystore?async=true');
  const task = await waitForTask(sandbox, created.headers['content-location'] as string);
  const result = await sandboxRequest(sandbox, task.resultUrl as string);
  expect(result.status).toBe(302);
  return result.headers.location as string;
}

async function withStorage(
  options: Partial<SandboxOptions>,
  body: (sandbox: Sandbox, link: string) => Promise<void>,
): Promise<void> {
  const sandbox = await startTestSandbox({ rows: 200, ...options });
  try {
    await body(sandbox, await doneLink(sandbox));
  } finally {
    await sandbox.close();
  }
}

describe('storage origin (§2.7, §9.1)', () => {
  it('serves the file without Authorization, with Content-Length, type, disposition, and Range 206/416', async () => {
    await withStorage({}, async (sandbox, link) => {
      const whole = await rawRequest(link);
      expect(whole.status).toBe(200);
      const size = whole.raw.length;
      expect(whole.headers['content-length']).toBe(String(size));
      expect(whole.headers['content-type']).toBe('application/json');
      expect(whole.headers['content-encoding']).toBeUndefined();
      expect(whole.headers['accept-ranges']).toBe('bytes');
      expect(whole.headers['content-disposition']).toMatch(
        /^attachment; filename="asynctask_[0-9a-f-]{36}_result\.json"$/,
      );
      expect(JSON.parse(whole.text)).toHaveProperty('meta.size', 200);
      const storageRequests = sandbox.requests.filter((r) => r.origin === 'storage');
      expect(storageRequests.length).toBeGreaterThan(0);
      expect(storageRequests.every((r) => !('authorization' in r.headers))).toBe(true);
      const apiRequests = sandbox.requests.filter((r) => r.origin === 'api');
      expect(apiRequests[0]?.headers.authorization).toBe('Bearer ***');

      const tail = await rawRequest(link, { headers: { Range: 'bytes=1000-' } });
      expect(tail.status).toBe(206);
      expect(tail.headers['content-range']).toBe(`bytes 1000-${size - 1}/${size}`);
      expect(tail.headers['content-length']).toBe(String(size - 1000));
      expect(tail.raw.equals(whole.raw.subarray(1000))).toBe(true);
      const middle = await rawRequest(link, { headers: { Range: 'bytes=10-19' } });
      expect(middle.status).toBe(206);
      expect(middle.raw.equals(whole.raw.subarray(10, 20))).toBe(true);
      const beyond = await rawRequest(link, { headers: { Range: `bytes=${size}-` } });
      expect(beyond.status).toBe(416);
      expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
      const head = await rawRequest(link, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe(String(size));
    });
  });

  it('answers 403 with an XML body for forged and expired links', async () => {
    await withStorage({}, async (sandbox, link) => {
      const forged = new URL(link);
      const sig = forged.searchParams.get('temp_url_sig') as string;
      forged.searchParams.set('temp_url_sig', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
      const bad = await rawRequest(forged.toString());
      expect(bad.status).toBe(403);
      expect(bad.headers['content-type']).toBe('application/xml');
      expect(bad.text).toContain('<Code>AccessDenied</Code>');
      const longer = new URL(link);
      longer.searchParams.set('temp_url_expires', String(Number(longer.searchParams.get('temp_url_expires')) + 3600));
      expect((await rawRequest(longer.toString())).status).toBe(403);
      // Another object under the same signature: the signature covers the path.
      const otherObject = link.replace(
        /apiasynctaskresult\/([0-9a-f])/,
        (_m, c: string) => `apiasynctaskresult/${c === '0' ? '1' : '0'}`,
      );
      expect(otherObject).not.toBe(link);
      expect((await rawRequest(otherObject)).status).toBe(403);
      sandbox.advanceClock(5 * 60_000 + 1000);
      const expired = await rawRequest(link);
      expect(expired.status).toBe(403);
      expect(expired.text).toContain('expired');
    });
  });

  it('honours the switches: range off, no Content-Length, gzip, negotiated gzip, content type', async () => {
    await withStorage(
      { storage: { gzip: false, range: false, contentLength: false, contentType: 'application/octet-stream' } },
      async (_s, link) => {
        const r = await rawRequest(link, { headers: { Range: 'bytes=10-' } });
        expect(r.status).toBe(200);
        expect(r.headers['content-length']).toBeUndefined();
        expect(r.headers['transfer-encoding']).toBe('chunked');
        expect(r.headers['accept-ranges']).toBeUndefined();
        expect(r.headers['content-type']).toBe('application/octet-stream');
        expect(() => JSON.parse(r.text)).not.toThrow();
      },
    );
    await withStorage({ storage: { gzip: true, range: true, contentLength: true } }, async (_s, link) => {
      const r = await rawRequest(link);
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['content-length']).toBe(String(r.raw.length));
      expect(JSON.parse(r.text)).toHaveProperty('rows');
      // Ranges apply to the gzip bytes.
      const part = await rawRequest(link, { headers: { Range: 'bytes=100-' } });
      expect(part.status).toBe(206);
      expect(Buffer.concat([r.raw.subarray(0, 100), part.raw]).equals(r.raw)).toBe(true);
      expect(gunzipSync(Buffer.concat([r.raw.subarray(0, 100), part.raw])).toString()).toBe(r.text);
    });
    await withStorage({ storage: { gzip: 'negotiate', range: true, contentLength: true } }, async (_s, link) => {
      expect((await rawRequest(link)).headers['content-encoding']).toBeUndefined();
      expect((await rawRequest(link, { headers: { 'Accept-Encoding': 'gzip' } })).headers['content-encoding']).toBe(
        'gzip',
      );
    });
  });

  it('throttles downloads with storage.bytesPerSecond', async () => {
    await withStorage(
      { rows: 20, storage: { gzip: false, range: true, contentLength: true, bytesPerSecond: 100_000 } },
      async (_s, link) => {
        const started = Date.now();
        const r = await rawRequest(link);
        const elapsed = Date.now() - started;
        expect(r.raw.length).toBeGreaterThan(20_000);
        expect(elapsed).toBeGreaterThanOrEqual((r.raw.length / 100_000) * 1000 * 0.7);
      },
    );
  });

  it('a throttle keeps to the asked rate, also at speeds above one read per timer tick', async () => {
    // 16 MB at 400 MB/s is 40 ms: 256 reads of 64 KiB. A sleep per read (a timer: 1 ms at least)
    // takes 256 ms or more; the schedule by bytes sent catches up after a late timer.
    const bytes = 16_000_000;
    const started = performance.now();
    let got = 0;
    for await (const piece of Readable.from(chunks(bytes, 65_536)).pipe(throttle(400_000_000))) got += piece.length;
    const elapsed = performance.now() - started;
    expect(got).toBe(bytes);
    expect(elapsed).toBeGreaterThanOrEqual(38);
    expect(elapsed).toBeLessThan(160);
  });
});

function* chunks(total: number, size: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 0x61);
}
