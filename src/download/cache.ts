/**
 * The result cache: the bytes of result downloads kept in the user's cache folder while they are
 * useful, so that a later run of the same task resumes with Range instead of starting from zero
 * (README.md, "How the download behaves"). One entry per task (each `/result` call may hand out a
 * link to a differently named object, so the link's path is no identity; the object's size and
 * validators are, and they are checked before any kept byte is used):
 *
 *   <cache>/results/<taskId>.raw    the bytes as the storage sent them (maybe gzip)
 *   <cache>/results/<taskId>.json   what they are: size, validators, encoding, expiry
 *   <cache>/results/<taskId>.lock   the pid of the run using the entry
 *
 * An entry goes away once its result was converted, after the result's deletionDate, or with
 * `ms-async cache clean`. The folder is created 0700 and files 0600: results are account data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../process-alive.js';

/** What is known about the object whose bytes an entry holds. */
export interface CacheMeta {
  taskId: string;
  /** Storage origin and path of the link the bytes came from (never the signed query); for people. */
  object: string;
  /** Full size of the stored representation (encoded bytes), when the storage said. */
  size?: number | undefined;
  etag?: string | undefined;
  lastModified?: string | undefined;
  encoding: 'gzip' | 'identity';
  /** When the result is deleted on the server (epoch ms): the entry is useless after it. */
  expiresAt: number;
  updatedAt: number;
}

export interface CacheEntry {
  key: string;
  rawPath: string;
  metaPath: string;
  /** Where gzip-encoded bytes are decoded to for the converter (rebuilt by each run). */
  decodedPath: string;
  /** The recorded meta from an earlier run, if any. */
  meta: CacheMeta | undefined;
  /** Records what is known now (atomically: temp file + rename). */
  saveMeta(meta: CacheMeta): Promise<void>;
  /** Bytes held on disk. */
  heldBytes(): Promise<number>;
  /** Drops the bytes (keeps the lock). */
  discard(): Promise<void>;
  /** Frees the lock; with `remove`, deletes the entry too. */
  release(remove: boolean): Promise<void>;
}

export interface CacheListing {
  taskId: string;
  key: string;
  bytes: number;
  size: number | undefined;
  encoding: 'gzip' | 'identity';
  expiresAt: number;
  updatedAt: number;
  inUse: boolean;
  path: string;
}

/** `MS_ASYNC_CACHE_DIR`, else `$XDG_CACHE_HOME/ms-async`, else `~/.cache/ms-async`. */
export function resolveCacheDir(env: Record<string, string | undefined>): string {
  if (env.MS_ASYNC_CACHE_DIR) return env.MS_ASYNC_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec ignores relative paths.
  if (xdg?.startsWith('/')) return join(xdg, 'ms-async');
  return join(env.HOME || homedir(), '.cache', 'ms-async');
}

/** The entry's file name stem: the task id (a hash when it is not a plain id). */
export function entryKey(taskId: string): string {
  if (/^[0-9A-Za-z-]{1,64}$/.test(taskId)) return taskId;
  return createHash('sha256').update(taskId).digest('hex').slice(0, 32);
}

function resultsDir(cacheDir: string): string {
  return join(cacheDir, 'results');
}

/**
 * Opens (locks) the entry of a task's result. When another live run holds it, this run
 * gets a private entry of its own (no resume, no interference) that is removed when released.
 */
export async function openCacheEntry(cacheDir: string, taskId: string): Promise<CacheEntry> {
  // Opened with synchronous calls: this is on the way to a download's first byte, and its few
  // tiny operations take microseconds so, against ~1 ms each through the thread pool (~10 ms in all).
  const dir = resultsDir(cacheDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let key = entryKey(taskId);
  let shared = true;
  if (!takeLock(join(dir, `${key}.lock`))) {
    key = `${key}.${randomBytes(4).toString('hex')}`;
    shared = false;
    takeLock(join(dir, `${key}.lock`));
  }
  const base = join(dir, key);
  const entry: CacheEntry = {
    key,
    rawPath: `${base}.raw`,
    metaPath: `${base}.json`,
    decodedPath: `${base}.decoded`,
    meta: shared ? readMeta(`${base}.json`) : undefined,
    // Synchronous too: written once per storage answer, before its first bytes go to disk.
    async saveMeta(meta) {
      entry.meta = meta;
      const temp = `${base}.json.${process.pid}`;
      writeFileSync(temp, `${JSON.stringify(meta)}\n`, { mode: 0o600 });
      renameSync(temp, entry.metaPath);
    },
    heldBytes: () => sizeOf(entry.rawPath),
    async discard() {
      await Promise.all([entry.rawPath, entry.decodedPath, entry.metaPath].map((p) => rm(p, { force: true })));
      entry.meta = undefined;
    },
    async release(remove) {
      // The decoded copy is rebuilt from the raw bytes by the next run: never worth keeping.
      await rm(entry.decodedPath, { force: true });
      if (remove || !shared) await entry.discard();
      await rm(`${base}.lock`, { force: true });
    },
  };
  // A meta of another task (or no meta at all) makes the bytes worthless.
  if (entry.meta && entry.meta.taskId !== taskId) await entry.discard();
  else if (!entry.meta) rmSync(entry.rawPath, { force: true });
  return entry;
}

/** Creates the lock file, or takes over one whose process is gone. False when a live run holds it. */
function takeLock(lockPath: string): boolean {
  for (let i = 0; i < 2; i += 1) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsLive(lockPath)) return false;
      rmSync(lockPath, { force: true }); // a killed run's lock
    }
  }
  return false;
}

function lockIsLive(lockPath: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lockPath, 'utf8').trim());
  } catch {
    return false;
  }
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid);
}

function readMeta(path: string): CacheMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as CacheMeta;
    if (typeof meta.taskId !== 'string' || typeof meta.object !== 'string' || typeof meta.expiresAt !== 'number')
      return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Every entry of the cache (bytes held, expiry, whether a live run uses it). */
export async function listCache(cacheDir: string): Promise<CacheListing[]> {
  const dir = resultsDir(cacheDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const listings: CacheListing[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const key = name.slice(0, -'.json'.length);
    const meta = readMeta(join(dir, name));
    if (!meta) continue;
    listings.push({
      taskId: meta.taskId,
      key,
      bytes: await sizeOf(join(dir, `${key}.raw`)),
      size: meta.size,
      encoding: meta.encoding,
      expiresAt: meta.expiresAt,
      updatedAt: meta.updatedAt,
      inUse: lockIsLive(join(dir, `${key}.lock`)),
      path: join(dir, `${key}.raw`),
    });
  }
  return listings.sort((a, b) => a.updatedAt - b.updatedAt);
}

/**
 * Removes entries no live run uses: all of them, or (`expiredOnly`) those past their result's
 * deletionDate, plus leftovers without a readable meta. Returns the bytes freed and entries removed.
 */
export async function cleanCache(
  cacheDir: string,
  now: number,
  expiredOnly: boolean,
): Promise<{ entries: number; bytes: number }> {
  const dir = resultsDir(cacheDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const keys = new Set(names.map((n) => n.replace(/\.(raw|json|decoded|lock)$/, '')));
  let entries = 0;
  let bytes = 0;
  for (const key of keys) {
    if (key.includes('.json.')) continue; // a meta being written right now
    const base = join(dir, key);
    if (lockIsLive(`${base}.lock`)) continue;
    const meta = readMeta(`${base}.json`);
    if (expiredOnly && meta && meta.expiresAt > now) continue;
    bytes += await sizeOf(`${base}.raw`);
    await Promise.all(['.raw', '.json', '.decoded', '.lock'].map((s) => rm(`${base}${s}`, { force: true })));
    entries += 1;
  }
  return { entries, bytes };
}
