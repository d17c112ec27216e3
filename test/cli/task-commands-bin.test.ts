/** One spawn of the built bin (built by test/helpers/build-dist.ts): version, exit codes, a real start + status. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFreshBuild } from '../helpers/build-dist.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import type { Sandbox } from '../../src/sandbox/index.js';

const BIN = resolve(import.meta.dirname, '../../bin/ms-async.js');
const TOKEN = 'tok-BIN-77777777777777777777777777777777';

function spawnBin(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('MS_') && k !== 'FORCE_COLOR'),
    );
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...clean, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('the built bin', () => {
  let sb: Sandbox;
  let dir: string;
  beforeAll(async () => {
    expectFreshBuild();
    sb = await startTestSandbox({ token: TOKEN });
    dir = await mkdtemp(join(tmpdir(), 'ms-async-bin-'));
  });
  afterAll(async () => {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('--version, usage and auth exit codes', async () => {
    const env = { MS_ASYNC_CONFIG_DIR: dir };
    const version = await spawnBin(['--version'], env);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect((await spawnBin(['start', 'no-such-report'], env)).code).toBe(2);
    const noAuth = await spawnBin(['status', '00000000-0000-4000-8000-000000000000'], env);
    expect(noAuth.code).toBe(3);
    expect(noAuth.stderr).toMatch(/ms-async login/);
  });

  it('start + status --wait over real HTTP, plain output in a pipe', async () => {
    const env = { MS_ASYNC_CONFIG_DIR: dir, MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN };
    const started = await spawnBin(['start', 'stock-bystore'], env);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    const status = await spawnBin(['status', id, '--wait'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/state: +DONE/);
    for (const text of [started.stdout, started.stderr, status.stdout, status.stderr]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('\u001b[');
    }
  });
});
