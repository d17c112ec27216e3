/**
 * Stream an async task's result from the storage link into the result cache, resuming with Range
 * (within a run after a cut, and across runs from the bytes an earlier run left), renewing expired
 * links, and never sending Authorization to the storage host (another origin; docs/api-facts.md
 * §2.7, §8).
 *
 * Whether the storage gzips, sends Content-Length or honours Range is open (docs/api-facts.md
 * §9.1). So the raw bytes are kept exactly as received (Range offsets count encoded bytes) and,
 * when gzip-encoded, decoded as they arrive into a second file. Either way the file the converter
 * reads grows through a GrowingFile, so conversion runs while the bytes arrive.
 */
import { writeSync } from 'node:fs';
import { open, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createGunzip, type Gunzip } from 'node:zlib';
import { CONNECT_TIMEOUT_MS, HEADER_TIMEOUT_MS, IDLE_TIMEOUT_MS } from '../api/deadlines.js';
import { backoffDelay } from '../api/retry.js';
import { BadResultError, InterruptedError, LocalFileError, NetworkError } from '../errors.js';
import type { CacheEntry, CacheMeta } from './cache.js';
import { BufferedWriter } from './buffered-writer.js';
import { storageGet, type StorageAnswer } from './storage-get.js';
import type { HttpTrace, PlainExchange } from '../trace/recorder.js';
import type { GrowingFile } from './growing.js';

export interface DownloadProgress {
  transferred: number;
  total: number | undefined;
}

export interface StorageDeadlines {
  /** From the request sent (connect included) to the answer's headers. */
  headersMs: number;
  idleMs: number;
  stallBytes: number;
}

/** Deadlines of a storage request (docs/api-facts.md §9.1: the storage's behaviour is ours to bound). */
export const STORAGE_DEADLINES: Readonly<StorageDeadlines> = {
  headersMs: CONNECT_TIMEOUT_MS + HEADER_TIMEOUT_MS,
  /** Socket idle, and the window of the stall check. */
  idleMs: IDLE_TIMEOUT_MS,
  /** Fewer bytes than this within one idle window is a stall (a trickle keeps a socket "alive"). */
  stallBytes: 16 * 1024,
};

/** Room left on the disk that a result's bytes may not eat into (the converted output needs some). */
const DISK_MARGIN = 16 << 20;
/** How often (in decoded bytes) the free space is looked at again. */
const SPACE_CHECK_EVERY = 32 << 20;

export interface DownloadOptions {
  /** The first storage link (already asked for by the caller: it names the object). */
  link: string;
  /** Asks `/async/{id}/result` for a fresh storage link. */
  getLink: () => Promise<string>;
  entry: CacheEntry;
  /** What the converter reads: opened once the first answer is checked, grown as bytes land. */
  growing: GrowingFile;
  taskId: string;
  /** Object identity recorded in the cache meta (origin + path). */
  object: string;
  /** When the result is deleted on the server (epoch ms). */
  expiresAt: number;
  /** Attempts in all, across cuts, expired links and 5xx (default 6). */
  maxAttempts?: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  signal?: AbortSignal;
  userAgent?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** One line per storage request, for -v (the link's signature is hidden). */
  onLog?: (line: string) => void;
  deadlines?: Partial<StorageDeadlines>;
  /** `--trace`: each storage request (status, headers, size; never the body). */
  trace?: Pick<HttpTrace, 'recordExchange'> | undefined;
  /** Free bytes on the cache's disk (tests inject a small number to provoke the space checks). */
  freeSpace?: (dir: string) => Promise<number>;
}

export interface DownloadResult {
  /** Encoded bytes of the result (as on disk), whether or not they came over the wire this run. */
  bytes: number;
  /** Bytes the storage sent this run. */
  received: number;
  /** Bytes an earlier run had left in the cache, used as they were. */
  resumedFrom: number;
  attempts: number;
  encoding: 'gzip' | 'identity';
}

/** A failure worth another attempt; `renewLink` when the link itself is no good any more. */
class RetryableDownloadError extends Error {
  constructor(
    message: string,
    readonly renewLink: boolean,
  ) {
    super(message);
  }
}

/**
 * The stored object changed after the converter started reading it: the run must start over
 * (fetch-result does, once).
 */
export class ResultChangedError extends BadResultError {}

export async function downloadResult(options: DownloadOptions): Promise<DownloadResult> {
  try {
    return await new Download(options).run();
  } catch (error) {
    options.growing.fail(error);
    throw error;
  }
}

class Download {
  private readonly maxAttempts: number;
  private readonly deadlines: StorageDeadlines;
  private raw: FileHandle | undefined;
  /** Encoded bytes on disk, in order from byte 0. */
  private held = 0;
  private resumedFrom = 0;
  private received = 0;
  private encoding: 'gzip' | 'identity' = 'identity';
  private decoder: Decoder | undefined;
  private published = false;
  private total: number | undefined;

  constructor(private readonly o: DownloadOptions) {
    this.maxAttempts = o.maxAttempts ?? 6;
    this.deadlines = { ...STORAGE_DEADLINES, ...o.deadlines };
  }

  async run(): Promise<DownloadResult> {
    const o = this.o;
    if (o.entry.meta) {
      this.held = await o.entry.heldBytes();
      this.resumedFrom = this.held;
    }
    let link = o.link;
    let lastError = 'no attempt made';
    try {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
        throwIfAborted(o.signal);
        checkLink(link);
        try {
          await this.fetchOnce(link);
          const size = this.decoder ? await this.decoder.end() : this.held;
          o.growing.finish(size);
          return {
            bytes: this.held,
            received: this.received,
            resumedFrom: this.resumedFrom,
            attempts: attempt,
            encoding: this.encoding,
          };
        } catch (error) {
          if (o.signal?.aborted) throw interrupted();
          if (!(error instanceof RetryableDownloadError)) throw error;
          lastError = error.message;
          o.onLog?.(`download attempt ${attempt} failed: ${error.message}`);
          if (attempt === this.maxAttempts) break;
          if (error.renewLink) {
            link = await o.getLink();
          } else {
            const delay = backoffDelay(attempt - 1, { baseMs: 500, capMs: 10_000, random: o.random ?? Math.random });
            await o.sleep(delay, o.signal).catch(() => {
              throw interrupted();
            });
          }
        }
      }
    } finally {
      await this.raw?.close().catch(() => undefined);
      await this.decoder?.close();
    }
    throw new NetworkError(`the result download failed after ${this.maxAttempts} attempts: ${lastError}`, {
      hint: 'check the connection and run the same command again: it resumes from the bytes already downloaded',
    });
  }

  private async fetchOnce(link: string): Promise<void> {
    const exchange: PlainExchange = { started: Date.now(), method: 'GET', url: link, requestHeaders: {}, bytes: 0 };
    const receivedBefore = this.received;
    try {
      await this.exchange(link, exchange);
    } catch (error) {
      exchange.error = (error as { code?: string }).code ?? (error as Error).message;
      throw error;
    } finally {
      exchange.bytes = this.received - receivedBefore;
      this.o.trace?.recordExchange(exchange);
    }
  }

  private async exchange(link: string, exchange: PlainExchange): Promise<void> {
    const o = this.o;
    const started = exchange.started;
    const offset = this.held;
    const meta = o.entry.meta;
    const headers: Record<string, string> = { 'accept-encoding': 'gzip', 'user-agent': o.userAgent ?? 'ms-async' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      // A storage that knows the object changed sends it whole (200) instead of a wrong tail.
      const validator = meta?.etag ?? meta?.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    exchange.requestHeaders = headers;
    let request: StorageAnswer;
    try {
      // Our own loop decides about retries: it resumes and renews links.
      request = await storageGet(link, {
        headers,
        headersMs: this.deadlines.headersMs,
        idleMs: this.deadlines.idleMs,
        signal: o.signal,
      });
    } catch (error) {
      if (o.signal?.aborted) throw interrupted();
      if ((error as { code?: string }).code === 'ERR_UNSUPPORTED_PROTOCOL') {
        throw new NetworkError(`the storage redirected the download to a link that is not http(s)`, { cause: error });
      }
      throw new RetryableDownloadError(describeNetworkError(error), false);
    }
    const response = request;
    const status = response.status;
    exchange.status = status;
    exchange.responseHeaders = response.headers;
    o.onLog?.(
      `GET ${redactLink(link)} ${status} ${Date.now() - started}ms${offset > 0 ? ` (from byte ${offset})` : ''}`,
    );

    if (status === 401 || status === 403 || status === 404) {
      request.destroy();
      // An expired or refused signed link: ask the API for a fresh one.
      throw new RetryableDownloadError(`the storage link was refused (HTTP ${status})`, true);
    }
    if (status === 416) {
      request.destroy();
      // What we hold does not fit the object any more: start over.
      await this.startOver('the storage refused the resume range (HTTP 416)');
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
    const etag = header(response.headers.etag);
    const lastModified = header(response.headers['last-modified']);
    let total: number | undefined;
    let skip = 0; // bytes of a 200 body we already hold
    if (status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? ''));
      if (!range || Number(range[1]) !== offset) {
        request.destroy();
        await this.startOver('the storage answered a range we did not ask for');
        throw new RetryableDownloadError('the storage answered a range we did not ask for', false);
      }
      total = range[3] === '*' ? undefined : Number(range[3]);
    } else {
      const length = response.headers['content-length'];
      total = length === undefined ? undefined : Number(length);
    }
    if (offset > 0) {
      const same = meta !== undefined && sameObject(meta, { size: total, etag, lastModified, encoding });
      if (!same && status === 206) {
        request.destroy();
        await this.startOver('the stored result is not the one the bytes on disk came from');
        throw new RetryableDownloadError('the stored result changed; downloading it from the start', false);
      }
      if (!same) {
        // A whole new object (If-Range did its job): its body replaces the bytes on disk.
        await this.startOver('the stored result is not the one the bytes on disk came from');
        o.onLog?.('the stored result is not the one the kept bytes came from: downloading it from the start');
      } else if (status === 200) {
        // 200 after a Range request: the storage ignored it; the bytes we hold are skipped.
        skip = offset;
      }
    }
    this.encoding = encoding;
    this.total = total;
    await o.entry.saveMeta({
      taskId: o.taskId,
      object: o.object,
      size: total,
      etag,
      lastModified,
      encoding,
      expiresAt: o.expiresAt,
      updatedAt: (o.now ?? Date.now)(),
    });
    if (!this.published) await this.publish(total);
    await this.receive(request, skip);
  }

  /** The first good answer: open the file the converter reads, and feed it what is on disk. */
  private async publish(total: number | undefined): Promise<void> {
    const o = this.o;
    const dir = dirname(o.entry.rawPath);
    const free = await (o.freeSpace ?? freeBytes)(dir);
    if (total !== undefined && total - this.held > free - DISK_MARGIN) {
      throw new LocalFileError(
        `not enough disk space for the result in ${dir}: it needs ${total - this.held} more bytes, ${free} are free`,
        { hint: 'free some space (or set MS_ASYNC_CACHE_DIR to a larger disk) and run the same command again' },
      );
    }
    this.raw = await openLocal(o.entry.rawPath, this.held > 0 ? 'r+' : 'w');
    if (this.encoding === 'gzip') {
      this.decoder = new Decoder(o.entry.decodedPath, o.growing, dir, free, o.freeSpace ?? freeBytes);
      await this.decoder.open();
      await this.decoder.feedFromDisk(this.raw, this.held, o.signal);
      o.growing.open(o.entry.decodedPath);
    } else {
      o.growing.open(o.entry.rawPath);
      o.growing.grow(this.held);
    }
    this.published = true;
  }

  /**
   * Writes the body to the raw file from `held` on, through two fixed buffers (BufferedWriter):
   * what arrived before a cut is on disk before the error is handled, so the resume's Range
   * starts exactly there.
   */
  private async receive(request: StorageAnswer, skip: number): Promise<void> {
    const o = this.o;
    const raw = this.raw!;
    let onDisk = this.held;
    const writer = new BufferedWriter(async (bytes) => {
      writeLocalSync(raw, bytes, onDisk, o.entry.rawPath);
      onDisk += bytes.length;
      this.held = onDisk;
      // The decoder is done with the bytes when this resolves: the buffer may then be reused.
      if (this.decoder) await this.decoder.write(bytes);
      else o.growing.grow(onDisk);
      o.onProgress?.({ transferred: onDisk, total: this.total });
    });
    let sinceCheck = 0;
    let stalled = false;
    // A body that trickles (a byte every few seconds) never trips the socket's idle timeout.
    const watchdog = setInterval(() => {
      if (sinceCheck < this.deadlines.stallBytes) {
        stalled = true;
        request.destroy(
          new Error(`stalled: fewer than ${this.deadlines.stallBytes} bytes in ${this.deadlines.idleMs / 1000} s`),
        );
      }
      sinceCheck = 0;
    }, this.deadlines.idleMs);
    o.onProgress?.({ transferred: this.held, total: this.total });
    let received = this.held;
    try {
      await request.readBody((data) => {
        let chunk = data;
        this.received += chunk.length;
        sinceCheck += chunk.length;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
        }
        received += chunk.length;
        const off = writer.add(chunk);
        if (off === chunk.length) return undefined;
        // Both buffers full: the socket waits (its read buffer, and so `chunk`, stays as it is).
        return (async () => {
          for (let at = off; at < chunk.length; ) {
            await writer.drain();
            at = writer.add(chunk, at);
          }
        })();
      });
      await writer.flush();
    } catch (error) {
      // Keep what arrived: the resume asks only for the rest.
      await writer.flush().catch((e: unknown) => {
        throw e instanceof LocalFileError || e instanceof BadResultError ? e : error;
      });
      if (error instanceof LocalFileError || error instanceof BadResultError) throw error;
      if (o.signal?.aborted) throw interrupted();
      const why = stalled
        ? `stalled: fewer than ${this.deadlines.stallBytes} bytes in ${this.deadlines.idleMs / 1000} s`
        : describeNetworkError(error);
      throw new RetryableDownloadError(`the transfer was cut after ${this.held} bytes (${why})`, false);
    } finally {
      clearInterval(watchdog);
    }
    if (this.total !== undefined && received !== this.total) {
      throw new RetryableDownloadError(`the transfer ended at ${received} of ${this.total} bytes`, false);
    }
  }

  /** Drops the bytes on disk; once the converter has read some, the whole run must start over. */
  private async startOver(why: string): Promise<void> {
    if (this.published) throw new ResultChangedError(`${why}: the conversion starts over`);
    this.held = 0;
    this.resumedFrom = 0;
    await this.o.entry.discard();
  }
}

/** Same object as the bytes on disk came from: same size, encoding and validators where sent. */
function sameObject(
  meta: CacheMeta,
  now: { size: number | undefined; etag?: string | undefined; lastModified?: string | undefined; encoding: string },
): boolean {
  if (meta.encoding !== now.encoding) return false;
  if (meta.size !== undefined && now.size !== undefined && meta.size !== now.size) return false;
  if (meta.etag !== undefined && now.etag !== undefined && meta.etag !== now.etag) return false;
  if (meta.lastModified !== undefined && now.lastModified !== undefined && meta.lastModified !== now.lastModified)
    return false;
  // Nothing to compare at all: the bytes cannot be trusted.
  return meta.size !== undefined || meta.etag !== undefined || meta.lastModified !== undefined;
}

/**
 * Gzip bytes → the decoded file, as they arrive. The decoded size is checked against the disk's
 * free space, so that a small answer that inflates to gigabytes (a bomb) ends with a clear error.
 */
class Decoder {
  private readonly gunzip: Gunzip = createGunzip();
  private fh: FileHandle | undefined;
  private written = 0;
  private nextCheck = SPACE_CHECK_EVERY;
  private budget: number;
  private readonly done: Promise<void>;
  private failure: unknown;

  constructor(
    private readonly path: string,
    private readonly growing: GrowingFile,
    private readonly dir: string,
    free: number,
    private readonly freeSpace: (dir: string) => Promise<number>,
  ) {
    this.budget = free - DISK_MARGIN;
    this.done = this.pump();
    this.done.catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  async open(): Promise<void> {
    this.fh = await openLocal(this.path, 'w');
  }

  private async pump(): Promise<void> {
    try {
      for await (const out of this.gunzip as AsyncIterable<Buffer>) {
        if (this.written + out.length > this.nextCheck) {
          this.budget = Math.min(this.budget, this.written + (await this.freeSpace(this.dir)) - DISK_MARGIN);
          this.nextCheck = this.written + SPACE_CHECK_EVERY;
        }
        if (this.written + out.length > this.budget) {
          throw new LocalFileError(
            `the result decodes to more than the free disk space in ${this.dir} (over ${this.written + out.length} bytes ` +
              'so far): not enough room, or not a real result',
          );
        }
        await writeLocal(this.fh!, out, this.written, this.path);
        this.written += out.length;
        this.growing.grow(this.written);
      }
    } catch (error) {
      if (error instanceof LocalFileError) throw error;
      throw new BadResultError(`the result file is not valid gzip: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Resolves once the decoder has consumed `chunk` (the caller may then reuse it). */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const consumed = new Promise<void>((resolve, reject) => {
      this.gunzip.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
    await Promise.race([consumed, this.done.then(() => consumed)]);
    if (this.failure !== undefined) throw this.failure;
  }

  async feedFromDisk(raw: FileHandle, size: number, signal: AbortSignal | undefined): Promise<void> {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < size; ) {
      throwIfAborted(signal);
      const { bytesRead } = await raw.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      await this.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  }

  /** All bytes are in: checks the gzip trailer, returns the decoded size. */
  async end(): Promise<number> {
    this.gunzip.end();
    await this.done;
    return this.written;
  }

  async close(): Promise<void> {
    this.gunzip.destroy();
    await this.done.catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
  }
}

async function freeBytes(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.MAX_SAFE_INTEGER; // unknown: the writes themselves will say ENOSPC
  }
}

async function openLocal(path: string, flags: string): Promise<FileHandle> {
  try {
    return await open(path, flags, 0o600);
  } catch (error) {
    throw localIoError(error, path);
  }
}

async function writeLocal(fh: FileHandle, chunk: Buffer, position: number, path: string): Promise<void> {
  try {
    await fh.write(chunk, 0, chunk.length, position);
  } catch (error) {
    throw localIoError(error, path);
  }
}

/**
 * The raw bytes' writes, synchronous: 1 MiB into the page cache takes well under a millisecond,
 * whereas a hop through libuv's thread pool waits for a free thread and a CPU — on a busy
 * 2-core machine long enough that the socket had to be paused (measured: the download of 100 MB
 * alone took 2–3 s instead of curl's 0.8 s).
 */
function writeLocalSync(fh: FileHandle, chunk: Buffer, position: number, path: string): void {
  try {
    for (let done = 0; done < chunk.length; ) {
      done += writeSync(fh.fd, chunk, done, chunk.length - done, position + done);
    }
  } catch (error) {
    throw localIoError(error, path);
  }
}

/** errno codes that mean "this machine's disk or file system", not the network. */
const LOCAL_FILE_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EFBIG',
  'EROFS',
  'ENOENT',
  'EACCES',
  'EPERM',
  'EDQUOT',
  'EISDIR',
  'ENOTDIR',
  'EIO',
]);

/** A disk error (ENOSPC, EFBIG …) is this machine's, not the network's: no retry (exit 9). */
function localIoError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && LOCAL_FILE_CODES.has(code)) {
    const why =
      code === 'ENOSPC' ? 'the disk is full' : code === 'EFBIG' ? 'the file is too large for the file system' : code;
    return new LocalFileError(`cannot write ${path}: ${why} (${code})`, { cause: error });
  }
  return error;
}

/** Only http(s) links are downloaded: a `file://` or other scheme is refused at once, not retried. */
function checkLink(link: string): void {
  let protocol: string;
  try {
    protocol = new URL(link).protocol;
  } catch {
    throw new NetworkError('the API gave a storage link that is not a URL');
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new NetworkError(`the API gave a storage link with the scheme "${protocol}": only http(s) is downloaded`);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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

/** The object a storage link names: origin and path, without the signed query. */
export function objectOf(link: string): string {
  try {
    const url = new URL(link);
    return `${url.origin}${url.pathname}`;
  } catch {
    return link;
  }
}

function interrupted(): InterruptedError {
  return new InterruptedError('interrupted during the download');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}
