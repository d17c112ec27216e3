import { describe, expect, it } from 'vitest';
import { runCli, type TestDepsOptions } from '../helpers/test-io.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';

const TOKEN = 'tok-START-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const t = useCliSandbox(TOKEN, 'start');
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, options);

/** A sandbox of its own whose account queue holds one task. */
async function withQueueOfOne(
  options: Partial<SandboxOptions>,
  body: (sb: Sandbox, env: NodeJS.ProcessEnv) => Promise<void>,
): Promise<void> {
  const sb = await startTestSandbox({ token: TOKEN, queueLimit: 1, ...options });
  try {
    await body(sb, { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN });
  } finally {
    await sb.close();
  }
}

describe('ms-async start', () => {
  it('prints the task id on stdout and the next command on stderr', async () => {
    const r = await cli(['start', 'stock-bystore', '-p', 'filter=stockMode=all']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(r.stderr).toContain(`ms-async status ${r.stdout.trim()} --wait`);
    const create = t.sb.requests.find((q) => q.url.includes('async=true'));
    expect(create?.url).toBe(`${t.sb.baseUrl}/report/stock/bystore?filter=stockMode%3Dall&async=true`);
  });

  it('--json: id, state, statusUrl, resultUrl, request', async () => {
    const r = await cli(['--json', 'start', 'profit-byproduct', '-p', 'momentFrom=2026-11-01 00:00:00']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(['id', 'request', 'resultUrl', 'state', 'statusUrl']);
    expect(json.state).toBe('PENDING');
    expect(json.request).toContain('momentFrom=2026-11-01%2000%3A00%3A00');
    expect(r.stderr).toBe('');
  });

  it('a raw API path is accepted', async () => {
    const r = await cli(['start', '/report/stock/all?stockMode=all']);
    expect(r.code).toBe(0);
  });

  it.each([
    [['start', 'stock-bystor'], /did you mean "stock-bystore"/],
    [['start', 'stock-all', '-p', 'limit=10'], /limit cannot be used/],
    [['start', 'stock-all', '-p', 'offset=0'], /offset cannot be used/],
    [['start', 'money-plotseries', '-p', 'momentFrom=2026-01-01'], /missing: momentTo, interval/],
    [['start', 'stock-all', '-p', 'novalue'], /not key=value/],
    [['start', 'stock-all', '--timeout', 'soon'], /not a duration/],
  ])('%j → exit 2 before any request', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(t.sb.requests).toHaveLength(0);
  });

  it('an endpoint without async support → API error 61000, exit 4', async () => {
    const r = await cli(['start', '/entity/product']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/API error 61000/);
  });

  it('61002: waits for a free queue slot, saying so once, then creates the task', async () => {
    await withQueueOfOne({ pendingMs: 150, processingMs: 50 }, async (sb, env) => {
      expect((await cli(['start', 'stock-all'], { env })).code).toBe(0);
      const r = await cli(['start', 'stock-all'], { realCapMs: 20, env });
      expect(r.code).toBe(0);
      expect(r.stderr.match(/queue is full/g)).toHaveLength(1);
      expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      expect(sb.requests.filter((q) => q.status === 429).length).toBeGreaterThan(0);
    });
  });

  it('61002 until --timeout → exit 6', async () => {
    await withQueueOfOne({ pendingMs: 60_000 }, async (_sb, env) => {
      await cli(['start', 'stock-all'], { env });
      const r = await cli(['start', 'stock-all', '--timeout', '20s'], { env });
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/queue stayed full/);
    });
  });

  it('no credentials → exit 3 with a login hint; plain http to another host → exit 2', async () => {
    const none = await runCli(
      ['start', 'stock-all'],
      { configDir: t.configDir, env: { MS_BASE_URL: t.sb.baseUrl } },
      t.outputs,
    );
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/ms-async login/);
    const insecure = await runCli(
      ['start', 'stock-all'],
      { configDir: t.configDir, env: { MS_BASE_URL: 'http://api.moysklad.ru/api/remap/1.2', MS_TOKEN: TOKEN } },
      t.outputs,
    );
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/plain http/);
  });

  it('a wrong token → exit 3, and --json errors parse', async () => {
    const r = await runCli(
      ['--json', 'start', 'stock-all'],
      { configDir: t.configDir, env: { MS_BASE_URL: t.sb.baseUrl, MS_TOKEN: 'wrong-token' } },
      t.outputs,
    );
    expect(r.code).toBe(3);
    const json = JSON.parse(r.stdout) as { error: { code: string; apiErrors: Array<{ code: number }> } };
    expect(json.error.code).toBe('ERR_MS_AUTH');
    expect(json.error.apiErrors[0]?.code).toBe(1056);
  });

  it('5xx that retries do not overcome → exit 7', async () => {
    t.sb.setFaults({ status5xx: { at: 1, count: 100, status: 503 } });
    const r = await cli(['start', 'stock-all']);
    expect(r.code).toBe(7);
    expect(r.sleeps.length).toBeGreaterThan(0);
  });

  it('help has usage syntax and an example', async () => {
    const r = await cli(['start', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ms-async start <report> [-p <key=value>]...');
    expect(r.stdout).toMatch(/Examples:\n\s+\$ ms-async start/);
  });
});
