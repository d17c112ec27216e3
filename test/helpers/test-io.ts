/** An in-memory Io with TTY switches, and deps for running commands in-process (docs/ARCHITECTURE.md). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { CliDeps } from '../../src/cli/context.js';
import type { Io } from '../../src/ui/io.js';

export interface TestIoOptions {
  stdin?: string;
  stdinTTY?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface TestIo {
  io: Io;
  stdout(): string;
  stderr(): string;
  /** stdout + stderr, for "never in any output" checks. */
  all(): string;
  /** Feed more stdin (TTY prompts). */
  type(text: string): void;
}

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 80;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
  // ora calls these on TTY streams.
  cursorTo(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
}

let cacheDir: string | undefined;
/** One cache folder per test file (vitest loads this module once per file). */
export function testCacheDir(): string {
  if (cacheDir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'ms-async-test-cache-'));
    cacheDir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return cacheDir;
}

export function createTestIo(options: TestIoOptions = {}): TestIo {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  if (options.stdinTTY) {
    stdin.isTTY = true;
    stdin.setRawMode = () => {};
  }
  if (options.stdin !== undefined) {
    stdin.write(options.stdin);
    if (!options.stdinTTY) stdin.end();
  } else if (!options.stdinTTY) {
    stdin.end();
  }
  const stdout = new Capture(options.stdoutTTY === true);
  const stderr = new Capture(options.stderrTTY === true);
  return {
    // Kept downloads go to a temporary folder, never to the user's ~/.cache.
    io: { stdin, stdout, stderr, env: { MS_ASYNC_CACHE_DIR: testCacheDir(), ...(options.env ?? {}) } },
    stdout: () => stdout.text,
    stderr: () => stderr.text,
    all: () => stdout.text + stderr.text,
    type: (text) => stdin.write(text),
  };
}

export interface TestDepsOptions extends TestIoOptions {
  configDir?: string;
  /** Sleep stand-in; default: records the wish and waits a real millisecond at most `realCapMs`. */
  sleep?: CliDeps['sleep'];
  realCapMs?: number;
  signal?: AbortSignal;
  /** Called before each sleep (e.g. to abort on the n-th wait). */
  onSleep?: (ms: number, count: number) => void;
}

/**
 * Deps for `run(argv, deps)`: in-memory io and a sleep that records each wish but waits at most
 * `realCapMs` of real time. The clock is real time plus every millisecond a sleep skipped, so
 * timeouts expire as if the waits had been real (a virtual clock that never runs behind).
 */
export function createTestDeps(options: TestDepsOptions = {}): { deps: CliDeps; out: TestIo; sleeps: number[] } {
  const out = createTestIo(options);
  const sleeps: number[] = [];
  const cap = options.realCapMs ?? 5;
  let skipped = 0;
  const sleep: CliDeps['sleep'] =
    options.sleep ??
    ((ms, signal) => {
      sleeps.push(ms);
      options.onSleep?.(ms, sleeps.length);
      skipped += Math.max(0, ms - cap);
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        // Until Date.now() has moved on by the real part: a timer may fire up to a millisecond
        // early by that clock (libuv counts from the loop's cached time), and the virtual clock
        // would then run behind the wait, which a caller sees as one more 1 ms wait.
        const until = Date.now() + Math.min(ms, cap);
        const tick = (): void => {
          const left = until - Date.now();
          if (left > 0) {
            timer = setTimeout(tick, left);
            return;
          }
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        let timer = setTimeout(tick, Math.min(ms, cap));
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    });
  return {
    deps: {
      io: out.io,
      now: () => Date.now() + skipped,
      sleep,
      signal: options.signal ?? new AbortController().signal,
      configDir: options.configDir,
    },
    out,
    sleeps,
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

/** Runs `ms-async <argv>` in-process with test deps; every output is also appended to `outputs`. */
export async function runCli(argv: string[], options: TestDepsOptions = {}, outputs?: string[]): Promise<CliRun> {
  const { run } = await import('../../src/main.js');
  const { deps, out, sleeps } = createTestDeps(options);
  const code = await run(argv, deps);
  outputs?.push(out.all());
  return { code, stdout: out.stdout(), stderr: out.stderr(), sleeps };
}
