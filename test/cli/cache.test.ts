/** `ms-async cache list|clean`: the kept partial downloads, shown and removed. */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/test-io.js';

const LIVE = '11111111-2222-3333-4444-555555555555';
const OLD = '99999999-8888-7777-6666-555555555555';
const INUSE = '12121212-3434-5656-7878-909090909090';

describe('ms-async cache', () => {
  let cacheDir: string;
  const env = () => ({ MS_ASYNC_CACHE_DIR: cacheDir });
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'ms-async-cache-cli-'));
    const results = join(cacheDir, 'results');
    await mkdir(results);
    const now = Date.now();
    const entry = async (id: string, bytes: number, expiresAt: number) => {
      await writeFile(join(results, `${id}.raw`), Buffer.alloc(bytes, 0x20));
      await writeFile(
        join(results, `${id}.json`),
        JSON.stringify({
          taskId: id,
          object: 'http://127.0.0.1/x',
          size: 4096,
          encoding: 'identity',
          expiresAt,
          updatedAt: now,
        }),
      );
    };
    await entry(LIVE, 1024, now + 30 * 60_000);
    await entry(OLD, 2048, now - 60_000);
    await entry(INUSE, 512, now + 50 * 60_000);
    await writeFile(join(results, `${INUSE}.lock`), String(process.pid)); // a live run holds it
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('list shows each kept download: bytes held of the whole, expiry, in use', async () => {
    const r = await runCli(['cache', 'list'], { env: env() });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TASK\s+KEPT\s+EXPIRES/);
    expect(lines.find((l) => l.startsWith(LIVE))).toMatch(/1\.0 KiB of 4\.0 KiB\s+in 30m/);
    expect(lines.find((l) => l.startsWith(OLD))).toMatch(/expired/);
    expect(lines.find((l) => l.startsWith(INUSE))).toMatch(/in use$/);
    const json = JSON.parse((await runCli(['--json', 'cache', 'list'], { env: env() })).stdout) as Array<
      Record<string, unknown>
    >;
    expect(json.map((e) => [e.taskId, e.bytes, e.size, e.inUse]).sort()).toEqual(
      [
        [INUSE, 512, 4096, true],
        [LIVE, 1024, 4096, false],
        [OLD, 2048, 4096, false],
      ].sort(),
    );
  });

  it('clean --expired removes only the expired; clean removes every entry no live run uses', async () => {
    const expired = await runCli(['cache', 'clean', '--expired'], { env: env() });
    expect(expired.code).toBe(0);
    expect(expired.stderr).toMatch(/removed 1 kept download\(s\), 2\.0 KiB/);
    expect((await readdir(join(cacheDir, 'results'))).filter((n) => n.startsWith(OLD))).toEqual([]);
    const all = await runCli(['cache', 'clean'], { env: env() });
    expect(all.code).toBe(0);
    expect((await readdir(join(cacheDir, 'results'))).sort()).toEqual([
      `${INUSE}.json`,
      `${INUSE}.lock`,
      `${INUSE}.raw`,
    ]);
  });

  it('an empty cache says so on stderr and prints nothing on stdout', async () => {
    await rm(join(cacheDir, 'results'), { recursive: true });
    const r = await runCli(['cache', 'list'], { env: env() });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toMatch(/no kept downloads/);
  });
});
