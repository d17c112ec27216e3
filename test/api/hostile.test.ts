/**
 * The client against a hostile server of our own (issue 14): redirects, stalls, trickles, bombs
 * and odd answers end in clear errors, within deadlines, without the token going anywhere else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClientOptions } from '../../src/api/client.js';
import { NetworkError } from '../../src/errors.js';
import { sendJson, startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
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

describe('redirects: the token never leaves the base URL\'s origin', () => {
  it('a redirect to another port is not followed: the other origin sees nothing, exit 7', async () => {
    const other = await server((_req, res) => sendJson(res, 200, { stolen: true }));
    const api = await server((_req, res) => {
      res.writeHead(302, { location: `${other.url}/api/remap/1.2/context/employee` });
      res.end();
    });
    const error = await client(`${api.url}/api/remap/1.2`).getEmployee().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expect((error as Error).message).toContain(`to ${other.url}`);
    expect(other.requests).toHaveLength(0);
    expect(api.requests).toHaveLength(1); // not retried either
    expect(logs.join('\n')).toMatch(/redirected to http:\/\/127\.0\.0\.1:\d+\/api\/remap\/1\.2\/context\/employee \(not followed\)/);
  });

  it('a redirect to another scheme on the same host and port (got would keep Authorization) is not followed', async () => {
    const api = await server((req, res) => {
      res.writeHead(301, { location: `https://127.0.0.1:${api.port}${req.url}` });
      res.end();
    });
    const error = await client(`${api.url}/api/remap/1.2`).getTask(TASK_ID).catch((e: unknown) => e);
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
    const error = await client(`${api.url}/api/remap/1.2`).listTasks().catch((e: unknown) => e);
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
    expect(api.requests.map((r) => r.url)).toEqual(['/api/remap/1.2/context/employee', '/api/remap/1.2/context/employee2']);
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

