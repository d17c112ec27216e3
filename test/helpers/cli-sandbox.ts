/**
 * The set-up most command tests share: a fresh sandbox that accepts only `token`, a temporary
 * config folder per test, and — after the file — a check that the token appeared in no output.
 *
 *   const t = useCliSandbox('tok-…', 'cancel');
 *   it('…', async () => { const r = await t.cli(['cancel', id]); t.sb.setFaults(…); });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { startTestSandbox } from './start-sandbox.js';
import { runCli, type CliRun, type TestDepsOptions } from './test-io.js';

export interface CliSandbox {
  readonly sb: Sandbox;
  readonly configDir: string;
  /** Every output of `cli`, for the token check. */
  readonly outputs: string[];
  /** The token in the environment (MS_TOKEN) and the sandbox's base URL (MS_BASE_URL). */
  env(): NodeJS.ProcessEnv;
  /** Runs ms-async in-process with `env()` (unless options.env is given) and the config folder. */
  cli(argv: string[], options?: TestDepsOptions): Promise<CliRun>;
}

export function useCliSandbox(token: string, name: string, sandboxOptions: Partial<SandboxOptions> = {}): CliSandbox {
  let sandbox: Sandbox | undefined;
  let folder: string | undefined;
  const outputs: string[] = [];
  const t: CliSandbox = {
    get sb() {
      if (!sandbox) throw new Error('useCliSandbox: use it inside a test');
      return sandbox;
    },
    get configDir() {
      if (!folder) throw new Error('useCliSandbox: use it inside a test');
      return folder;
    },
    outputs,
    env: () => ({ MS_BASE_URL: t.sb.baseUrl, MS_TOKEN: token }),
    cli: (argv, options = {}) => runCli(argv, { configDir: t.configDir, env: t.env(), ...options }, outputs),
  };
  beforeEach(async () => {
    sandbox = await startTestSandbox({ token, ...sandboxOptions });
    folder = await mkdtemp(join(tmpdir(), `ms-async-${name}-`));
  });
  afterEach(async () => {
    await sandbox?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });
  afterAll(() => {
    for (const text of outputs) expect(text).not.toContain(token);
  });
  return t;
}
