/** Options and public record types of the sandbox (see index.ts for the entry point). */
import type { Faults } from './faults.js';

export interface RateLimitOptions {
  /** Bucket size in units (45). */
  units: number;
  /** Window in ms over which the bucket refills completely (3000). */
  windowMs: number;
  /**
   * Units one request costs (§3.2): keys are API paths under the base (`/report/stock/all`), or
   * `default` for everything else. Default: the two stock reports 5, everything else 1.
   */
  weights: Record<string, number>;
}

export interface StorageOptions {
  /**
   * Serve the result gzip-encoded (`Content-Encoding: gzip`; Content-Length and Range then apply to
   * the gzip bytes). `'negotiate'`: only when the request's Accept-Encoding names gzip.
   */
  gzip: boolean | 'negotiate';
  /** Honour `Range: bytes=N-` / `bytes=N-M` with 206 (else always 200 with the whole file). */
  range: boolean;
  /** Send Content-Length (else chunked transfer). */
  contentLength: boolean;
  /** Throttle downloads to this many bytes per second. */
  bytesPerSecond?: number | undefined;
  /** Content-Type of the result file. Default `application/json`. */
  contentType?: string;
}

export interface SandboxOptions {
  host: string;
  /** API port; 0 = ephemeral. */
  port: number;
  /** Storage origin port; 0 = ephemeral. */
  storagePort: number;
  /** If set, only this bearer token (and tokens issued by POST /security/token) is accepted. */
  token?: string | undefined;
  /** If set, Basic auth must use exactly these credentials; else any non-empty login:password. */
  login?: string | undefined;
  password?: string | undefined;
  rows: number;
  seed: number;
  stores: number;
  /** How long a task stays PENDING, then PROCESSING (ms). */
  pendingMs: number;
  processingMs: number;
  /** Lifetime of a storage link (5 min). */
  linkTtlMs: number;
  /** deletionDate = completion + this (1 h). */
  resultTtlMs: number;
  /** PENDING + PROCESSING tasks per account (4). */
  queueLimit: number;
  /** Requests in flight per user (5). */
  parallelLimit: number;
  rateLimit: RateLimitOptions;
  storage: StorageOptions;
  /** Pretty-print result files (2 spaces). */
  pretty: boolean;
  /** Write `meta` after the records in result files. */
  metaLast: boolean;
  /** Generated rows take the forms of real bodies (docs/api-facts.md §10; see GenerateOptions.fieldForms). */
  fieldForms: boolean;
  /** Where result files go; default a fresh temporary directory, removed on close. */
  dataDir?: string | undefined;
  faults: Faults;
  /** A webhook receiver must answer 200/204 within this (1500 ms). */
  webhookTimeoutMs: number;
  /** HTTP statuses of the undocumented-status errors, by API error code (see DEFAULT_ERROR_STATUS). */
  errorStatus: Record<number, number>;
}

/** One request seen by the sandbox, on either origin. */
export interface SandboxRequestRecord {
  origin: 'api' | 'storage';
  method: string;
  /** Absolute URL as requested. */
  url: string;
  /** Lower-cased; an Authorization value is replaced by its scheme + ' ***'. */
  headers: Record<string, string>;
  /** 0 while in flight, or when the connection was dropped. */
  status: number;
  startedAt: number;
  endedAt: number;
  /** Storage: body bytes handed to the socket (a resumed download is proven by counting them). */
  bodyBytes?: number;
}

/** One webhook notification attempt. */
export interface WebhookDeliveryRecord {
  webhookId: string;
  url: string;
  requestId: string;
  attempt: number;
  action: 'PROCESSED' | 'UPDATE';
  taskId: string;
  state: string;
  /** Receiver's status, 0 on timeout/network error, -1 when skipped (not a loopback URL). */
  status: number;
  at: number;
}

/**
 * HTTP statuses the fact sheet leaves open (§9.2), keyed by API error code. Override with
 * `errorStatus` to play other answers.
 */
export const DEFAULT_ERROR_STATUS: Readonly<Record<number, number>> = {
  61000: 400,
  61001: 400,
  61002: 429,
  61003: 410,
  61004: 400,
  61005: 400,
  61006: 400,
  61007: 400,
  61008: 500,
};
