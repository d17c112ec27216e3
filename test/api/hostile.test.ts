/**
 * The client against a hostile server of our own (issue 14): redirects, stalls, trickles, bombs
 * and odd answers end in clear errors, within deadlines, without the token going anywhere else.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClientOptions } from '../../src/api/client.js';
import { NetworkError, TimeoutError } from '../../src/errors.js';
import { pollTask } from '../../src/poller/poll.js';
import { sendJson, startHostileServer, taskObject, type HostileServer } from '../helpers/hostile-server.js';
import { runCli } from '../helpers/test-io.js';

const TOKEN = 'tok-HOSTILE-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const TASK_ID = '5d2b7e40-1c9a-11f0-0a80-0b4c00000012';
const servers: HostileServer[] = [];
let logs: string[] = [];

async function server(...args: Parameters<typeof startHostileServer>): Promise<HostileServer> {
  const s = await startHostileServer(...args);
  servers.push(s);
  return s;
}

function client(base: string, options: Partial<ApiClientOptions> = {}) {
  return createApiClient({
    baseUrl: base,
    auth: { kind: 'bearer', token: TOKEN },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    onLog: (line) => logs.push(line),
    ...options,
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  expect(logs.join('\n')).not.toContain(TOKEN);
  logs = [];
});

describe("redirects: the token never leaves the base URL's origin", () => {
  it('a redirect to another port is not followed: the other origin sees nothing, exit 7', async () => {
    const other = await server((_req, res) => sendJson(res, 200, { stolen: true }));
    const api = await server((_req, res) => {
      res.writeHead(302, { location: `${other.url}/api/remap/1.2/context/employee` });
      res.end();
    });
    const error = await client(`${api.url}/api/remap/1.2`)
      .getEmployee()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expect((error as Error).message).toContain(`to ${other.url}`);
    expect(other.requests).toHaveLength(0);
    expect(api.requests).toHaveLength(1); // not retried either
    expect(logs.join('\n')).toMatch(
      /redirected to http:\/\/127\.0\.0\.1:\d+\/api\/remap\/1\.2\/context\/employee \(not followed\)/,
    );
  });

  it('a redirect to another scheme on the same host and port (got would keep Authorization) is not followed', async () => {
    const api = await server((req, res) => {
      res.writeHead(301, { location: `https://127.0.0.1:${api.port}${req.url}` });
      res.end();
    });
    const error = await client(`${api.url}/api/remap/1.2`)
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain(`https://127.0.0.1:${api.port}`);
    // One request, one connection: no TLS hello came back to the same port.
    expect(api.requests).toHaveLength(1);
    expect(api.connections()).toBe(1);
  });

  it('a redirect to file:// or without Location ends with a clear error', async () => {
    const api = await server((_req, res) => {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    });
    const error = await client(`${api.url}/api/remap/1.2`)
      .listTasks()
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('no usable http(s) Location');
  });

  it('a same-origin 308 (§10.4) is followed, with Authorization, once', async () => {
    const api = await server((req, res) => {
      if (req.url === '/api/remap/1.2/context/employee') {
        res.writeHead(308, { location: '/api/remap/1.2/context/employee2' });
        res.end();
        return;
      }
      sendJson(res, 200, { id: 'e' });
    });
    await expect(client(`${api.url}/api/remap/1.2`).getEmployee()).resolves.toEqual({ id: 'e' });
    expect(api.requests.map((r) => r.url)).toEqual([
      '/api/remap/1.2/context/employee',
      '/api/remap/1.2/context/employee2',
    ]);
    expect(api.requests[1]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('the /result 302 to storage is handed over, not followed, and -v says so without the signature', async () => {
    const storage = await server((_req, res) => sendJson(res, 200, { rows: [] }));
    const api = await server((_req, res) => {
      res.writeHead(302, { location: `${storage.url}/batch/x?temp_url_sig=abc123secret&temp_url_expires=1` });
      res.end();
    });
    const link = await client(`${api.url}/api/remap/1.2`).getResultLink(TASK_ID);
    expect(link).toBe(`${storage.url}/batch/x?temp_url_sig=abc123secret&temp_url_expires=1`);
    expect(storage.requests).toHaveLength(0);
    const text = logs.join('\n');
    expect(text).toContain(`result link ${storage.url}/batch/x?… (fetched without Authorization)`);
    expect(text).not.toContain('abc123secret');
  });

  it('`export` through a redirecting API: exit 7, the other origin untouched, the token nowhere', async () => {
    const other = await server((_req, res) => sendJson(res, 202, {}));
    const api = await server((req, res) => {
      res.writeHead(302, { location: `${other.url}${req.url}` });
      res.end();
    });
    const run = await runCli(['export', 'stock-all', '--out', '-', '--format', 'ndjson'], {
      env: { MS_BASE_URL: `${api.url}/api/remap/1.2`, MS_TOKEN: TOKEN },
    });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('not followed');
    expect(run.stderr).not.toContain('may have been created');
    expect(run.stdout).toBe('');
    expect(other.requests).toHaveLength(0);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });
});

/** A poll of TASK_ID on `base` with `timeoutMs`, real clock, short sleeps; resolves to [error, ms taken]. */
async function pollFor(
  base: string,
  timeoutMs: number,
  options: Partial<ApiClientOptions> = {},
): Promise<[unknown, number]> {
  const c = client(base, options);
  const started = Date.now();
  const error = await pollTask((signal, deadline) => c.getTask(TASK_ID, { signal, deadline }), {
    timeoutMs,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
  }).catch((e: unknown) => e);
  return [error, Date.now() - started];
}

describe('deadlines: --timeout bounds the wait whatever the server does', () => {
  it('a status answer with headers and no body: --timeout 800 ms ends it (exit 6), though the request deadlines are long', async () => {
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders(); // …and never a byte of body
    });
    const [error, ms] = await pollFor(`${api.url}/api/remap/1.2`, 800);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).exitCode).toBe(6);
    expect((error as Error).message).toMatch(
      /^gave up waiting after 1s: --timeout reached while waiting for the answer/,
    );
    expect(ms).toBeLessThan(3000);
  });

  it('a request that never answers: the header deadline fires and it is tried twice, not five times', async () => {
    const api = await server(() => {});
    const started = Date.now();
    const error = await client(`${api.url}/api/remap/1.2`, { responseTimeoutMs: 300 })
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain('ETIMEDOUT');
    expect(api.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(logs.join('\n')).toMatch(/timed out \(response\)/);
  });

  it('a body with headers sent and then silence: the idle deadline fires', async () => {
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    });
    const error = await client(`${api.url}/api/remap/1.2`, { idleTimeoutMs: 250, maxRetries: 0 })
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(logs.join('\n')).toMatch(/timed out \(socket\)/);
  });

  it('a body trickling a byte at a time (never idle) is cut by the whole-answer deadline', async () => {
    const body = JSON.stringify(taskObject('http://x', TASK_ID));
    const timers: NodeJS.Timeout[] = [];
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let at = 0;
      const timer = setInterval(() => (at < body.length ? res.write(body[at++] ?? '') : res.end()), 40);
      timers.push(timer);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await client(`${api.url}/api/remap/1.2`, { idleTimeoutMs: 200, answerTimeoutMs: 400, maxRetries: 0 })
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    timers.forEach(clearInterval);
    expect(error).toBeInstanceOf(NetworkError);
    expect(logs.join('\n')).toMatch(/timed out \(request\)/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('X-Lognex-Reset of a day or 1e12 with nothing remaining: pauses are capped, never a timer overflow', async () => {
    for (const reset of ['86400000', '1e12']) {
      const api = await server((_req, res) =>
        sendJson(res, 200, taskObject('http://x', TASK_ID), {
          'x-ratelimit-remaining': '0',
          'x-lognex-reset': reset,
          'x-lognex-retry-timeinterval': '3000',
        }),
      );
      const sleeps: number[] = [];
      let skipped = 0; // a virtual clock: each sleep moves it on at once
      const c = client(`${api.url}/api/remap/1.2`, {
        now: () => Date.now() + skipped,
        sleep: (ms) => {
          sleeps.push(ms);
          skipped += ms;
          return Promise.resolve();
        },
      });
      await c.getTask(TASK_ID);
      await c.getTask(TASK_ID);
      expect(sleeps.length).toBeGreaterThan(0);
      for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(60_000);
    }
  });

  it('a 429 asking for a day, under --timeout: exit 6 at once, no pause beyond the deadline', async () => {
    const api = await server((_req, res) =>
      sendJson(
        res,
        429,
        { errors: [{ error: 'limit', code: 1049 }] },
        {
          'x-lognex-retry-after': '86400000',
          'x-ratelimit-remaining': '0',
          'x-lognex-reset': '86400000',
        },
      ),
    );
    const sleeps: number[] = [];
    const [error, ms] = await pollFor(`${api.url}/api/remap/1.2`, 2000, {
      sleep: (wish) => {
        sleeps.push(wish);
        return new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    expect(error).toBeInstanceOf(TimeoutError);
    expect(ms).toBeLessThan(1500);
    expect(sleeps.every((wish) => wish <= 2000)).toBe(true);
  });

  it('`status --wait --timeout 1` against a stalled API ends with exit 6 in about a second', async () => {
    const api = await server(() => {});
    const started = Date.now();
    const run = await runCli(['status', TASK_ID, '--wait', '--timeout', '1'], {
      env: { MS_BASE_URL: `${api.url}/api/remap/1.2`, MS_TOKEN: TOKEN },
    });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('--timeout reached');
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('bombs: decoded sizes are capped where the answer must be small', () => {
  it('a 2 MB gzip bomb (2 GiB decoded) to /async/{id} ends in a clear error (exit 7) with memory bounded', async () => {
    // 32 gzip members of 64 MiB of spaces each: about 2 MB on the wire, 2 GiB decoded.
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    const bomb = Buffer.concat([gzipSync('{"id":"'), ...Array.from({ length: 32 }, () => member)]);
    expect(bomb.length).toBeGreaterThan(1_000_000);
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    const before = process.memoryUsage().rss;
    const error = await client(`${api.url}/api/remap/1.2`)
      .getTask(TASK_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expect((error as Error).message).toMatch(/over 8 MiB decoded/);
    expect(api.requests).toHaveLength(1); // not fetched again
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('an answer just under the cap is read', async () => {
    const api = await server((_req, res) =>
      sendJson(res, 200, taskObject('http://x', TASK_ID, { pad: 'x'.repeat(900_000) })),
    );
    const task = await client(`${api.url}/api/remap/1.2`, { maxAnswerBytes: 1_000_000 }).getTask(TASK_ID);
    expect(task.id).toBe(TASK_ID);
  });
});
