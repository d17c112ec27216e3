/**
 * The sandbox: a local, loopback-only stand-in for MoySklad's async API (docs/api-facts.md),
 * with an API origin under `/api/remap/1.2` and a separate storage origin for result files.
 *
 *   const sandbox = await startSandbox({ pendingMs: 20, processingMs: 50 });
 *   // … GET `${sandbox.baseUrl}/report/stock/bystore?async=true` …
 *   await sandbox.close();
 */
import { mkdtemp, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PREFIX, handleApi } from './api.js';
import { SandboxCore } from './core.js';
import { defaultFaults, type Faults } from './faults.js';
import type { SandboxOptions, SandboxRequestRecord, WebhookDeliveryRecord } from './options.js';
import { handleStorage } from './storage.js';

export type { Faults } from './faults.js';
export type { SandboxOptions, SandboxRequestRecord, WebhookDeliveryRecord } from './options.js';
export { generateRecords, HOSTILE_STRINGS } from './generate.js';

export interface Sandbox {
  /** e.g. `http://127.0.0.1:PORT/api/remap/1.2` */
  baseUrl: string;
  /** e.g. `http://127.0.0.1:PORT2` */
  storageUrl: string;
  options: SandboxOptions;
  /** Switch faults between requests; span faults count from this call. */
  setFaults(f: Partial<Faults>): void;
  /** Every request seen on both origins, in arrival order (control requests excluded). */
  requests: SandboxRequestRecord[];
  /** Every webhook notification attempt. */
  webhookDeliveries: WebhookDeliveryRecord[];
  /** Highest number of API requests in flight at once. */
  readonly maxInFlight: number;
  /** Highest number of requests in flight at once made with this bearer token. */
  maxInFlightOf(token: string): number;
  /** Highest number of tasks PENDING or PROCESSING at once: the account's, or one token's. */
  maxQueued(token?: string): number;
  /** Moves the virtual clock (deletionDate, link expiry, the list's "last week") forward. */
  advanceClock(ms: number): void;
  /** The virtual clock, ms since the epoch. */
  now(): number;
  /** Closes both servers and removes generated data. */
  close(): Promise<void>;
}

export function defaultSandboxOptions(): SandboxOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    storagePort: 0,
    rows: 1000,
    seed: 1,
    stores: 3,
    // Library defaults are fast (tests); the CLI passes 1000/2000.
    pendingMs: 20,
    processingMs: 50,
    linkTtlMs: 5 * 60_000,
    resultTtlMs: 3_600_000,
    queueLimit: 4,
    parallelLimit: 5,
    rateLimit: {
      units: 45,
      windowMs: 3000,
      weights: { default: 1, '/report/stock/all': 5, '/report/stock/bystore': 5 },
    },
    storage: { gzip: false, range: true, contentLength: true },
    pretty: false,
    metaLast: false,
    fieldForms: true,
    faults: defaultFaults(),
    webhookTimeoutMs: 1500,
    errorStatus: {},
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startSandbox(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const defaults = defaultSandboxOptions();
  const merged: SandboxOptions = {
    ...defaults,
    ...options,
    rateLimit: {
      ...defaults.rateLimit,
      ...options.rateLimit,
      weights: { ...defaults.rateLimit.weights, ...options.rateLimit?.weights },
    },
    storage: { ...defaults.storage, ...options.storage },
    faults: { ...defaults.faults, ...options.faults },
  };
  // Loopback only: nothing here may be reachable from, or send to, another machine.
  if (!LOOPBACK.has(merged.host))
    throw new Error(`sandbox host must be loopback (127.0.0.1, localhost or ::1), got ${merged.host}`);
  const ownDir = merged.dataDir === undefined;
  const dataDir = merged.dataDir ?? (await mkdtemp(join(tmpdir(), 'ms-async-sandbox-')));
  if (!ownDir) await mkdir(dataDir, { recursive: true });
  const core = new SandboxCore(merged, dataDir);

  const fail = (res: http.ServerResponse, error: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = JSON.stringify({
      errors: [{ error: `sandbox bug: ${error instanceof Error ? error.message : String(error)}`, code: 1999 }],
    });
    res.writeHead(500, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const apiServer = http.createServer((req, res) => {
    handleApi(core, req, res).catch((error: unknown) => fail(res, error));
  });
  const storageServer = http.createServer((req, res) => {
    handleStorage(core, req, res).catch((error: unknown) => fail(res, error));
  });
  // Keep-alive like a real front end, but do not hold the process open on close.
  apiServer.keepAliveTimeout = 30_000;
  const hostInUrl = merged.host.includes(':') ? `[${merged.host}]` : merged.host;
  const apiPort = await listen(apiServer, merged.host, merged.port);
  let storagePort: number;
  try {
    storagePort = await listen(storageServer, merged.host, merged.storagePort);
  } catch (error) {
    await closeServer(apiServer);
    throw error;
  }
  core.baseUrl = `http://${hostInUrl}:${apiPort}${API_PREFIX}`;
  core.storageUrl = `http://${hostInUrl}:${storagePort}`;

  let closed: Promise<void> | undefined;
  return {
    baseUrl: core.baseUrl,
    storageUrl: core.storageUrl,
    options: merged,
    setFaults: (f) => core.setFaults(f),
    requests: core.requests,
    webhookDeliveries: core.webhookDeliveries,
    get maxInFlight() {
      return core.maxInFlight;
    },
    maxInFlightOf: (token) => core.maxInFlightByUser.get(`bearer:${token}`) ?? 0,
    maxQueued: (token) =>
      token === undefined ? core.maxActiveTasks : (core.maxActiveTasksByUser.get(`bearer:${token}`) ?? 0),
    advanceClock: (ms) => core.advanceClock(ms),
    now: () => core.now(),
    close: () => {
      closed ??= (async () => {
        await Promise.all([closeServer(apiServer), closeServer(storageServer)]);
        await core.close(ownDir);
      })();
      return closed;
    },
  };
}
