/** `ms-async … | head`: the reader going away ends the run quietly (exit 0, no stack trace). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectFreshBuild } from '../helpers/build-dist.js';

const BIN = join(import.meta.dirname, '../../bin/ms-async.js');

function runAndCloseStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `head -1`: read the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('a closed stdout pipe', () => {
  beforeAll(expectFreshBuild);

  it('ends a streaming export with exit 0 and nothing on stderr', async () => {
    const r = await runAndCloseStdout([
      '-q',
      'export',
      'stock-bystore',
      '--sandbox',
      '--sandbox-rows',
      '50000',
      '--out',
      '-',
      '--format',
      'csv',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);
});
