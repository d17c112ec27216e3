/**
 * One GET of a storage link over a plain or TLS socket that reads into one fixed buffer (`onread`),
 * with just enough HTTP/1.1 for a signed object download: status line and headers, a body framed
 * by Content-Length, chunked encoding or the end of the connection, and up to 5 redirects to
 * http(s) only. No credentials are ever sent: the link carries its own signature
 * (docs/api-facts.md §2.7).
 *
 * Why not node:http or got: they allocate a fresh Buffer per socket read, freed only by a GC.
 * Measured on a 100 MB result (discarding the bytes): node:http peaks at 85 MB RSS, got higher,
 * this socket at 48 MB (a bare `node` is 41 MB; curl 11 MB) — the difference that keeps fetch
 * under 100 MB while the converter runs beside it (issue 13).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface StorageGetOptions {
  headers: Record<string, string>;
  /** From starting to connect to the answer's headers. */
  headersMs: number;
  /** Socket idle time during the body. */
  idleMs: number;
  signal?: AbortSignal | undefined;
}

/** A failure with a code, like Node's own network errors. */
export class StorageGetError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The answer: status and headers read, the body not yet. */
export interface StorageAnswer {
  status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /**
   * Reads the body: `onData(bytes)` for each piece, a view of the socket's read buffer that is
   * valid only until it returns — unless it returns a promise, which pauses the socket until it
   * settles. Resolves at the end of the body; rejects when it is cut or on the idle deadline.
   */
  readBody(onData: (bytes: Buffer) => void | Promise<void>): Promise<void>;
  destroy(error?: Error): void;
}

const MAX_REDIRECTS = 5;
const MAX_HEADER_BYTES = 64 * 1024;
const READ_BUFFER = 64 * 1024;

export async function storageGet(link: string, options: StorageGetOptions): Promise<StorageAnswer> {
  let url = new URL(link);
  for (let hop = 0; ; hop += 1) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StorageGetError(`the storage redirected to a "${url.protocol}" link`, 'ERR_UNSUPPORTED_PROTOCOL');
    }
    const answer = await getOnce(url, options);
    const location = answer.headers.location;
    if (![301, 302, 303, 307, 308].includes(answer.status) || !location) return answer;
    answer.destroy();
    if (hop >= MAX_REDIRECTS)
      throw new StorageGetError(`more than ${MAX_REDIRECTS} redirects`, 'ERR_TOO_MANY_REDIRECTS');
    url = new URL(location, url);
  }
}

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

function getOnce(url: URL, options: StorageGetOptions): Promise<StorageAnswer> {
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER);
  return new Promise<StorageAnswer>((resolveAnswer, rejectAnswer) => {
    let headerBytes = Buffer.alloc(0);
    let answered = false;
    let mode: BodyMode = { kind: 'close' };
    const chunked = new ChunkedDecoder();
    let onData: ((bytes: Buffer) => void | Promise<void>) | undefined;
    let pendingBody: Buffer[] = []; // body bytes that came with the headers (copied)
    let bodyDone: (() => void) | undefined;
    let bodyFailed: ((error: Error) => void) | undefined;
    let finished = false;
    let failure: Error | undefined;

    const onread = (nread: number, buf: Buffer): boolean => {
      if (finished) return true;
      const bytes = buf.subarray(0, nread);
      if (!answered) {
        headerBytes = Buffer.concat([headerBytes, bytes]);
        const end = headerBytes.indexOf('\r\n\r\n');
        if (end < 0) {
          if (headerBytes.length > MAX_HEADER_BYTES)
            fail(new StorageGetError('the storage sent over 64 KiB of headers', 'ERR_HEADERS'));
          return true;
        }
        const head = headerBytes.subarray(0, end).toString('latin1');
        const rest = Buffer.from(headerBytes.subarray(end + 4));
        headerBytes = Buffer.alloc(0);
        const parsed = parseHead(head);
        if (!parsed) {
          fail(new StorageGetError('the storage sent a malformed HTTP answer', 'ERR_BAD_ANSWER'));
          return true;
        }
        if (parsed.status >= 100 && parsed.status < 200) {
          // 100 Continue and kin: the real answer follows.
          return rest.length > 0 ? onread(rest.copy(buf), buf) : true;
        }
        answered = true;
        clearTimeout(headersTimer);
        const te = parsed.headers['transfer-encoding'];
        const length = parsed.headers['content-length'];
        if (te && /chunked/i.test(te)) mode = { kind: 'chunked' };
        else if (length !== undefined && /^\d+$/.test(length)) mode = { kind: 'length', left: Number(length) };
        if (rest.length > 0) pendingBody.push(rest);
        resolveAnswer({
          status: parsed.status,
          headers: parsed.headers,
          readBody: (handler) => {
            onData = handler;
            return new Promise<void>((resolve, reject) => {
              bodyDone = resolve;
              bodyFailed = reject;
              if (failure) return reject(failure);
              const early = pendingBody;
              pendingBody = [];
              void (async () => {
                for (const b of early) await deliver(b);
                if (mode.kind === 'length' && mode.left === 0) finish();
                else socket.resume();
              })().catch(fail);
            });
          },
          destroy: (error) => {
            if (error) {
              fail(error);
              return;
            }
            finished = true;
            socket.destroy();
          },
        });
        // Hold the body until readBody() is called.
        socket.pause();
        return false;
      }
      let result: void | Promise<void>;
      try {
        result = deliver(bytes);
      } catch (error) {
        fail(error as Error);
        return false;
      }
      if (result instanceof Promise) {
        result.then(() => {
          if (!finished) socket.resume();
        }, fail);
        socket.pause();
        return false;
      }
      return true;
    };

    /** Hands body bytes on, framed; a promise means "wait before reading more". */
    const deliver = (bytes: Buffer): void | Promise<void> => {
      let piece = bytes;
      if (mode.kind === 'length') {
        piece = bytes.subarray(0, Math.min(bytes.length, mode.left));
        mode.left -= piece.length;
        const result = piece.length > 0 ? onData!(piece) : undefined;
        if (mode.left === 0) {
          if (result instanceof Promise) return result.then(finish);
          finish();
        }
        return result;
      }
      if (mode.kind === 'chunked') {
        const pieces = chunked.feed(bytes);
        if (chunked.error) throw new StorageGetError(`bad chunked encoding: ${chunked.error}`, 'ERR_BAD_ANSWER');
        let chain: Promise<void> | undefined;
        for (const p of pieces) {
          if (chain) chain = chain.then(() => onData!(p));
          else {
            const r = onData!(p);
            if (r instanceof Promise) chain = r;
          }
        }
        if (chunked.done) {
          if (chain) return chain.then(finish);
          finish();
        }
        return chain;
      }
      return onData!(piece);
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      bodyDone?.();
    };

    const fail = (error: Error): void => {
      if (finished) return;
      finished = true;
      failure = error;
      clearTimeout(headersTimer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (!answered) rejectAnswer(error);
      else bodyFailed?.(error);
    };

    const onAbort = (): void => fail(new StorageGetError('aborted', 'ABORT_ERR'));
    const headersTimer = setTimeout(
      () => fail(new StorageGetError(`no answer within ${options.headersMs / 1000} s`, 'ETIMEDOUT')),
      options.headersMs,
    );
    const connectOptions = { host, port, onread: { buffer: readBuffer, callback: onread } };
    const socket: net.Socket = secure
      ? tls.connect({ ...connectOptions, servername: net.isIP(host) ? undefined : host } as tls.ConnectionOptions)
      : net.connect(connectOptions);
    socket.setTimeout(options.idleMs, () =>
      fail(new StorageGetError(`no data for ${options.idleMs / 1000} s`, 'ETIMEDOUT')),
    );
    socket.once('error', (error) => fail(error));
    socket.once('close', () => {
      if (finished) return;
      if (answered && mode.kind === 'close' && onData) {
        finish();
        return;
      }
      fail(new StorageGetError('the storage closed the connection', 'ECONNRESET'));
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const headerLines = Object.entries({ host: url.host, connection: 'close', ...options.headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\n${headerLines}\r\n`);
  });
}

function parseHead(head: string): { status: number; headers: Record<string, string> } | undefined {
  const lines = head.split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusLine) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(statusLine[1]), headers };
}

/** Transfer-Encoding: chunked, fed any slices of the stream; returns the data pieces (views). */
class ChunkedDecoder {
  done = false;
  error: string | undefined;
  private state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  private line = '';
  private left = 0;

  feed(bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < bytes.length && !this.done && this.error === undefined) {
      if (this.state === 'data') {
        const take = Math.min(this.left, bytes.length - i);
        out.push(bytes.subarray(i, i + take));
        i += take;
        this.left -= take;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const c = bytes[i++]!;
      if (c !== 0x0a) {
        if (this.line.length > 4096) this.error = 'a line over 4 KiB';
        else if (c !== 0x0d) this.line += String.fromCharCode(c);
        continue;
      }
      const line = this.line;
      this.line = '';
      if (this.state === 'data-end') {
        if (line !== '') this.error = 'no CRLF after a chunk';
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = /^([0-9a-fA-F]+)(?:;.*)?$/.exec(line.trim());
        if (!size) {
          this.error = `bad chunk size "${line.slice(0, 20)}"`;
          break;
        }
        this.left = Number.parseInt(size[1]!, 16);
        this.state = this.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.done = true; // the empty line after the (optional) trailer
      }
    }
    return out;
  }
}
