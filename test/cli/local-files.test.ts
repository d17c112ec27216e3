/**
 * Local files (issue 14 items 6, 8, 9): disk full, file too large, folder gone, read-only or
 * forbidden end in one line naming the file and the cause, exit 9, nothing left behind; outputs
 * keep the mode of the file they replace; temporary files are 0600; a symlinked --out has its
 * target replaced. Real failures where a normal user can cause them (`ulimit -f` for EFBIG,
 * /dev/full for ENOSPC, removing the folder mid-run), real errno errors otherwise.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localFileError } from '../../src/core/local-file.js';
import { LocalFileError } from '../../src/errors.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { expectFreshBuild } from '../helpers/build-dist.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { runCli } from '../helpers/test-io.js';

const BIN = join(import.meta.dirname, '../../bin/ms-async.js');
const TOKEN = 'tok-LOCAL-0123456789abcdef0123456789abcdef';
const OLD = 'an older export that must survive\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-local-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A result file of `rows` products (about 120 bytes of CSV each). */
async function resultFile(rows: number): Promise<string> {
  const records = Array.from({ length: rows }, (_, i) => ({
    meta: { href: `https://api.moysklad.ru/api/remap/1.2/entity/product/p${i}`, type: 'product' },
    name: `Товар №${i}, "с кавычками"`,
    stock: i * 1.5,
  }));
  const path = join(dir, 'result.json');
  await writeFile(path, JSON.stringify({ meta: { size: rows }, rows: records }));
  return path;
}

function spawnBin(
  args: string[],
  options: { fileSizeLimitKb?: number; stdoutFd?: number } = {},
): Promise<{ code: number | null; stderr: string }> {
  // `ulimit -f` (in 1 KB blocks) makes a write past the limit fail with EFBIG, no root needed.
  const command = options.fileSizeLimitKb === undefined ? process.execPath : '/bin/sh';
  const argv =
    options.fileSizeLimitKb === undefined
      ? [BIN, ...args]
      : ['-c', `ulimit -f ${options.fileSizeLimitKb} && exec "$0" "$@"`, process.execPath, BIN, ...args];
  return new Promise((resolve) => {
    const child = spawn(command, argv, { stdio: ['ignore', options.stdoutFd ?? 'ignore', 'pipe'], cwd: dir });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('local file errors: one line, the path and the cause, exit 9, nothing left behind', () => {
  beforeAll(expectFreshBuild);

  it('EFBIG while converting: --out untouched, no temporary file', async () => {
    const input = await resultFile(3000);
    const out = join(dir, 'stock.csv');
    await writeFile(out, OLD);
    const r = await spawnBin(['convert', input, '--out', out], { fileSizeLimitKb: 64 });
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(new RegExp(`^ms-async: error: cannot write ${dir}/\\S+: .*\\(EFBIG\\)\\n`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await readFile(out, 'utf8')).toBe(OLD);
    expect((await readdir(dir)).sort()).toEqual(['result.json', 'stock.csv']);
  });

  it('ENOSPC on stdout (--out - into a full device)', async () => {
    const input = await resultFile(3000);
    const full = openSync('/dev/full', 'w');
    try {
      const r = await spawnBin(['convert', input, '--out', '-'], { stdoutFd: full });
      expect(r.code).toBe(9);
      expect(r.stderr).toMatch(/^ms-async: error: cannot write stdout: no space left on the device \(ENOSPC\)\n/);
    } finally {
      closeSync(full);
    }
  });

  it('real errno errors of each kind become one LocalFileError naming the path', async () => {
    const gone = join(dir, 'gone');
    await mkdir(gone);
    await rm(gone, { recursive: true });
    const enoent = await rename(await resultFile(1), join(gone, 'x.csv')).catch((e: unknown) => e);
    const fromRename = localFileError(enoent, 'unused');
    expect(fromRename).toBeInstanceOf(LocalFileError);
    expect(fromRename?.exitCode).toBe(9);
    expect(fromRename?.message).toMatch(/^cannot rename .*result\.json: its folder no longer exists \(ENOENT\)$/);

    // What the kernel gives for a write on a read-only or forbidden file system (root cannot
    // provoke EACCES, and EROFS needs a mount): the shape of Node's own errors.
    const errno = (code: string, syscall: string) =>
      Object.assign(new Error(`${code}: x, ${syscall}`), { code, syscall });
    expect(localFileError(errno('EROFS', 'open'), '/data/out.csv')?.message).toBe(
      'cannot open /data/out.csv: the file system is read-only (EROFS)',
    );
    expect(localFileError(errno('EACCES', 'write'), '/data/out.csv')?.message).toBe(
      'cannot write /data/out.csv: permission denied (EACCES)',
    );
    // A wrapped cause counts; a network failure does not.
    expect(localFileError(new Error('outer', { cause: errno('ENOSPC', 'write') }), '/d/x')?.message).toMatch(/ENOSPC/);
    expect(localFileError(Object.assign(new Error('dns'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' }), '/d')).toBe(
      undefined,
    );
  });
});

describe('export against the sandbox: folder removed mid-run, modes, symlinks', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ token: TOKEN, rows: 300 });
  });
  afterAll(async () => sb.close());
  const cli = (argv: string[]) => runCli(argv, { env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN }, realCapMs: 10 });

  it('the --out folder removed during the download → exit 9 naming it, not a stack trace', async () => {
    sb.setFaults({ storageBytesPerSecond: 150_000 });
    const folder = join(dir, 'reports');
    await mkdir(folder);
    const run = cli(['export', 'stock-bystore', '--out', join(folder, 'stock.csv')]);
    // Wait for the output's temporary file (written while the download goes on), then pull the
    // folder away under it.
    const seen = async (): Promise<boolean> => (await readdir(folder).catch(() => [])).some((n) => n.endsWith('.part'));
    for (let i = 0; i < 400 && !(await seen()); i += 1) await new Promise((r) => setTimeout(r, 10));
    const modes = await Promise.all(
      (await readdir(folder)).map(async (n) => (await stat(join(folder, n)).catch(() => undefined))?.mode),
    );
    await rm(folder, { recursive: true, force: true });
    const r = await run;
    sb.setFaults({ storageBytesPerSecond: null });
    // The temporary files were private while they existed.
    expect(modes.filter((m) => m !== undefined).map((m) => (m as number) & 0o777)).toContain(0o600);
    expect(modes.every((m) => m === undefined || (m & 0o777) === 0o600)).toBe(true);
    expect(r.code, r.stderr).toBe(9);
    expect(r.stderr).toMatch(new RegExp(`cannot \\w+ ${folder}/\\S+: its folder no longer exists \\(ENOENT\\)`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an --out that was 0600 stays 0600; a new one follows the umask', async () => {
    const kept = join(dir, 'private.csv');
    await writeFile(kept, OLD);
    await chmod(kept, 0o600);
    expect((await cli(['export', 'stock-all', '--out', kept])).code).toBe(0);
    expect((await stat(kept)).mode & 0o777).toBe(0o600);
    expect(await readFile(kept, 'utf8')).not.toBe(OLD);

    const fresh = join(dir, 'new.csv');
    expect((await cli(['export', 'stock-all', '--out', fresh])).code).toBe(0);
    const umask = process.umask();
    expect((await stat(fresh)).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('a symlinked --out: the target is replaced and the link stays', async () => {
    const targetDir = join(dir, 'real');
    await mkdir(targetDir);
    const target = join(targetDir, 'stock.csv');
    await writeFile(target, OLD);
    const link = join(dir, 'latest.csv');
    await symlink(target, link);
    const r = await cli(['export', 'stock-all', '--out', link]);
    expect(r.code, r.stderr).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await readFile(target, 'utf8')).toMatch(/^meta\.id,/);
    // No temporary file left beside either.
    expect(await readdir(targetDir)).toEqual(['stock.csv']);
    expect((await readdir(dir)).sort()).toEqual(['latest.csv', 'real']);
  });

  it('with --out - the downloaded JSON (in the result cache, not TMPDIR) is 0600 while it exists', async () => {
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const results = join(dir, 'cache', 'results');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    sb.setFaults({ storageBytesPerSecond: 150_000 });
    try {
      const run = runCli(['export', 'stock-bystore', '--out', '-'], {
        env: { MS_BASE_URL: sb.baseUrl, MS_TOKEN: TOKEN, MS_ASYNC_CACHE_DIR: join(dir, 'cache') },
        realCapMs: 10,
      });
      const modes: number[] = [];
      for (let i = 0; i < 400 && !modes.some((m) => m !== 0o700); i += 1) {
        for (const name of await readdir(results).catch(() => [] as string[])) {
          const s = await stat(join(results, name)).catch(() => undefined);
          if (s?.isFile()) modes.push(s.mode & 0o777);
        }
        const folder = await stat(results).catch(() => undefined);
        if (folder) modes.push(folder.mode & 0o777);
        if (!modes.some((m) => m !== 0o700)) await new Promise((r) => setTimeout(r, 10));
      }
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(modes.filter((m) => m !== 0o700).length).toBeGreaterThan(0);
      expect(modes.every((m) => m === 0o600 || m === 0o700)).toBe(true);
      expect(await readdir(tmp)).toEqual([]);
      expect(await readdir(results)).toEqual([]);
    } finally {
      sb.setFaults({ storageBytesPerSecond: null });
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('usage mistakes are exit 2 before anything is sent', () => {
  it('convert <folder> says it is a folder', async () => {
    const r = await runCli(['convert', dir, '--out', join(dir, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir} is a folder, not a result file`);
  });

  it('--columns with NDJSON or JSON', async () => {
    const input = await resultFile(2);
    for (const out of ['x.ndjson', 'x.json', '-']) {
      const r = await runCli(['convert', input, '--out', out === '-' ? out : join(dir, out), '--columns', 'name']);
      expect(r.code, out).toBe(2);
      expect(r.stderr).toMatch(/--columns picks CSV columns/);
    }
    expect((await runCli(['convert', input, '--out', join(dir, 'x.csv'), '--columns', 'name'])).code).toBe(0);
  });

  it('--sandbox-rows without --sandbox', async () => {
    const r = await runCli(['export', 'stock-all', '--sandbox-rows', '10', '--out', join(dir, 'x.csv')], {
      env: { MS_BASE_URL: 'http://127.0.0.1:9/api/remap/1.2', MS_TOKEN: TOKEN },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sandbox-rows only sizes the report of --sandbox/);
  });

  it('a sandbox larger than it generates is exit 2 at once, before any file is written (issue 14 item 4)', async () => {
    for (const argv of [
      ['export', 'stock-all', '--sandbox', '--sandbox-rows', '99999999999999999999', '--out', join(dir, 'x.csv')],
      ['export', 'stock-all', '--sandbox', '--sandbox-rows', '5000001', '--out', join(dir, 'x.csv')],
      ['sandbox', '--rows', '99999999999999999999'],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/is more than the sandbox generates \(at most 5000000\)/);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
