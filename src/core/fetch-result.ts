/**
 * Download a DONE task's result and convert it into the target while the bytes arrive, safely:
 * the bytes go to the result cache (kept for a later run to resume from, removed once converted),
 * the output to a temporary file beside `--out`, renamed over it only when download, checks and
 * conversion all succeeded. A result that turns out cut short or malformed is downloaded once more
 * before giving up with exit 7 (README.md "Exit codes").
 */
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { BadResultError, InterruptedError } from '../errors.js';
import type { ConvertResult, CsvOptions } from '../convert/index.js';
import { cleanCache, openCacheEntry, type CacheEntry } from '../download/cache.js';
import {
  downloadResult,
  objectOf,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
} from '../download/download.js';
import { GrowingFile } from '../download/growing.js';
import type { ReportSpec } from '../reports/catalog.js';
import { canConvertInWorker, ConvertWorker } from './convert-thread.js';
import { localFileError } from './local-file.js';
import { removeAll, removeOrphans, temporaryPath, type OutputTarget } from './output.js';

export interface FetchResultOptions {
  taskId: string;
  /** Asks the API for the storage link of the task's result (a fresh one on each call). */
  getResultLink: (taskId: string) => Promise<string>;
  /** A link asked for already, alongside the task (`fetch`): the first download uses it. */
  firstLink?: Promise<string> | undefined;
  target: OutputTarget;
  report: ReportSpec | undefined;
  csv: Partial<CsvOptions>;
  /** Where `--out -` writes. */
  stdout: Writable;
  /** The result cache folder (resolveCacheDir). */
  cacheDir: string;
  /** The task's deletionDate (epoch ms) when known: cached bytes are useless after it. */
  deletionAt?: number | undefined;
  now?: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  userAgent?: string;
  onDownloadStart?: () => void;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  onConvertStart?: (total: number | undefined) => void;
  onConvertProgress?: (progress: { records: number; total?: number }) => void;
  onLog?: (line: string) => void;
  onWarning?: (line: string) => void;
  /** `--trace`: sees the storage requests of the download. */
  trace?: DownloadOptions['trace'];
  /** Internal (tests): the storage request deadlines, and the free space of the cache's disk. */
  storageDeadlines?: { headersMs?: number; idleMs?: number; stallBytes?: number };
  freeSpace?: (dir: string) => Promise<number>;
  maxAttempts?: number;
}

export interface FetchResultSummary extends ConvertResult {
  bytes: number;
  /** Bytes of the result an earlier run had kept, not downloaded again. */
  resumedFrom: number;
  path: string | undefined;
}

/** How many times a result that downloads but does not parse is fetched in all. */
const DOWNLOADS_FOR_BAD_RESULT = 2;
/** A result lives an hour after it was built (docs/api-facts.md §2.6): the fallback expiry. */
const RESULT_LIFETIME_MS = 60 * 60 * 1000;

export async function fetchResult(options: FetchResultOptions): Promise<FetchResultSummary> {
  const { target } = options;
  const now = options.now ?? Date.now;
  const partPath = temporaryPath(target, 'part');
  // Results past their deletionDate cannot be resumed: their bytes only take room. Tidied while
  // the link is asked for: nothing here is on the way to the first byte.
  const tidy = Promise.all([cleanCache(options.cacheDir, now(), true).catch(() => undefined), removeOrphans(target)]);
  // A file output converts in a worker thread, started now to be ready by the first bytes;
  // stdout (`--out -`) is written by this thread.
  const inWorker = target.path !== undefined && canConvertInWorker();
  let worker: ConvertWorker | undefined;
  try {
    for (let round = 1; ; round += 1) {
      worker = inWorker ? new ConvertWorker() : undefined;
      options.onDownloadStart?.();
      const [link] = await Promise.all([
        (round === 1 ? options.firstLink : undefined) ?? options.getResultLink(options.taskId),
        tidy,
      ]);
      const object = objectOf(link);
      const entry = await openCacheEntry(options.cacheDir, options.taskId);
      let drop = false;
      try {
        const { result, download } = await transferOnce(link, object, entry, partPath, worker, options);
        drop = true; // converted: the kept bytes have served their purpose
        return { ...result, bytes: download.bytes, resumedFrom: download.resumedFrom, path: target.path };
      } catch (error) {
        if (!(error instanceof BadResultError)) throw error;
        drop = true; // bad bytes: never resume from them
        if (round >= DOWNLOADS_FOR_BAD_RESULT || target.path === undefined) throw error;
        // Storage sometimes hands out a cut file; one fresh download settles whether it is real.
        options.onLog?.(`the downloaded result is broken (${error.message}); downloading it again`);
        await removeAll([partPath]);
      } finally {
        await worker?.stop(); // used or not: one thread per download
        worker = undefined;
        await entry.release(drop);
      }
    }
  } catch (error) {
    throw localFileError(error, options.cacheDir) ?? error;
  } finally {
    await worker?.stop();
    await removeAll([partPath]);
  }
}

/** One download with the conversion reading the bytes as they land. */
async function transferOnce(
  link: string,
  object: string,
  entry: CacheEntry,
  partPath: string,
  worker: ConvertWorker | undefined,
  options: FetchResultOptions,
): Promise<{ result: ConvertResult; download: DownloadResult }> {
  const now = options.now ?? Date.now;
  const growing = new GrowingFile();
  // Stops the download when the conversion fails (or on Ctrl-C).
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  const download = downloadResult({
    link,
    getLink: () => options.getResultLink(options.taskId),
    entry,
    growing,
    taskId: options.taskId,
    object,
    expiresAt: options.deletionAt ?? now() + RESULT_LIFETIME_MS,
    now,
    sleep: options.sleep,
    signal: abort.signal,
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
    ...(options.storageDeadlines ? { deadlines: options.storageDeadlines } : {}),
    ...(options.freeSpace ? { freeSpace: options.freeSpace } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.trace ? { trace: options.trace } : {}),
  });
  download.catch(() => undefined); // awaited below; the conversion sees its failure too
  try {
    const inputPath = await growing.ready;
    if (entry.meta && (await entry.heldBytes()) > 0)
      options.onLog?.(`resuming the result download from the bytes an earlier run kept`);
    // Scratch files (XLSX's body, a CSV's body on its way to stdout) go to the cache too: nothing
    // but the .part beside --out.
    const scratchDir = dirname(entry.rawPath);
    const result = worker
      ? await worker.convert(inputPath, partPath, growing.share(), { ...options, signal: abort.signal, scratchDir })
      : // Loaded only here: a file output converts in the worker, and the main thread goes without.
        await (await import('./convert-to-target.js')).convertToTarget(inputPath, partPath, {
          ...options,
          signal: abort.signal,
          growing,
          interruptSignal: options.signal,
          scratchDir,
        });
    return { result, download: await download };
  } catch (error) {
    abort.abort();
    // The download's own failure is the reason when there is one (the conversion only saw it).
    const downloadError = await download.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (options.signal?.aborted)
      throw error instanceof InterruptedError ? error : new InterruptedError('interrupted', { cause: error });
    if (downloadError !== undefined && !(downloadError instanceof InterruptedError)) throw downloadError;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
