import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli, type TestDepsOptions } from '../helpers/test-io.js';
import type { Sandbox } from '../../src/sandbox/index.js';

const TOKEN = 'tok-CANCEL-abcdefabcdefabcdefabcdefabcdef12';
const outputs: string[] = [];
let sb: Sandbox;
let configDir: string;

const cli = (argv: string[], options: TestDepsOptions = {}) =>
  runCli(argv, { configDir, env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, ...options }, outputs);

beforeEach(async () => {
  sb = await startTestSandbox({ token: TOKEN });
  configDir = await mkdtemp(join(tmpdir(), 'ms-async-cancel-'));
});
afterEach(async () => {
  await sb.close();
  await rm(configDir, { recursive: true, force: true });
});
afterAll(() => {
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

describe('ms-async cancel', () => {
  it('cancels a running task: nothing on stdout, a line on stderr, exit 0', async () => {
    sb.setFaults({ pendingMs: 600_000 });
    const id = (await cli(['start', 'stock-all'])).stdout.trim();
    const r = await cli(['cancel', id]);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toBe(`task ${id} cancelled\n`);
    expect((await cli(['status', id])).code).toBe(5);
  });

  it('a finished task → API error 61007, exit 4', async () => {
    const id = (await cli(['start', 'stock-all'])).stdout.trim();
    await cli(['status', id, '--wait'], { realCapMs: 15 });
    const r = await cli(['cancel', id]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/API error 61007/);
    const json = await cli(['--json', 'cancel', id]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'ERR_MS_API', exitCode: 4, httpStatus: 400 } });
  });
});
