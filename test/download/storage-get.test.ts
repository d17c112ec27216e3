/** The storage GET against servers of our own: framing (length, chunked, close), redirects, deadlines. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { storageGet, type StorageAnswer } from '../../src/download/storage-get.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw TCP server that writes `answer` and closes (for framings node:http would not send). */
async function rawServe(answer: string): Promise<string> {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end(answer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const OPTIONS = { headers: {}, headersMs: 2000, idleMs: 2000 };

async function body(answer: StorageAnswer): Promise<string> {
  const parts: Buffer[] = [];
  await answer.readBody((b) => {
    parts.push(Buffer.from(b)); // the view is valid only during the call
  });
  return Buffer.concat(parts).toString('utf8');
}

describe('storageGet', () => {
  const big = 'абв{}'.repeat(50_000); // ~450 kB: many socket reads

  it('reads a Content-Length body exactly, with the request headers sent as given', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const base = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(big), ETag: '"v1"' });
      res.end(big);
    });
    const answer = await storageGet(`${base}/o?sig=1`, { ...OPTIONS, headers: { range: 'bytes=0-' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.etag).toBe('"v1"');
    expect(await body(answer)).toBe(big);
    expect(seen.range).toBe('bytes=0-');
    expect(seen.authorization).toBeUndefined();
  });

  it('decodes chunked bodies, and a body delimited by the end of the connection', async () => {
    const chunkedBase = await serve((_req, res) => {
      res.writeHead(200); // no Content-Length: node sends it chunked
      for (let i = 0; i < 10; i += 1) res.write(big.slice(i * 25_000, (i + 1) * 25_000));
      res.end(big.slice(250_000));
    });
    expect(await body(await storageGet(`${chunkedBase}/o`, OPTIONS))).toBe(big);
    const closeBase = await rawServe('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"rows":[]}');
    expect(await body(await storageGet(`${closeBase}/o`, OPTIONS))).toBe('{"rows":[]}');
  });

  it('a body that pauses the socket (a promise) still arrives whole and in order', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(big) });
      res.end(big);
    });
    const answer = await storageGet(`${base}/o`, OPTIONS);
    const parts: Buffer[] = [];
    await answer.readBody(async (b) => {
      const copy = Buffer.from(b);
      await new Promise((r) => setTimeout(r, 1));
      parts.push(copy);
    });
    expect(Buffer.concat(parts).toString('utf8')).toBe(big);
  });

  it('follows redirects to http, refuses one to file://', async () => {
    const target = await serve((_req, res) => res.end('ok'));
    const hop = await serve((_req, res) => {
      res.writeHead(302, { Location: `${target}/final` });
      res.end();
    });
    expect(await body(await storageGet(`${hop}/o`, OPTIONS))).toBe('ok');
    const evil = await serve((_req, res) => {
      res.writeHead(302, { Location: 'file:///etc/passwd' });
      res.end();
    });
    await expect(storageGet(`${evil}/o`, OPTIONS)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_PROTOCOL' });
  });

  it('a body cut before its Content-Length rejects; headers that never come hit the deadline', async () => {
    const cut = await rawServe('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"rows":[');
    const answer = await storageGet(`${cut}/o`, OPTIONS);
    await expect(body(answer)).rejects.toMatchObject({ code: 'ECONNRESET' });
    const silent = await serve(() => {
      /* never answers */
    });
    const started = Date.now();
    await expect(storageGet(`${silent}/o`, { ...OPTIONS, headersMs: 200 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
