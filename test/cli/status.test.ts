import { describe, expect, it } from 'vitest';
import type { TestDepsOptions } from '../helpers/test-io.js';
import { InterruptSignal } from '../../src/main.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-STATUS-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const t = useCliSandbox(TOKEN, 'status');
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, options);
const start = async (): Promise<string> => (await cli(['start', 'stock-all'])).stdout.trim();

describe('ms-async status', () => {
  it('one read: details on stdout, exit 0 while running', async () => {
    const id = await start();
    const r = await cli(['status', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^id: +${id}\\nstate: +(PENDING|PROCESSING|DONE)\\nrequest: +/report/stock/all`),
    );
    expect(r.stdout + r.stderr).not.toContain('\u001b[');
  });

  it('--wait: polls to DONE, one plain stderr line per state change, no ANSI without a TTY', async () => {
    // Long enough that the first read still finds it running, however loaded the machine.
    t.sb.setFaults({ pendingMs: 400 });
    const id = await start();
    const r = await cli(['status', id, '--wait'], { realCapMs: 15 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state: +DONE/);
    // The test clock skips every poll wait it shortens, so the hour left reads a few minutes less.
    expect(r.stdout).toMatch(/deleted: +in (5\dm|1h 00m) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} MSK\)/);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^task ${id}: DONE \\(`));
    expect(new Set(lines).size).toBe(lines.length);
    expect(r.stderr).not.toContain('\u001b[');
    expect(r.sleeps[0]).toBeGreaterThanOrEqual(750);
    expect(r.sleeps[0]).toBeLessThanOrEqual(1250);
  });

  it('--wait --json prints the task object; -q keeps stderr empty', async () => {
    const id = await start();
    const r = await cli(['--json', '-q', 'status', id, '--wait'], { realCapMs: 15 });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, state: 'DONE', meta: { type: 'async' } });
    expect(r.stderr).toBe('');
  });

  it('-v logs each request with method, URL, status and time, never the token', async () => {
    const id = await start();
    const r = await cli(['-v', 'status', id]);
    expect(r.stderr).toMatch(new RegExp(`GET ${t.sb.baseUrl}/async/${id} 200 \\d+ms`));
  });

  it.each([
    ['ERROR', 5, /ended ERROR/],
    ['CANCEL', 5, /was cancelled/],
    ['API_ERROR', 4, /API error 1040/],
    ['API_ERROR_AUTH', 3, /permission refused, the user may not see this report/],
  ] as const)('a task ending %s → exit %i', async (outcome, code, message) => {
    t.sb.setFaults({ taskOutcome: outcome });
    const id = await start();
    const r = await cli(['status', id, '--wait'], { realCapMs: 15 });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toContain(`state:    ${outcome === 'API_ERROR_AUTH' ? 'API_ERROR' : outcome}`);
  });

  it('--json on a failed state: one JSON document, the error carrying the task', async () => {
    t.sb.setFaults({ taskOutcome: 'API_ERROR' });
    const id = await start();
    const r = await cli(['--json', 'status', id, '--wait'], { realCapMs: 15 });
    expect(r.code).toBe(4);
    const json = JSON.parse(r.stdout) as {
      error: { code: string; task: { id: string; state: string }; apiErrors: unknown[] };
    };
    expect(json.error).toMatchObject({ code: 'ERR_MS_API', task: { id, state: 'API_ERROR' } });
    expect(json.error.apiErrors.length).toBeGreaterThan(0);
  });

  it('--timeout reached → exit 6 with the resume command', async () => {
    t.sb.setFaults({ pendingMs: 600_000 });
    const id = await start();
    const r = await cli(['status', id, '--wait', '--timeout', '30s']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/gave up waiting after 30s/);
    expect(r.stderr).toContain(`ms-async status ${id} --wait`);
    expect(r.sleeps.reduce((a, b) => a + b)).toBeLessThanOrEqual(30_000);
  });

  it('Ctrl-C leaves the task running and prints how to resume → 130', async () => {
    t.sb.setFaults({ pendingMs: 600_000 });
    const id = await start();
    const controller = new AbortController();
    const r = await cli(['status', id, '--wait'], {
      signal: controller.signal,
      onSleep: (_ms, n) => {
        if (n === 2) controller.abort(new InterruptSignal());
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`ms-async status ${id} --wait`);
    expect(t.sb.requests.some((q) => q.method === 'PUT')).toBe(false);
  });

  it('--cancel-on-interrupt cancels the task first → 130', async () => {
    t.sb.setFaults({ pendingMs: 600_000 });
    const id = await start();
    const controller = new AbortController();
    const r = await cli(['status', id, '--wait', '--cancel-on-interrupt'], {
      signal: controller.signal,
      onSleep: (_ms, n) => {
        if (n === 1) controller.abort(new InterruptSignal());
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/was cancelled/);
    expect(t.sb.requests.find((q) => q.method === 'PUT')?.status).toBe(204);
    expect((await cli(['--json', 'status', id])).stdout).toContain('"CANCEL"');
  });

  it('--cancel-on-interrupt whose cancel fails is still 130, and says the task may be running', async () => {
    t.sb.setFaults({ pendingMs: 600_000 });
    const id = await start();
    const controller = new AbortController();
    const r = await cli(['status', id, '--wait', '--cancel-on-interrupt'], {
      signal: controller.signal,
      onSleep: (_ms, n) => {
        if (n !== 1) return;
        t.sb.setFaults({ status5xx: { at: 1, count: 50, status: 500 } });
        controller.abort(new InterruptSignal());
      },
    });
    t.sb.setFaults({ status5xx: null });
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/was cancelled/);
    expect(r.stderr).toMatch(new RegExp(`cancelling task ${id} failed .*it may still be running`));
    expect(r.stderr).toContain(`ms-async cancel ${id}`);
    expect((await cli(['--json', 'status', id])).stdout).toContain('"PENDING"');
  });

  it('an unknown task → exit 8; a malformed id → exit 2 before any request', async () => {
    expect((await cli(['status', '00000000-0000-4000-8000-000000000000'])).code).toBe(8);
    const sent = t.sb.requests.length;
    const malformed = await cli(['status', 'not-a-uuid']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^ms-async: error: .*"not-a-uuid" is not a task id/);
    expect(t.sb.requests).toHaveLength(sent);
  });

  it('on a TTY a spinner is drawn on stderr and stdout stays clean', async () => {
    const id = await start();
    const r = await cli(['status', id, '--wait'], {
      stderrTTY: true,
      realCapMs: 15,
      env: { ...t.env(), NO_COLOR: '1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state: +DONE/);
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).toContain(`task ${id}: DONE`);
  });
});
