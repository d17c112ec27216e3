/** `ms-async doctor` against the sandbox: a good token, a refused one, no credentials, no API. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/core/doctor.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-doctor-8d1e5b7a2c9f4e0a';

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function line(stdout: string, name: string): string {
  return stdout.split('\n').find((l) => l.includes(` ${name}:`)) ?? `(no ${name} line in: ${stdout})`;
}

describe('doctor', () => {
  const t = useCliSandbox(TOKEN, 'doctor', { login: 'ivan@shop', password: 'doctor-pass-4471' });

  it('with a good token: every check passes, the source is named and the secret is not', async () => {
    const r = await t.cli(['doctor']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(line(r.stdout, 'credentials')).toMatch(/^ok\s+credentials: token from MS_TOKEN; base URL from MS_BASE_URL$/);
    expect(line(r.stdout, 'api')).toContain(`${t.sb.baseUrl} answers (HTTP 200`);
    expect(line(r.stdout, 'token')).toMatch(/^ok\s+token:\s+accepted \(.+\)$/);
    expect(line(r.stdout, 'rate-limit')).toMatch(/^ok\s+rate-limit:\s+45 requests per 3000 ms, \d+ left/);
    expect(line(r.stdout, 'clock')).toMatch(/^ok\s+clock:/);
    expect(line(r.stdout, 'queue')).toMatch(/0 of 4 async slots taken \(0 PENDING, 0 PROCESSING\)$/);
    expect(line(r.stdout, 'node')).toContain(process.version);
    expect(r.stdout).not.toContain('\u001B[');
    // The one cheap call and the queue, nothing else.
    expect(t.sb.requests.map((q) => new URL(q.url).pathname.replace(/^.*\/1\.2/, ''))).toEqual([
      '/context/employee',
      '/async',
    ]);
  });

  it('--trace records its two requests, without the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ms-async-doctor-trace-'));
    try {
      const r = await t.cli(['doctor', '--trace', join(dir, 'doctor.har')]);
      expect(r.code).toBe(0);
      const text = await readFile(join(dir, 'doctor.har'), 'utf8');
      expect(text).not.toContain(TOKEN);
      const har = JSON.parse(text) as {
        log: { entries: Array<{ request: { url: string }; response: { status: number } }> };
      };
      expect(
        har.log.entries.map((e) => `${e.response.status} ${new URL(e.request.url).pathname.replace(/^.*\/1\.2/, '')}`),
      ).toEqual(['200 /context/employee', '200 /async']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows ✓ marks on a terminal', async () => {
    const r = await t.cli(['doctor'], { env: t.env(), stdoutTTY: true });
    expect(r.code).toBe(0);
    expect(line(r.stdout, 'token')).toMatch(/^✓ token:/);
  });

  it('names Basic credentials by their login, never the password', async () => {
    const env = { MS_BASE_URL: t.sb.baseUrl, MS_LOGIN: 'ivan@shop', MS_PASSWORD: 'doctor-pass-4471' };
    const r = await t.cli(['doctor'], { env });
    expect(r.code, r.stdout).toBe(0);
    expect(line(r.stdout, 'credentials')).toContain('login "ivan@shop" and password from MS_LOGIN/MS_PASSWORD');
    expect(r.stdout + r.stderr).not.toContain('doctor-pass-4471');
  });

  it('with a stored token says so', async () => {
    const login = await t.cli(['login'], { env: { MS_BASE_URL: t.sb.baseUrl }, stdin: `${TOKEN}\n` });
    expect(login.code, login.stderr).toBe(0);
    const r = await t.cli(['doctor'], { env: { MS_BASE_URL: t.sb.baseUrl } });
    expect(r.code).toBe(0);
    expect(line(r.stdout, 'credentials')).toContain('token stored for profile "default"');
  });

  it('with a refused token: exit 3, the API still reached, one JSON document with --json', async () => {
    const r = await t.cli(['doctor', '--json'], {
      env: { MS_BASE_URL: t.sb.baseUrl, MS_TOKEN: 'tok-refused-31337000' },
    });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; status: string }>;
      error: { code: string };
    };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('ERR_MS_AUTH');
    const status = Object.fromEntries(doc.checks.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({ credentials: 'ok', api: 'ok', token: 'fail', queue: 'skip' });
    expect(r.stdout + r.stderr).not.toContain('tok-refused-31337000');
    expect(r.stderr).toContain('authentication failed');
  });

  it('without credentials: exit 3 and the way to get them', async () => {
    const r = await t.cli(['doctor'], { env: { MS_BASE_URL: t.sb.baseUrl } });
    expect(r.code).toBe(3);
    expect(line(r.stdout, 'credentials')).toMatch(
      /^FAIL credentials: no credentials for profile "default".*ms-async login/,
    );
    expect(t.sb.requests).toHaveLength(0);
  });

  it('with an unreachable URL: exit 7 and the later checks skipped', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}/api/remap/1.2`;
    const r = await t.cli(['doctor'], { env: { MS_BASE_URL: baseUrl, MS_TOKEN: TOKEN } });
    expect(r.code).toBe(7);
    expect(line(r.stdout, 'api')).toMatch(/^FAIL api:\s+.* does not answer: .*ECONNREFUSED/);
    expect(line(r.stdout, 'token')).toMatch(/^skip token:/);
  });

  it('warns about a clock minutes off the API, without failing', async () => {
    const report = await runDoctor({
      globals: {},
      env: t.env(),
      configDir: t.configDir,
      now: () => Date.now() + 5 * 60_000,
      sleep: async () => {},
    });
    expect(report.ok).toBe(true);
    const clock = report.checks.find((c) => c.name === 'clock');
    expect(clock?.status).toBe('warn');
    expect(clock?.message).toMatch(/^(299|300|301) s ahead of the API|^5 min ahead of the API/);
  });
});

describe('doctor, while tasks wait', () => {
  // Tasks of this sandbox stay PENDING for a minute: they are still queued when doctor looks.
  const slow = useCliSandbox(TOKEN, 'doctor-slow', { pendingMs: 60_000 });

  it('counts the tasks queued or running against the 4 slots', async () => {
    for (let i = 0; i < 2; i += 1) expect((await slow.cli(['start', 'stock-all'])).code).toBe(0);
    const r = await slow.cli(['doctor']);
    expect(r.code).toBe(0);
    expect(line(r.stdout, 'queue')).toMatch(/^ok\s+queue:\s+2 of 4 async slots taken \(2 PENDING, 0 PROCESSING\)$/);
  });
});
