/**
 * Vitest helpers for the sandbox: fast task delays, closed after the suite, and a raw HTTP helper
 * that sends exactly the headers given (no client defaults) and reports the bytes received.
 *
 *   const sandbox = useSandbox({ rows: 20 });          // in a describe/file scope
 *   it('…', async () => { const r = await sandboxRequest(sandbox(), '/async'); … });
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

/** Quick lifecycle and small results: suitable for most tests. */
export const FAST_SANDBOX: Partial<SandboxOptions> = { pendingMs: 20, processingMs: 40, rows: 50 };

/** Starts a sandbox with fast defaults; the caller closes it. */
export function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  return startSandbox({ ...FAST_SANDBOX, ...options });
}

/** Starts a sandbox before the suite's tests and closes it after them; call the result to get it. */
export function useSandbox(options: Partial<SandboxOptions> = {}): () => Sandbox {
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await startTestSandbox(options);
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  return () => {
    if (!sandbox) throw new Error('useSandbox(): the sandbox is not started yet (use it inside a test or hook)');
    return sandbox;
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The bytes as received (still gzip-encoded if Content-Encoding says so). */
  raw: Buffer;
  /** The body decoded (gunzipped when Content-Encoding: gzip), as text. */
  text: string;
  /** `text` parsed as JSON, or undefined when empty or not JSON. */
  json: unknown;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request with exactly these headers (nothing added), body collected and decoded. */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let decoded = raw;
          if (res.headers['content-encoding'] === 'gzip' && raw.length > 0) {
            try {
              decoded = gunzipSync(raw);
            } catch {
              decoded = raw; // a partial (Range) or broken gzip body: leave it as received
            }
          }
          const text = decoded.toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The default headers of an authenticated API call. */
export const API_HEADERS: Readonly<Record<string, string>> = {
  Authorization: 'Bearer test-token',
  'Accept-Encoding': 'gzip',
};

/** An API request on the sandbox: `path` is under the base URL (`/async`), or an absolute URL. */
export function sandboxRequest(sandbox: Sandbox, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const url = /^https?:/.test(path) ? path : `${sandbox.baseUrl}${path}`;
  return rawRequest(url, { ...options, headers: { ...API_HEADERS, ...options.headers } });
}

/** Polls a task until `done(state)` (or a final state), with short real sleeps. */
export async function waitForTask(
  sandbox: Sandbox,
  statusUrl: string,
  until: (state: string) => boolean = (s) => !['PENDING', 'PROCESSING'].includes(s),
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sandboxRequest(sandbox, statusUrl);
    const task = r.json as Record<string, unknown> | undefined;
    if (task && typeof task.state === 'string' && until(task.state)) return task;
    if (Date.now() > deadline) throw new Error(`task did not reach the wanted state in ${timeoutMs} ms: ${r.text}`);
    // 50 ms apart: faster polling drains the 45-unit rate bucket on a loaded machine (then 429).
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
