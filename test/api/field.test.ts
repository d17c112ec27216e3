/**
 * Field facts of docs/api-facts.md §10 in the client (issue 10 item 1): the parallel-limit 429
 * with `X-Lognex-Auth: 429005` and `{}`, a bare 429, X-Lognex-Precision, the older API's 204 at
 * creation and 200 from /result, and permission errors told apart from login problems.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClientOptions } from '../../src/api/client.js';
import { ApiError, AuthError, NetworkError } from '../../src/errors.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { parseFaultSpec } from '../../src/sandbox/faults.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { sendJson, startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
import { runCli } from '../helpers/test-io.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKEN = 'tok-FIELD-99887766554433221100ffeeddccbbaa00';
const ID = '7e11f3a2-1c9b-11f0-0a80-0b4c00000020';
let sb: Sandbox;
let sleeps: number[];
let skipped = 0;
let logs: string[];
const hostile: HostileServer[] = [];

function client(base: string, options: Partial<ApiClientOptions> = {}) {
  return createApiClient({
    baseUrl: base,
    auth: { kind: 'bearer', token: TOKEN },
    onLog: (l) => logs.push(l),
    // A virtual clock: each sleep moves it on by what it skipped, so pauses end as if waited.
    now: () => Date.now() + skipped,
    sleep: (ms) => {
      sleeps.push(ms);
      skipped += Math.max(0, ms - 5);
      // Until Date.now() has moved on by the real part: a timer may fire up to a millisecond early
      // by that clock, and the limiter would then wait once more for the last millisecond.
      const until = Date.now() + Math.min(ms, 5);
      return new Promise<void>((resolve) => {
        const tick = (): void => {
          const left = until - Date.now();
          if (left > 0) setTimeout(tick, left);
          else resolve();
        };
        setTimeout(tick, Math.min(ms, 5));
      });
    },
    ...options,
  });
}

beforeEach(async () => {
  sb = await startTestSandbox({ token: TOKEN });
  sleeps = [];
  skipped = 0;
  logs = [];
});
afterEach(async () => {
  await sb.close();
  await Promise.all(hostile.splice(0).map((s) => s.close()));
  expect(logs.join('\n')).not.toContain(TOKEN);
});

describe('429s as the field sends them', () => {
  it('the sandbox sends the 429005 and bare forms on request', () => {
    expect(parseFaultSpec('status429=2+1:parallel')).toEqual({ status429: { at: 2, count: 2, form: 'parallel' } });
    expect(parseFaultSpec('status429=1:bare')).toEqual({ status429: { at: 1, count: 1, form: 'bare' } });
    expect(() => parseFaultSpec('status429=1:teapot')).toThrow(/one of rate, parallel, bare/);
  });

  it('X-Lognex-Auth: 429005 with `{}` and no Retry-After is the parallel limit: fewer slots, a pause, then success', async () => {
    sb.setFaults({ status429: { at: 1, count: 2, form: 'parallel' } });
    const c = client(sb.baseUrl);
    await expect(c.getEmployee()).resolves.toBeTruthy();
    const statuses = sb.requests.map((r) => r.status);
    expect(statuses).toEqual([429, 429, 200]);
    expect(c.limiter.limit).toBe(3); // lowered once per refusal, back up after successes
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(500);
    expect(logs.join('\n')).toContain('429 too many parallel requests');
  });

  it('the lowered limit creeps back up after a run of successes', async () => {
    sb.setFaults({ status429: { at: 1, form: 'parallel' } });
    const c = client(sb.baseUrl);
    await c.getEmployee();
    expect(c.limiter.limit).toBe(4);
    for (let i = 0; i < 20; i += 1) await c.getEmployee();
    expect(c.limiter.limit).toBe(5);
  });

  it('a bare 429 (no header, no code) backs off, longer each time: no hot loop', async () => {
    sb.setFaults({ status429: { at: 1, count: 4, form: 'bare' } });
    const c = client(sb.baseUrl);
    await expect(c.getEmployee()).resolves.toBeTruthy();
    expect(sb.requests).toHaveLength(5);
    expect(sleeps).toHaveLength(4);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
    for (let i = 1; i < sleeps.length; i += 1) expect(sleeps[i]).toBeGreaterThan(sleeps[i - 1]!);
  });

  it('a 429005 that never ends: exit 7 saying it is the parallel limit, after a bounded number of tries', async () => {
    sb.setFaults({ status429: { at: 1, count: 100, form: 'parallel' } });
    const error = await client(sb.baseUrl)
      .getEmployee()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain('too many parallel requests');
    expect(sb.requests.length).toBeLessThanOrEqual(9);
  });
});

describe('X-Lognex-Precision (--precise-money, or the stored precise-money)', () => {
  let configDir: string;
  beforeEach(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'ms-async-precise-'));
  });
  afterEach(async () => {
    await rm(configDir, { recursive: true, force: true });
  });
  const creations = () => sb.requests.filter((r) => /[?&]async=true/.test(r.url));
  const cli = (argv: string[]) => runCli(argv, { configDir, env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN } });

  it('is off by default, on with the flag, and on with the stored setting', async () => {
    expect((await cli(['start', 'stock-all'])).code).toBe(0);
    expect((await cli(['--precise-money', 'start', 'stock-all'])).code).toBe(0);
    expect((await cli(['config', 'set', 'precise-money', 'on'])).code).toBe(0);
    expect((await cli(['config', 'get', 'precise-money'])).stdout).toBe('true\n');
    expect((await cli(['start', 'stock-all'])).code).toBe(0);
    expect(creations().map((r) => r.headers['x-lognex-precision'])).toEqual([undefined, 'true', 'true']);
    const bad = await cli(['config', 'set', 'precise-money', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('precise-money is true or false');
  });
});

describe('the older API (docs/api-facts.md §10.7)', () => {
  async function server(...args: Parameters<typeof startHostileServer>) {
    const s = await startHostileServer(...args);
    hostile.push(s);
    return s;
  }

  it('a 204 at creation with the task URLs (swapped, as before 2021) is a created task', async () => {
    const api = await server((_req, res) => {
      res.writeHead(204, { location: `${api.url}/async/${ID}`, 'content-location': `${api.url}/async/${ID}/result` });
      res.end();
    });
    const created = await client(api.url).createTask('/report/stock/all');
    expect(created).toMatchObject({
      id: ID,
      statusUrl: `${api.url}/async/${ID}`,
      resultUrl: `${api.url}/async/${ID}/result`,
    });
  });

  it('a 204 without any task URL is an error that says what arrived', async () => {
    const api = await server((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const error = await client(api.url)
      .createTask('/report/stock/all')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toContain('204 No Content with no task URL');
    expect((error as ApiError).hint).toContain('ms-async list');
  });

  it('a 200 with the result in the body from /result: an error that says so, the body not read', async () => {
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"rows":[');
      // …and the rest never comes: the client must not wait for it.
    });
    const error = await client(api.url, { idleTimeoutMs: 5000 })
      .getResultLink(ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/with 200 and a body instead of a 302 .*older API behaviour/);
  });
});

describe('the older API played by the sandbox (--fault legacy-async)', () => {
  it('`export`: the 204 creation is followed to DONE; the 200 from /result is exit 7 saying what arrived', async () => {
    sb.setFaults({ legacyAsync: true });
    const run = await runCli(['export', 'stock-all', '--out', '-', '--format', 'ndjson'], {
      env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN },
      realCapMs: 10,
    });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('with 200 and a body instead of a 302');
    expect(run.stdout).toBe('');
    const creations = sb.requests.filter((r) => /[?&]async=true/.test(r.url));
    expect(creations.map((r) => r.status)).toEqual([204]); // created once, not again
    expect(sb.requests.some((r) => /\/async\/[^/]+$/.test(new URL(r.url).pathname) && r.status === 200)).toBe(true);
  });
});

describe("permissions are the user's, not a login problem", () => {
  it('a 403 with 1016: exit 3, "permission refused", the hint names the rights and not `ms-async login`', async () => {
    const api = await startHostileServer((_req, res) =>
      sendJson(res, 403, { errors: [{ error: 'Доступ запрещен', code: 1016 }] }),
    );
    hostile.push(api);
    const error = await client(api.url)
      .getTask(ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(/^permission refused: the user may not do this/);
    expect((error as AuthError).hint).toContain('administrator');
    expect((error as AuthError).hint).not.toContain('ms-async login');
  });

  it('a 401 stays a login problem', async () => {
    const api = await startHostileServer((_req, res) =>
      sendJson(res, 401, { errors: [{ error: 'Ошибка аутентификации', code: 1056 }] }),
    );
    hostile.push(api);
    const error = await client(api.url)
      .getTask(ID)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^authentication failed/);
    expect((error as AuthError).hint).toContain('ms-async login');
  });

  it('a task ending API_ERROR with 1016: exit 3 and the permission hint', async () => {
    sb.setFaults({ taskOutcome: 'API_ERROR_AUTH' });
    const run = await runCli(['export', 'stock-all', '--out', '-', '--format', 'ndjson'], {
      env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN },
      realCapMs: 10,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/permission refused/);
    expect(run.stderr).toContain('administrator');
    expect(run.stderr).not.toContain('ms-async login');
  });
});
