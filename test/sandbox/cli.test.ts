// Smoke test of the built CLI (dist/ is rebuilt when stale by test/helpers/build-dist.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFaults, toSandboxOptions } from '../../src/cli/commands/sandbox.js';
import { expectFreshBuild } from '../helpers/build-dist.js';
import { rawRequest, sandboxRequest } from '../helpers/start-sandbox.js';

const bin = fileURLToPath(new URL('../../bin/ms-async.js', import.meta.url));

function run(args: string[]): {
  child: ReturnType<typeof spawn>;
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => {
    resolveLine = resolve;
  });
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('\n')) resolveLine(stdout.split('\n')[0] as string);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => {
      resolveLine('');
      resolve({ code, stdout, stderr });
    });
  });
  return { child, firstLine, exit };
}

describe('ms-async sandbox (built bin)', () => {
  it('prints one URL line, serves the API, and stops cleanly on SIGTERM', async () => {
    expectFreshBuild();
    const { child, firstLine, exit } = run([
      'sandbox',
      '--port',
      '0',
      '--pending-ms',
      '10',
      '--processing-ms',
      '10',
      '--rows',
      '5',
      '--token',
      'cli-token',
      '--fault',
      'status429=2',
    ]);
    const baseUrl = await firstLine;
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/remap\/1\.2$/);
    const fakeSandbox = { baseUrl } as Parameters<typeof sandboxRequest>[0];
    const headers = { Authorization: 'Bearer cli-token' };
    const created = await sandboxRequest(fakeSandbox, '/report/stock/bystore?async=true', { headers });
    expect(created.status).toBe(202);
    expect((await sandboxRequest(fakeSandbox, '/context/employee', { headers })).status).toBe(429); // --fault status429=2
    expect(
      (await sandboxRequest(fakeSandbox, '/context/employee', { headers: { Authorization: 'Bearer other' } })).status,
    ).toBe(401); // --token
    await new Promise((r) => setTimeout(r, 100));
    const task = (await sandboxRequest(fakeSandbox, created.headers['content-location'] as string, { headers }))
      .json as { state: string; resultUrl: string };
    expect(task.state).toBe('DONE');
    const link = (await sandboxRequest(fakeSandbox, task.resultUrl, { headers })).headers.location as string;
    expect((await rawRequest(link)).json).toMatchObject({ meta: { size: 5 } });
    child.kill('SIGTERM');
    const result = await exit;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${baseUrl}\n`);
    expect(result.stderr).toBe(''); // stderr is not a TTY here: no info lines
  });

  it('refuses a bad --fault with exit 2', async () => {
    const { exit } = run(['sandbox', '--fault', 'bogus']);
    const result = await exit;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown fault');
    expect(result.stdout).toBe('');
  });

  it('documents the fault switches in --help', async () => {
    const { exit } = run(['sandbox', '--help']);
    const result = await exit;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('status429=N[+K]');
    expect(result.stdout).toContain('__sandbox/faults');
  });
});

describe('sandbox command options', () => {
  it('maps flags to sandbox options', () => {
    const options = toSandboxOptions(
      {
        host: '127.0.0.1',
        port: 8080,
        storagePort: 0,
        rows: 10,
        seed: 3,
        stores: 2,
        pendingMs: 1000,
        processingMs: 2000,
        storageRange: true,
        storageGzip: true,
        linkTtl: 60_000,
        fault: ['status429=2+1', 'truncate=always'],
      },
      'tok',
    );
    expect(options).toMatchObject({
      port: 8080,
      rows: 10,
      seed: 3,
      stores: 2,
      token: 'tok',
      linkTtlMs: 60_000,
      storage: { gzip: true, range: true, contentLength: true },
      faults: { status429: { at: 2, count: 2 }, truncateResult: 'always' },
    });
    expect(() => parseFaults(['nope'])).toThrow(/unknown fault/);
  });
});
