import { clampDelay } from './deadlines.js';

/**
 * The retry policy of the client, as pure functions so that it can be read and tested on its own
 * (issue 3; docs/api-facts.md §3.5, §3.6, §8).
 */

export interface BackoffOptions {
  /** Delay of the first retry before jitter. */
  baseMs: number;
  /** Upper bound of any single delay. */
  capMs: number;
  /** 0 ≤ random() < 1; injected for tests. */
  random: () => number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base·2^attempt)).
 * `attempt` counts from 0 (the first retry).
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(options.random() * ceiling);
}

/** What kind of request this is, for deciding what may be repeated safely. */
export type RequestKind =
  /** GET, PUT …/cancel, DELETE: repeating it changes nothing. */
  | 'idempotent'
  /**
   * Task creation (GET …?async=true) and POSTs: a repeat after the server got the first one may
   * create a duplicate task or webhook, so only failures that certainly did not reach the server
   * are retried.
   */
  | 'create';

/** Network error codes that mean "the request never reached the server". */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/** Network error codes worth another try on an idempotent request. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_READING_RESPONSE_STREAM',
  'UND_ERR_SOCKET',
  'EPROTO',
  'HPE_INVALID_CONSTANT',
  'ERR_BODY_PARSE_FAILURE',
  'Z_BUF_ERROR',
  'Z_DATA_ERROR',
]);

/**
 * May a request that failed without an HTTP answer be sent again?
 * `connectPhase` is true when got timed out before the connection was made (lookup/connect).
 */
export function isRetryableNetworkError(code: string | undefined, kind: RequestKind, connectPhase: boolean): boolean {
  if (connectPhase) return true;
  if (code === undefined) return false;
  return kind === 'idempotent' ? TRANSIENT_CODES.has(code) : NOT_SENT_CODES.has(code);
}

/**
 * May a 5xx answer be retried? Idempotent requests: always. Creation: only when the server says
 * it did not take the request — 502/503 (front end could not reach or refused the back end) or a
 * 500 with the API's JSON error body (the API failed it). 504 is ambiguous (the back end may
 * still create the task), so it is not retried: the user is told to check `ms-async list`.
 */
export function isRetryableStatus(status: number, kind: RequestKind, hasApiErrorBody: boolean): boolean {
  if (status < 500) return false;
  if (kind === 'idempotent') return true;
  if (status === 502 || status === 503) return true;
  return status === 500 && hasApiErrorBody;
}

/**
 * Milliseconds to wait after a 429: X-Lognex-Retry-After, else X-Lognex-Reset, else undefined;
 * capped at MAX_PACING_MS (a header saying a day must not pause a day).
 */
export function rateLimitWaitMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  for (const name of ['x-lognex-retry-after', 'x-lognex-reset']) {
    const value = headerNumber(headers, name);
    if (value !== undefined && value > 0) return clampDelay(value);
  }
  return undefined;
}

/**
 * Pacing when `X-RateLimit-Remaining` runs low: the pause before the next request, spreading the
 * rest of the window (X-Lognex-Reset, else X-Lognex-Retry-TimeInterval) over what is left.
 * 0 when there is room; never more than MAX_PACING_MS.
 */
export function pacingDelayMs(headers: Record<string, string | string[] | undefined>, lowWater: number): number {
  const remaining = headerNumber(headers, 'x-ratelimit-remaining');
  if (remaining === undefined || remaining > lowWater) return 0;
  const window = headerNumber(headers, 'x-lognex-reset') || headerNumber(headers, 'x-lognex-retry-timeinterval') || 0;
  if (window <= 0) return 0;
  return clampDelay(window / (Math.max(0, remaining) + 1));
}

export function headerNumber(headers: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const raw = headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
