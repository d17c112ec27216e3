/**
 * `--trace <file>`: every request and answer of a run as a HAR 1.2 log, so that one failing run
 * against a real account can be read, and replayed by `ms-async sandbox --replay` (README,
 * "Choices where the docs are silent"). Secrets never reach the file: Authorization values, the
 * storage link's `temp_url_sig` and the run's own credentials are replaced by `***`. API answers
 * keep their bodies up to 64 KiB; result downloads keep none (they are the user's data).
 *
 * The recorder knows got only through the events of a request stream: the API client hands it
 * each exchange, the downloader each storage request, in one place each.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'got';
import type { Har, HarEntry, HarHeader, HarTimings } from './har.js';

export const BODY_LIMIT_BYTES = 64 * 1024;
export const REDACTED = '***';

/** What the API client and the downloader are given. */
export interface HttpTrace {
  /** An API exchange: status, headers, timings and the body up to 64 KiB. */
  observeApi(request: Request): void;
  /** A result download: status, headers, timings and size — never the body (it is the user's data). */
  observeStream(request: Request): void;
  /** A storage request made without got (the download's own socket): recorded once it ended. */
  recordExchange(exchange: PlainExchange): void;
  /** Values that must never appear in the file (tokens, passwords). */
  addSecrets(...secrets: Array<string | undefined>): void;
  /** The API base URL of the run (the first one given wins): a replay serves that origin as the API. */
  baseUrl: string | undefined;
}

/** One request and its outcome, as the storage download saw it. */
export interface PlainExchange {
  started: number;
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  /** Absent when no answer came. */
  status?: number | undefined;
  responseHeaders?: Record<string, string> | undefined;
  /** Body bytes received. */
  bytes: number;
  /** Why it ended early (a code), if it did. */
  error?: string | undefined;
}

interface Pending {
  started: number;
  method: string;
  url: string;
  headers: Record<string, unknown>;
}

interface Timings {
  phases?: {
    wait?: number | undefined;
    dns?: number | undefined;
    tcp?: number | undefined;
    tls?: number | undefined;
    request?: number | undefined;
    firstByte?: number | undefined;
    download?: number | undefined;
    total?: number | undefined;
  };
}

export interface TraceRecorderOptions {
  /** Wall clock for `startedDateTime` (ms since the epoch). */
  now?: () => number;
  /** `creator.version` of the log. */
  version: string;
  /** The run's API base URL, kept in the log so that a replay knows which origin is the API. */
  baseUrl?: string | undefined;
}

export class TraceRecorder implements HttpTrace {
  readonly entries: HarEntry[] = [];
  private readonly pending = new Map<object, Pending>();
  private readonly secrets = new Set<string>();
  private readonly now: () => number;
  baseUrl: string | undefined;

  constructor(private readonly options: TraceRecorderOptions) {
    this.now = options.now ?? Date.now;
    this.baseUrl = options.baseUrl;
  }

  addSecrets(...secrets: Array<string | undefined>): void {
    for (const secret of secrets) if (secret) this.secrets.add(secret);
  }

  observeApi(request: Request): void {
    this.observe(request, true);
  }

  observeStream(request: Request): void {
    this.observe(request, false);
  }

  recordExchange(exchange: PlainExchange): void {
    const pending = {
      started: exchange.started,
      method: exchange.method,
      url: exchange.url,
      headers: exchange.requestHeaders,
    };
    const total = this.now() - exchange.started;
    if (exchange.status === undefined) {
      this.entries.push(
        this.entryOf(pending, undefined, undefined, `no answer: ${exchange.error ?? 'closed'}`, undefined, {
          phases: { total },
        }),
      );
      return;
    }
    // Shaped like got's Response, as far as entryOf reads it.
    const response = {
      statusCode: exchange.status,
      statusMessage: '',
      httpVersion: '1.1',
      headers: exchange.responseHeaders ?? {},
      timings: { phases: { total } },
    } as unknown as Response;
    const cut = exchange.error ? ` (cut: ${exchange.error})` : '';
    this.entries.push(this.entryOf(pending, response, undefined, `${bodyLeftOut}${cut}`, exchange.bytes));
  }

  private observe(request: Request, keepBody: boolean): void {
    const key = request;
    const options = request.options;
    let response: Response | undefined;
    let bytes = 0;
    const chunks: Buffer[] = [];
    let kept = 0;
    let done = false;
    this.pending.set(key, {
      started: this.now(),
      method: String(options.method ?? 'GET'),
      url: String(options.url ?? ''),
      headers: { ...options.headers },
    });
    request.once('response', (r: Response) => {
      response = r;
    });
    if (keepBody) {
      // The API client reads this stream in flowing mode already: one more listener takes nothing from it.
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (kept > BODY_LIMIT_BYTES) return;
        chunks.push(chunk);
        kept += chunk.length;
      });
    } else {
      // A download is read with for-await: a 'data' listener would race it, so only count.
      request.on('downloadProgress', (progress: { transferred: number }) => {
        bytes = progress.transferred;
      });
    }
    const end = (error?: Error): void => {
      if (done) return;
      done = true;
      const body = keepBody ? Buffer.concat(chunks).toString('utf8') : undefined;
      if (response) {
        const cut = error ? ` (cut: ${errorCode(error)})` : '';
        this.finish(key, response, body, keepBody ? cut || undefined : `${bodyLeftOut}${cut}`, bytes);
      } else {
        this.fail(key, error ? errorCode(error) : 'closed', request.timings as Timings | undefined);
      }
    };
    request.once('end', () => end());
    request.once('error', (error: Error) => end(error));
    request.once('close', () => end(request.readableEnded ? undefined : new Error('closed')));
  }

  /** The log so far; requests still waiting for an answer appear as answered by nobody. */
  toHar(): Har {
    const unanswered = [...this.pending.values()].map((p) =>
      this.entryOf(p, undefined, undefined, 'no answer (the run ended first)'),
    );
    const entries = [...this.entries, ...unanswered].sort((a, b) => a.startedDateTime.localeCompare(b.startedDateTime));
    const har: Har = {
      log: {
        version: '1.2',
        creator: { name: 'ms-async', version: this.options.version },
        pages: [],
        entries,
        comment: 'Recorded by ms-async --trace. Secrets are replaced by ***; result bodies are left out.',
        ...(this.baseUrl ? { _baseUrl: this.redactText(this.baseUrl) } : {}),
      },
    };
    return har;
  }

  /** The HAR as text, with every known secret scrubbed once more as a last line of defence. */
  serialize(): string {
    let text = JSON.stringify(this.toHar(), null, 2);
    for (const secret of this.secrets) {
      // Short values ("sandbox") would hit ordinary words; Authorization is redacted by structure anyway.
      if (secret.length < 8) continue;
      for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
        text = text.split(form).join(REDACTED);
      }
    }
    return `${text}\n`;
  }

  /** Writes the file atomically: a sibling temporary file renamed over it. */
  async write(path: string): Promise<void> {
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, this.serialize(), { mode: 0o600 });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  private finish(
    key: object,
    response: Response,
    body: string | undefined,
    comment: string | undefined,
    size?: number,
  ): void {
    const pending = this.pending.get(key) ?? {
      started: this.now() - (response.timings?.phases?.total ?? 0),
      method: String(response.request?.options?.method ?? 'GET'),
      url: response.url ?? '',
      headers: { ...response.request?.options?.headers },
    };
    this.pending.delete(key);
    this.entries.push(this.entryOf(pending, response, body, comment, size));
  }

  private fail(key: object, code: string, timings: Timings | undefined): void {
    const pending = this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key);
    this.entries.push(this.entryOf(pending, undefined, undefined, `no answer: ${code}`, undefined, timings));
  }

  private entryOf(
    pending: Pending,
    response: Response | undefined,
    body: string | undefined,
    comment: string | undefined,
    size?: number,
    failedTimings?: Timings,
  ): HarEntry {
    const url = this.redactText(redactUrl(pending.url));
    const timings = harTimings((response?.timings as Timings | undefined) ?? failedTimings);
    const responseHeaders = response ? this.harHeaders(response.headers) : [];
    const location = response?.headers.location;
    const bodyBytes = size ?? (body === undefined ? -1 : Buffer.byteLength(body));
    const kept = body === undefined ? undefined : truncate(body, BODY_LIMIT_BYTES);
    const notes = [
      ...(kept?.truncated || (kept && bodyBytes > Buffer.byteLength(kept.text))
        ? [`truncated to ${BODY_LIMIT_BYTES} bytes`]
        : []),
      ...(response && comment !== undefined ? [comment] : []),
    ];
    const mimeType = String(response?.headers['content-type'] ?? (body === undefined ? '' : 'application/json'));
    return {
      startedDateTime: new Date(pending.started).toISOString(),
      time: timings.total,
      request: {
        method: pending.method,
        url,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: this.harHeaders(pending.headers),
        queryString: queryOf(url),
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: response?.statusCode ?? 0,
        statusText: response?.statusMessage ?? '',
        httpVersion: response ? `HTTP/${response.httpVersion ?? '1.1'}` : '',
        cookies: [],
        headers: responseHeaders,
        content: {
          size: bodyBytes,
          mimeType,
          ...(kept === undefined ? {} : { text: this.redactText(kept.text) }),
          ...(notes.length > 0 ? { comment: notes.join('; ') } : {}),
        },
        redirectURL: typeof location === 'string' ? this.redactText(redactUrl(location)) : '',
        headersSize: -1,
        bodySize: bodyBytes,
      },
      cache: {},
      timings: timings.har,
      ...(comment !== undefined && !response ? { comment } : {}),
    };
  }

  private harHeaders(headers: IncomingHttpHeaders | Record<string, unknown>): HarHeader[] {
    const out: HarHeader[] = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) {
        out.push({ name, value: this.redactText(redactHeader(name, String(one))) });
      }
    }
    return out;
  }

  private redactText(text: string): string {
    let out = text.replace(/(temp_url_sig=)[^&"'\s]*/gi, `$1${REDACTED}`);
    for (const secret of this.secrets) if (secret.length >= 8) out = out.split(secret).join(REDACTED);
    return out;
  }
}

const bodyLeftOut = 'result body left out';

function errorCode(error: Error): string {
  return (error as { code?: string }).code ?? error.message;
}

/** Authorization keeps its scheme (`Bearer ***`); cookies go whole. */
export function redactHeader(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const scheme = /^(\S+)\s/.exec(value)?.[1];
    return scheme ? `${scheme} ${REDACTED}` : REDACTED;
  }
  if (lower === 'cookie' || lower === 'set-cookie') return REDACTED;
  return value;
}

/** A URL with the storage signature and any user:password part replaced. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = REDACTED;
      url.password = '';
    }
    const out = url.toString();
    return out.replace(/(temp_url_sig=)[^&]*/gi, `$1${REDACTED}`);
  } catch {
    return text.replace(/(temp_url_sig=)[^&"'\s]*/gi, `$1${REDACTED}`);
  }
}

function queryOf(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function truncate(text: string, limit: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return { text, truncated: false };
  // Cut on a character boundary: a lone half of a UTF-8 sequence would be U+FFFD.
  return {
    text: new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, limit)).replace(/\uFFFD$/, ''),
    truncated: true,
  };
}

function harTimings(timings: Timings | undefined): { har: HarTimings; total: number } {
  const p = timings?.phases ?? {};
  const known = (v: number | undefined): number => (v === undefined || !Number.isFinite(v) ? -1 : Math.max(0, v));
  const send = Math.max(0, known(p.request));
  const wait = Math.max(0, known(p.firstByte));
  const receive = Math.max(0, known(p.download));
  // HAR counts ssl inside connect; got's tcp phase excludes it.
  const blocked = known(p.wait);
  const dns = known(p.dns);
  const connect = p.tcp === undefined ? -1 : known(p.tcp) + Math.max(0, known(p.tls));
  const har: HarTimings = { blocked, dns, connect, ssl: known(p.tls), send, wait, receive };
  const sum = [blocked, dns, connect, send, wait, receive].filter((v) => v > 0).reduce((a, b) => a + b, 0);
  return { har, total: p.total !== undefined ? Math.max(0, p.total) : sum };
}
