/**
 * Stream an async task's result from the storage link to a file on disk, resuming with Range
 * when the storage allows it, renewing expired links, and never sending Authorization to the
 * storage host (it is another origin; docs/api-facts.md §2.7, §8).
 *
 * The storage's behaviour is an open question of the fact sheet (§9.1): it may or may not gzip,
 * send Content-Length, or honour Range. So the raw bytes are kept exactly as received (Range
 * offsets count encoded bytes) and decoded in a second step only when they were gzip-encoded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { backoffDelay } from '../api/retry.js';
import { BadResultError, InterruptedError, NetworkError } from '../errors.js';
import type { HttpTrace } from '../trace/recorder.js';

export interface DownloadProgress {
  transferred: number;
  total: number | undefined;
}

export interface DownloadOptions {
  /** Asks `/async/{id}/result` for a (fresh) storage link. */
  getLink: () => Promise<string>;
  /** Where the decoded JSON ends up. A sibling `<dest>.raw` holds encoded bytes while needed. */
  destPath: string;
  /** Attempts in all, across cuts, expired links and 5xx (default 6). */
  maxAttempts?: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
  userAgent?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** One line per storage request, for -v (the link's signature is shortened). */
  onLog?: (line: string) => void;
  /** Idle time after which a stalled transfer counts as cut (default 60 s). */
  idleTimeoutMs?: number;
  /** `--trace`: sees each storage request (status, headers, timings; never the body). */
  trace?: Pick<HttpTrace, 'observeStream'> | undefined;
}

export interface DownloadResult {
  bytes: number;
  attempts: number;
  encoding: 'gzip' | 'identity';
}

/** A failure worth another attempt; `renewLink` when the link itself is no good any more. */
class RetryableDownloadError extends Error {
  constructor(message: string, readonly renewLink: boolean) {
    super(message);
  }
}

export async function downloadToFile(options: DownloadOptions): Promise<DownloadResult> {
  const maxAttempts = options.maxAttempts ?? 6;
  const rawPath = `${options.destPath}.raw`;
  const { default: got } = await import('got');
  const storage = got.extend({
    // Our own loop decides about retries: got's would not resume or renew links.
    retry: { limit: 0 },
    throwHttpErrors: false,
    decompress: false,
    timeout: { connect: 15_000, response: 60_000, socket: options.idleTimeoutMs ?? 60_000 },
    headers: { 'accept-encoding': 'gzip', 'user-agent': options.userAgent ?? 'ms-async' },
  });

  let link = await options.getLink();
  let received = 0; // bytes of the current representation already on disk
  let encoding: 'gzip' | 'identity' = 'identity';
  let lastError = 'no attempt made';
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      throwIfAborted(options.signal);
      try {
        const outcome = await fetchOnce(storage, link, rawPath, received, options);
        encoding = outcome.encoding;
        await decodeIfNeeded(rawPath, options.destPath, encoding);
        return { bytes: outcome.total, attempts: attempt, encoding };
      } catch (error) {
        if (options.signal?.aborted) throw interrupted();
        if (!(error instanceof RetryableDownloadError)) throw error;
        lastError = error.message;
        options.onLog?.(`download attempt ${attempt} failed: ${error.message}`);
        received = await sizeOf(rawPath);
        if (attempt === maxAttempts) break;
        if (error.renewLink) {
          link = await options.getLink();
        } else {
          await options.sleep(backoffDelay(attempt - 1, { baseMs: 500, capMs: 10_000, random: options.random ?? Math.random }), options.signal).catch(() => {
            throw interrupted();
          });
        }
      }
    }
  } finally {
    await rm(rawPath, { force: true });
  }
  throw new NetworkError(`the result download failed after ${maxAttempts} attempts: ${lastError}`, {
    hint: 'check the connection and run the same command again',
  });
}

interface FetchOutcome {
  total: number;
  encoding: 'gzip' | 'identity';
}

type StorageClient = typeof import('got').default;

async function fetchOnce(
  storage: StorageClient,
  link: string,
  rawPath: string,
  offset: number,
  options: DownloadOptions,
): Promise<FetchOutcome> {
  const started = Date.now();
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const request = storage.stream(link, { headers, ...(options.signal ? { signal: options.signal } : {}) });
  options.trace?.observeStream(request);
  let response;
  try {
    response = await new Promise<import('got').Response>((resolve, reject) => {
      request.once('response', resolve);
      request.once('error', reject);
    });
  } catch (error) {
    throw new RetryableDownloadError(describeNetworkError(error), false);
  }
  const status = response.statusCode;
  options.onLog?.(`GET ${redactLink(link)} ${status} ${Date.now() - started}ms${offset > 0 ? ` (from byte ${offset})` : ''}`);

  if (status === 401 || status === 403 || status === 404) {
    request.destroy();
    // An expired or refused signed link: ask the API for a fresh one.
    throw new RetryableDownloadError(`the storage link was refused (HTTP ${status})`, true);
  }
  if (status === 416) {
    request.destroy();
    // What we hold does not fit the object any more: start over.
    await rm(rawPath, { force: true });
    throw new RetryableDownloadError('the storage refused the resume range (HTTP 416)', false);
  }
  if (status >= 500 || status === 429 || status === 408) {
    request.destroy();
    throw new RetryableDownloadError(`the storage answered HTTP ${status}`, false);
  }
  if (status !== 200 && status !== 206) {
    request.destroy();
    throw new NetworkError(`the storage answered HTTP ${status} to the result download`);
  }

  const encoding = /\bgzip\b/i.test(String(response.headers['content-encoding'] ?? '')) ? 'gzip' : 'identity';
  let start = 0;
  let total: number | undefined;
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? ''));
    if (!range || Number(range[1]) !== offset) {
      request.destroy();
      await rm(rawPath, { force: true });
      throw new RetryableDownloadError('the storage answered a range we did not ask for', false);
    }
    start = offset;
    total = range[3] === '*' ? undefined : Number(range[3]);
  } else {
    const length = response.headers['content-length'];
    total = length === undefined ? undefined : Number(length);
  }

  let transferred = start;
  options.onProgress?.({ transferred, total });
  // Each chunk is on disk before the next is read (backpressure), and whatever arrived before a
  // cut is on disk when the file closes: the resume's Range starts exactly there. (With pipeline()
  // a cut destroyed the file stream and could drop bytes still buffered in it.)
  // 200 after a Range request means the server ignored it: the file starts over.
  const file = await open(rawPath, start > 0 ? 'a' : 'w');
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      await file.write(chunk);
      transferred += chunk.length;
      options.onProgress?.({ transferred, total });
    }
  } catch (error) {
    if (options.signal?.aborted) throw interrupted();
    throw new RetryableDownloadError(`the transfer was cut after ${transferred} bytes (${describeNetworkError(error)})`, false);
  } finally {
    await file.close();
  }
  if (total !== undefined && transferred !== total) {
    throw new RetryableDownloadError(`the transfer ended at ${transferred} of ${total} bytes`, false);
  }
  return { total: transferred, encoding };
}

async function decodeIfNeeded(rawPath: string, destPath: string, encoding: 'gzip' | 'identity'): Promise<void> {
  if (encoding === 'identity') {
    const { rename } = await import('node:fs/promises');
    await rename(rawPath, destPath);
    return;
  }
  try {
    await pipeline(createReadStream(rawPath), createGunzip(), createWriteStream(destPath));
  } catch (error) {
    await rm(destPath, { force: true });
    throw new BadResultError(`the result file is not valid gzip: ${(error as Error).message}`, { cause: error });
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** The signed link is a credential of sorts: keep its path, hide the signature. */
export function redactLink(link: string): string {
  try {
    const url = new URL(link);
    if (url.searchParams.has('temp_url_sig')) url.searchParams.set('temp_url_sig', '***');
    return url.toString();
  } catch {
    return '<storage link>';
  }
}

function interrupted(): InterruptedError {
  return new InterruptedError('interrupted during the download');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}
