/**
 * Resume across runs (issue 13): a fetch killed with SIGKILL mid-download leaves its bytes in the
 * cache, and the same command run again asks the storage only for the rest — proven by the bytes
 * the sandbox's storage served — and writes the same output as a clean run. Spawns the built bin.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { parseMoscowTime } from '../../src/moscow-time.js';

const BIN = resolve(import.meta.dirname, '../../bin/ms-async.js');
const TOKEN = 'tok-RESUME-5555555555555555555555555555';
const built = existsSync(resolve(import.meta.dirname, '../../dist/main.js'));

function startBin(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MS_') && k !== 'FORCE_COLOR'),
  );
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += String(d);
  });
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) => {
    child.on('close', (code, signal) => done({ code, signal, stderr }));
  });
  return { child, exit };
}

async function rawFiles(cacheDir: string): Promise<string[]> {
  const names = await readdir(join(cacheDir, 'results')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.raw')).map((n) => join(cacheDir, 'results', n));
}

describe.skipIf(!built)('a fetch killed mid-download', () => {
  let sb: Sandbox;
  let dir: string;
  let taskId: string;
  let fileSize: number;
  beforeAll(async () => {
    sb = await startTestSandbox({ rows: 4000, storage: { gzip: false, range: true, contentLength: true } });
    dir = await mkdtemp(join(tmpdir(), 'ms-async-resume-'));
    const created = await sandboxRequest(sb, '/report/stock/bystore?async=true', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const statusUrl = String(created.headers['content-location']);
    taskId = statusUrl.split('/').pop()!;
    await waitForTask(sb, statusUrl, undefined, 20_000);
  });
  afterAll(async () => {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes with Range from the bytes the killed run kept, and writes the same CSV', async () => {
    const env = {
      MS_BASE_URL: sb.baseUrl,
      MS_TOKEN: TOKEN,
      MS_ASYNC_CACHE_DIR: join(dir, 'cache'),
      MS_ASYNC_CONFIG_DIR: dir,
    };
    const out = join(dir, 'out', 'stock.csv');
    await rm(join(dir, 'out'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'out')));

    // A clean run first, with its own cache: the reference output and the file's size.
    const reference = startBin(['fetch', taskId, '--out', join(dir, 'reference.csv')], {
      ...env,
      MS_ASYNC_CACHE_DIR: join(dir, 'cache-ref'),
    });
    expect((await reference.exit).code).toBe(0);
    fileSize = sb.requests.filter((r) => r.origin === 'storage').reduce((n, r) => n + (r.bodyBytes ?? 0), 0);
    expect(fileSize).toBeGreaterThan(500_000);
    sb.requests.length = 0;

    // Slow storage (~10 s for the file), so the kill lands mid-download.
    sb.setFaults({ storageBytesPerSecond: Math.ceil(fileSize / 10) });
    const killed = startBin(['fetch', taskId, '--out', out], env);
    let held = 0;
    for (let i = 0; i < 400 && held < fileSize * 0.2; i += 1) {
      await new Promise((r) => setTimeout(r, 25));
      const [raw] = await rawFiles(env.MS_ASYNC_CACHE_DIR);
      held = raw ? (await stat(raw)).size : 0;
    }
    killed.child.kill('SIGKILL');
    expect((await killed.exit).signal).toBe('SIGKILL');
    const [raw] = await rawFiles(env.MS_ASYNC_CACHE_DIR);
    const kept = (await stat(raw!)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(fileSize);
    // The kept bytes are worth keeping as long as the result lives: the task's deletionDate.
    const meta = JSON.parse(await readFile(raw!.replace(/\.raw$/, '.json'), 'utf8')) as { expiresAt: number };
    const task = await sandboxRequest(sb, `/async/${taskId}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(meta.expiresAt).toBe(parseMoscowTime((task.json as { deletionDate: string }).deletionDate));

    // The same command again, at full speed.
    sb.setFaults({ storageBytesPerSecond: null });
    sb.requests.length = 0;
    const again = startBin(['fetch', taskId, '--out', out], env);
    const result = await again.exit;
    expect(result.code, result.stderr).toBe(0);
    const storage = sb.requests.filter((r) => r.origin === 'storage');
    expect(storage[0]!.headers.range).toBe(`bytes=${kept}-`);
    const served = storage.reduce((n, r) => n + (r.bodyBytes ?? 0), 0);
    expect(served).toBe(fileSize - kept);
    expect(await readFile(out, 'utf8')).toBe(await readFile(join(dir, 'reference.csv'), 'utf8'));
    // Converted: the kept bytes are gone, and the killed run left nothing beside --out.
    expect(await rawFiles(env.MS_ASYNC_CACHE_DIR)).toEqual([]);
    expect(await readdir(join(dir, 'out'))).toEqual(['stock.csv']);
  }, 60_000);

  it('Ctrl-C while the worker thread converts: exit 130, the old --out intact, nothing beside it, bytes kept', async () => {
    expect(fileSize).toBeGreaterThan(500_000); // measured by the test above
    const env = {
      MS_BASE_URL: sb.baseUrl,
      MS_TOKEN: TOKEN,
      MS_ASYNC_CACHE_DIR: join(dir, 'cache-int'),
      MS_ASYNC_CONFIG_DIR: dir,
    };
    const outDir = join(dir, 'out-int');
    await import('node:fs/promises').then((fs) => fs.mkdir(outDir));
    const out = join(outDir, 'stock.csv');
    await writeFile(out, 'yesterday\n');
    sb.setFaults({ storageBytesPerSecond: Math.ceil(fileSize / 8) });
    const run = startBin(['fetch', taskId, '--out', out], env);
    // The conversion is under way once its .part exists beside --out, a third of the bytes in.
    let part: string | undefined;
    let held = 0;
    for (let i = 0; i < 400 && !(part && held > fileSize / 3); i += 1) {
      await new Promise((r) => setTimeout(r, 25));
      part = (await readdir(outDir)).find((n) => n.endsWith('.part'));
      const [raw] = await rawFiles(env.MS_ASYNC_CACHE_DIR);
      held = raw ? (await stat(raw)).size : 0;
    }
    expect(part).toBeDefined();
    expect(held).toBeLessThan(fileSize);
    run.child.kill('SIGINT');
    const result = await run.exit;
    sb.setFaults({ storageBytesPerSecond: null });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/^ms-async: error: interrupted/m);
    expect(await readFile(out, 'utf8')).toBe('yesterday\n');
    expect(await readdir(outDir)).toEqual(['stock.csv']);
    const [raw] = await rawFiles(env.MS_ASYNC_CACHE_DIR);
    expect((await stat(raw!)).size).toBeGreaterThan(0);
  }, 60_000);
});
