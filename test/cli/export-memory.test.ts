/**
 * Flat memory, measured from outside (issue 4): a sandbox in one child process serves a stock-by-
 * store result of more than 100 MB; `ms-async export` runs in another, and its peak RSS (VmHWM in
 * /proc, which the kernel keeps as a high-water mark) must stay under 150 MB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFreshBuild } from '../helpers/build-dist.js';

const BIN = join(import.meta.dirname, '../../bin/ms-async.js');
const TOKEN = 'tok-MEMORY-00112233445566778899aabbccddeeff';
// ≈1.19 KB of JSON per stock-by-store row with 3 stores: 90 000 rows ≈ 107 MB.
const ROWS = 90_000;
const LIMIT_BYTES = 150 * 1024 * 1024;

// VmHWM exists on Linux only; elsewhere there is nothing to measure with.
const canMeasure = existsSync('/proc/self/status');

describe.skipIf(!canMeasure)('export of a result over 100 MB', () => {
  let sandbox: ChildProcess;
  let baseUrl: string;
  let dir: string;

  beforeAll(async () => {
    expectFreshBuild();
    dir = await mkdtemp(join(tmpdir(), 'ms-async-memory-'));
    sandbox = spawn(
      process.execPath,
      [BIN, 'sandbox', '--rows', String(ROWS), '--pending-ms', '0', '--processing-ms', '0', '--token', TOKEN],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: sandbox.stdout! });
    baseUrl = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      sandbox.once('exit', (code) => reject(new Error(`sandbox exited early (${code})`)));
    });
  });

  afterAll(async () => {
    sandbox?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('converts to CSV with a peak RSS under 150 MB', async () => {
    const out = join(dir, 'stock.csv');
    const child = spawn(process.execPath, [BIN, 'export', 'stock-bystore', '--out', out], {
      env: { ...process.env, MS_BASE_URL: baseUrl, MS_TOKEN: TOKEN, MS_ASYNC_CONFIG_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let peak = 0;
    const sample = async (): Promise<void> => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
    };
    const timer = setInterval(() => void sample(), 25);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearInterval(timer);

    expect(code, stderr).toBe(0);
    // The result downloaded was really over 100 MB (the summary line names its size).
    const result = /from a ([\d.]+) (MiB|GiB) result/.exec(stderr);
    expect(result, stderr).not.toBeNull();
    expect(Number(result![1]) * (result![2] === 'GiB' ? 1024 : 1)).toBeGreaterThan(100);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(LIMIT_BYTES);
    // The CSV holds every exploded record: one per product and store, plus the header.
    const size = (await stat(out)).size;
    expect(size).toBeGreaterThan(30 * 1024 * 1024);
    let lines = 0;
    const reader = createInterface({ input: (await import('node:fs')).createReadStream(out) });
    for await (const _line of reader) lines += 1;
    // Hostile values hold quoted newlines, so count at least products × stores + header.
    expect(lines).toBeGreaterThanOrEqual(ROWS * 3 + 1);
  }, 120_000);
});
