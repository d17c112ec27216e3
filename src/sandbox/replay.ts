/**
 * `ms-async sandbox --replay trace.har`: a loopback server that answers as a `--trace` file
 * recorded, so that the trace of a user's failing run becomes a test (README, "The sandbox").
 *
 * Requests are matched by method, origin, path and query — secrets left out, as the trace has
 * them as `***` — and each match takes the next recorded answer in order; once a request's
 * answers are used up the last one repeats (a client may poll more often than the recorded one).
 * The recorded API origin is served at the root, every other origin (the result storage) under
 * `/__replay/<n>`, and absolute URLs in headers and bodies are rewritten to match. Result bodies
 * are not in traces: a recorded download answers with `--result <file>`, or an empty result.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { harProblems, type Har, type HarEntry } from '../trace/har.js';

export interface ReplayOptions {
  har: Har;
  host?: string;
  port?: number;
  /** The body of recorded result downloads (the trace has none). */
  resultFile?: string | undefined;
}

export interface Replay {
  /** The recorded base URL mapped onto this server: `http://127.0.0.1:PORT/api/remap/1.2`. */
  baseUrl: string;
  /** Requests that matched nothing in the trace (`GET /path?query`). */
  unmatched: string[];
  close(): Promise<void>;
}

/** Query parameters that carry secrets: never part of a match. */
const SECRET_PARAMS = new Set(['temp_url_sig']);
/** Headers that describe the recorded connection or encoding, not the answer. */
const DROPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'date',
  'content-range',
]);
const EMPTY_RESULT = '{"meta":{"size":0},"rows":[]}';
const LEFT_OUT = 'result body left out';

/** Reads and checks a HAR file; the error names what is wrong with it. */
export async function loadHar(path: string): Promise<Har> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not a JSON file: ${(error as Error).message}`);
  }
  const problems = harProblems(value);
  if (problems.length > 0) throw new Error(`${path} is not a usable HAR 1.2 file: ${problems.slice(0, 3).join('; ')}`);
  return value as Har;
}

interface Slot {
  entries: HarEntry[];
  next: number;
}

export async function startReplay(options: ReplayOptions): Promise<Replay> {
  const entries = options.har.log.entries;
  const first = entries[0]?.request.url;
  const recordedBase = new URL(options.har.log._baseUrl ?? first ?? 'http://127.0.0.1/api/remap/1.2');
  const apiOrigin = recordedBase.origin;
  const others = [
    ...new Set(entries.map((e) => originOf(e.request.url)).filter((o) => o !== undefined && o !== apiOrigin)),
  ] as string[];
  if (options.resultFile !== undefined) await stat(options.resultFile); // a missing file fails now, not at the download

  const slots = new Map<string, Slot>();
  for (const entry of entries) {
    const url = new URL(entry.request.url);
    const origin = url.origin === apiOrigin ? 0 : others.indexOf(url.origin) + 1;
    const key = keyOf(entry.request.method, origin, url);
    const slot = slots.get(key) ?? { entries: [], next: 0 };
    slot.entries.push(entry);
    slots.set(key, slot);
  }

  const unmatched: string[] = [];
  let root = '';
  const rewrite = (text: string): string => {
    let out = text;
    // The longest origin first: one may be a prefix of another (`http://h:1` and `http://h:10`).
    const pairs: Array<[string, string]> = [
      [apiOrigin, root],
      ...others.map((o, i): [string, string] => [o, `${root}/__replay/${i + 1}`]),
    ];
    for (const [from, to] of pairs.sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
    return out;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    let origin = 0;
    const prefixed = /^\/__replay\/(\d+)(\/.*)$/.exec(url.pathname);
    if (prefixed) {
      origin = Number(prefixed[1]);
      url.pathname = prefixed[2] ?? '/';
    }
    const method = req.method ?? 'GET';
    const slot = slots.get(keyOf(method, origin, url));
    req.resume();
    if (!slot) {
      unmatched.push(`${method} ${url.pathname}${url.search}`);
      const text = JSON.stringify({
        errors: [
          { error: `ms-async replay: the trace holds no answer to ${method} ${url.pathname}${url.search}`, code: 1002 },
        ],
      });
      res.writeHead(404, {
        'Content-Type': 'application/json;charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
      return;
    }
    const entry = slot.entries[Math.min(slot.next, slot.entries.length - 1)] as HarEntry;
    slot.next += 1;
    answer(entry, res, rewrite, options.resultFile);
  });
  server.keepAliveTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve((server.address() as AddressInfo).port));
  });
  root = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    baseUrl: `${root}${recordedBase.pathname.replace(/\/+$/, '')}`,
    unmatched,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(
  entry: HarEntry,
  res: http.ServerResponse,
  rewrite: (text: string) => string,
  resultFile: string | undefined,
): void {
  const { response } = entry;
  if (response.status === 0) {
    // Recorded without an answer (a reset, a refused connection): the same again.
    res.socket?.destroy();
    return;
  }
  const headers: Record<string, string[]> = {};
  for (const { name, value } of response.headers) {
    if (DROPPED_HEADERS.has(name.toLowerCase())) continue;
    (headers[name] ??= []).push(rewrite(value));
  }
  const leftOut = response.content.text === undefined && (response.content.comment ?? '').startsWith(LEFT_OUT);
  if (leftOut && response.status >= 200 && response.status < 300) {
    // The whole file, whatever range the recorded download asked for.
    if (resultFile === undefined) {
      res.writeHead(200, { ...headers, 'Content-Length': String(Buffer.byteLength(EMPTY_RESULT)) });
      res.end(EMPTY_RESULT);
      return;
    }
    stat(resultFile).then(
      (s) => {
        res.writeHead(200, { ...headers, 'Content-Length': String(s.size) });
        createReadStream(resultFile)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () => res.destroy(),
    );
    return;
  }
  const body =
    response.content.text === undefined
      ? Buffer.alloc(0)
      : response.content.encoding === 'base64'
        ? Buffer.from(response.content.text, 'base64')
        : Buffer.from(rewrite(response.content.text), 'utf8');
  res.writeHead(response.status, response.statusText || undefined, {
    ...headers,
    'Content-Length': String(body.length),
  });
  res.end(body);
}

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** `GET 0 /api/remap/1.2/async/…?a=1&b=2`: the query sorted, secrets and `***` values left out. */
function keyOf(method: string, origin: number, url: URL): string {
  const params = [...url.searchParams]
    .filter(([name, value]) => !SECRET_PARAMS.has(name.toLowerCase()) && value !== '***')
    .sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0].localeCompare(b[0])))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${method.toUpperCase()} ${origin} ${url.pathname}?${params.join('&')}`;
}
