/**
 * The sandbox's state and behaviour, shared by its two HTTP origins: virtual clock, faults, rate
 * buckets, tasks and their lifecycle, result files, storage links and webhooks.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { writeResultFile } from './generate.js';
import { defaultFaults, type Faults, type RequestSpan } from './faults.js';
import { errorObject } from './messages.js';
import type { SandboxOptions, SandboxRequestRecord, WebhookDeliveryRecord } from './options.js';
import { FINAL_STATES, newTaskId, taskJson, type Task, type TaskState } from './tasks.js';

export const ACCOUNT_ID = 'a1e4c2d0-0f3b-11ee-0a80-05a700000001';
export const EMPLOYEE_ID = 'a2f0d9c4-0f3b-11ee-0a80-05a700000033';

export interface Webhook {
  id: string;
  url: string;
  action: 'PROCESSED' | 'UPDATE';
  entityType: 'async';
  enabled: boolean;
  diffType?: 'NONE' | 'FIELDS';
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Span faults count API requests from the moment they were set. */
interface SpanCounter {
  seen: number;
}

export class SandboxCore {
  readonly options: SandboxOptions;
  faults: Faults;
  baseUrl = '';
  storageUrl = '';
  readonly requests: SandboxRequestRecord[] = [];
  readonly webhookDeliveries: WebhookDeliveryRecord[] = [];
  readonly tasks = new Map<string, Task>();
  readonly webhooks = new Map<string, Webhook>();
  /** Storage object id → task id. */
  readonly objects = new Map<string, { taskId: string; batch: string }>();
  /** Tokens issued by POST /security/token, per login; a new one revokes the old (§1.2). */
  readonly issuedTokens = new Map<string, string>();
  readonly revokedTokens = new Set<string>();
  maxInFlight = 0;
  inFlight = 0;
  readonly inFlightByUser = new Map<string, number>();
  /** Peaks, for tests of a client's own limits (issue 9): in flight per user, tasks queued at once. */
  readonly maxInFlightByUser = new Map<string, number>();
  maxActiveTasks = 0;
  readonly maxActiveTasksByUser = new Map<string, number>();
  private clockOffset = 0;
  private readonly buckets = new Map<string, Bucket>();
  /** Aborted by close(): result files still being generated stop between chunks. */
  private readonly generation = new AbortController();
  private readonly spanCounters = new Map<keyof Faults, SpanCounter>();
  private answersSent = 0;
  private readonly secret = randomBytes(20);
  private closed = false;
  private readonly pendingDeliveries = new Set<Promise<void>>();
  readonly dataDir: string;

  private readonly sweeper: NodeJS.Timeout;

  constructor(options: SandboxOptions, dataDir: string) {
    this.options = options;
    this.faults = { ...defaultFaults(), ...options.faults };
    this.dataDir = dataDir;
    for (const key of ['status429', 'status5xx', 'dropConnection', 'brokenJson'] as const)
      this.spanCounters.set(key, { seen: 0 });
    // A long-running sandbox must not keep every result: delete files past their deletionDate.
    this.sweeper = setInterval(() => void this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    for (const task of this.tasks.values()) {
      if (!task.file || task.deletionAt === undefined || now < task.deletionAt) continue;
      const file = task.file;
      delete task.file;
      for (const suffix of ['', '.gzip', '.trunc', '.trunc-gzip']) {
        this.variants.delete(`${task.id}:${suffix.slice(1)}`);
        await rm(`${file}${suffix}`, { force: true }).catch(() => undefined);
      }
    }
  }

  /** Virtual clock: real time plus whatever advanceClock added. */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  advanceClock(ms: number): void {
    this.clockOffset += ms;
  }

  setFaults(partial: Partial<Faults>): void {
    for (const key of Object.keys(partial) as Array<keyof Faults>) {
      if (!(key in this.faults)) continue;
      (this.faults as unknown as Record<string, unknown>)[key] =
        partial[key] ?? (defaultFaults() as unknown as Record<string, unknown>)[key];
      const counter = this.spanCounters.get(key);
      if (counter) counter.seen = 0;
    }
  }

  /** Called once per counted API request: which span faults hit it. A finished span switches off. */
  spanHits(): { status429: boolean; status5xx: number | null; drop: boolean } {
    const status = this.faults.status5xx?.status ?? 503;
    return {
      status429: this.hit('status429'),
      status5xx: this.hit('status5xx') ? status : null,
      drop: this.hit('dropConnection'),
    };
  }

  /** Counted per answer that carries a JSON body. */
  brokenJsonHit(): boolean {
    return this.hit('brokenJson');
  }

  private hit(key: 'status429' | 'status5xx' | 'dropConnection' | 'brokenJson'): boolean {
    const span = this.faults[key];
    if (!span) return false;
    const counter = this.spanCounters.get(key) as SpanCounter;
    counter.seen++;
    const hit = inSpan(span, counter.seen);
    if (counter.seen >= span.at + (span.count ?? 1) - 1) {
      this.faults[key] = null;
      counter.seen = 0;
    }
    return hit;
  }

  skipGzipNow(): boolean {
    this.answersSent++;
    const every = this.faults.skipGzipEvery;
    return every > 0 && this.answersSent % every === 0;
  }

  // -------------------------------------------------------------------------------------------
  // Rate limit: a bucket of `units` per user, refilled continuously over `windowMs` (§3.1–3.3).

  private bucket(user: string): Bucket {
    const { units, windowMs } = this.options.rateLimit;
    const t = performance.now();
    let b = this.buckets.get(user);
    if (!b) {
      b = { tokens: units, at: t };
      this.buckets.set(user, b);
    }
    b.tokens = Math.min(units, b.tokens + ((t - b.at) * units) / windowMs);
    b.at = t;
    return b;
  }

  weightOf(path: string): number {
    const w = this.options.rateLimit.weights;
    return w[path] ?? w.default ?? 1;
  }

  /** Charges `weight` units; on a dry bucket returns the ms to wait instead. */
  charge(user: string, weight: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const b = this.bucket(user);
    if (b.tokens + 1e-9 >= weight) {
      b.tokens -= weight;
      return { ok: true };
    }
    const { units, windowMs } = this.options.rateLimit;
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((weight - b.tokens) * windowMs) / units)) };
  }

  rateHeaders(user: string | undefined): Record<string, string> {
    const { units, windowMs } = this.options.rateLimit;
    const tokens = user ? this.bucket(user).tokens : units;
    const reset = tokens >= units ? 0 : Math.ceil(((units - tokens) * windowMs) / units);
    return {
      'X-RateLimit-Limit': String(units),
      'X-RateLimit-Remaining': String(Math.max(0, Math.floor(tokens))),
      'X-Lognex-Retry-TimeInterval': String(windowMs),
      'X-Lognex-Reset': String(reset),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Tasks

  activeTasks(): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.state === 'PENDING' || t.state === 'PROCESSING') n++;
    return n;
  }

  /** Tasks PENDING or PROCESSING created by `user` (`bearer:<token>` or `basic:<login>`). */
  activeTasksOf(user: string): number {
    let n = 0;
    for (const t of this.tasks.values())
      if (t.user === user && (t.state === 'PENDING' || t.state === 'PROCESSING')) n++;
    return n;
  }

  createTask(
    init: Pick<Task, 'request' | 'spec' | 'rows' | 'lang' | 'withoutStock'> & {
      outcome: Task['outcome'];
      plotError?: { errors: Task['errors']; status: number };
      user?: string;
      processingMs?: number;
    },
  ): Task {
    const task: Task = {
      id: newTaskId(),
      state: 'PENDING',
      request: init.request,
      spec: init.spec,
      rows: init.rows,
      lang: init.lang,
      withoutStock: init.withoutStock,
      outcome: init.outcome ?? this.faults.taskOutcome,
      pendingMs: this.faults.pendingMs ?? this.options.pendingMs,
      processingMs: init.processingMs ?? this.faults.processingMs ?? this.options.processingMs,
      ownerId: EMPLOYEE_ID,
      ...(init.user === undefined ? {} : { user: init.user }),
      createdAt: this.now(),
      timers: [],
    };
    if (init.plotError) {
      task.errors = init.plotError.errors;
      task.errorStatus = init.plotError.status;
    }
    this.tasks.set(task.id, task);
    this.maxActiveTasks = Math.max(this.maxActiveTasks, this.activeTasks());
    if (init.user !== undefined) {
      this.maxActiveTasksByUser.set(
        init.user,
        Math.max(this.maxActiveTasksByUser.get(init.user) ?? 0, this.activeTasksOf(init.user)),
      );
    }
    task.timers.push(setTimeout(() => this.startProcessing(task), task.pendingMs));
    return task;
  }

  private setState(task: Task, state: TaskState): void {
    if (task.state === state) return;
    task.state = state;
    if (state === 'DONE') {
      task.doneAt = this.now();
      task.deletionAt = task.doneAt + this.options.resultTtlMs;
    }
    if (FINAL_STATES.has(state)) {
      for (const timer of task.timers) clearTimeout(timer);
      task.timers = [];
    }
    this.notify(task);
  }

  private startProcessing(task: Task): void {
    if (this.closed || task.state !== 'PENDING') return;
    this.setState(task, 'PROCESSING');
    const willSucceed = !task.outcome && !task.errors;
    if (willSucceed) {
      task.filePromise = this.generateFile(task).catch(() => {
        task.outcome = 'ERROR';
      });
    }
    task.timers.push(setTimeout(() => void this.finish(task), task.processingMs));
  }

  private async finish(task: Task): Promise<void> {
    if (task.filePromise) await task.filePromise;
    if (this.closed || task.state !== 'PROCESSING') return;
    if (task.errors) {
      this.setState(task, 'API_ERROR');
      return;
    }
    switch (task.outcome) {
      case 'ERROR':
        this.setState(task, 'ERROR');
        return;
      case 'CANCEL':
        this.setState(task, 'CANCEL');
        return;
      case 'API_ERROR': {
        const e = this.faults.apiError ?? { status: 400, code: 1040 };
        const object = errorObject(e.code, task.lang);
        if (e.error) object.error = e.error;
        task.errors = [object];
        task.errorStatus = e.status;
        this.setState(task, 'API_ERROR');
        return;
      }
      case 'API_ERROR_AUTH':
        task.errors = [errorObject(1016, task.lang)];
        task.errorStatus = 403;
        this.setState(task, 'API_ERROR');
        return;
      default:
        this.setState(task, 'DONE');
    }
  }

  cancel(task: Task): boolean {
    if (task.state !== 'PENDING' && task.state !== 'PROCESSING') return false;
    this.setState(task, 'CANCEL');
    return true;
  }

  private async generateFile(task: Task): Promise<void> {
    const path = join(this.dataDir, `asynctask_${task.id}_result.json`);
    const { bytes } = await writeResultFile(path, {
      report: task.spec.alias,
      rows: task.rows,
      seed: this.options.seed,
      stores: this.options.stores,
      pretty: this.options.pretty,
      metaLast: this.options.metaLast,
      requestUrl: task.request,
      baseUrl: this.baseUrl,
      assortmentWithoutStock: task.withoutStock,
      fieldForms: this.options.fieldForms,
      signal: this.generation.signal,
    });
    task.file = path;
    task.fileBytes = bytes;
  }

  /** A file derived from the task's result (gzip, truncated, truncated+gzip), made once on demand. */
  private readonly variants = new Map<string, Promise<{ path: string; size: number }>>();

  variant(task: Task, kind: 'plain' | 'gzip' | 'trunc' | 'trunc-gzip'): Promise<{ path: string; size: number }> {
    const file = task.file as string;
    if (kind === 'plain') return Promise.resolve({ path: file, size: task.fileBytes ?? 0 });
    const key = `${task.id}:${kind}`;
    let made = this.variants.get(key);
    if (!made) {
      made = (async () => {
        const path = `${file}.${kind}`;
        const source =
          kind === 'gzip'
            ? createReadStream(file)
            : createReadStream(file, { end: truncationPoint(task.fileBytes ?? 0) - 1 });
        if (kind === 'trunc') await pipeline(source, createWriteStream(path));
        else await pipeline(source, createGzip(), createWriteStream(path));
        return { path, size: (await stat(path)).size };
      })();
      this.variants.set(key, made);
    }
    return made;
  }

  /** A signed storage link for a DONE task (§2.7), valid linkTtlMs (or already expired by fault). */
  issueLink(task: Task): string {
    const objectId = randomUUID();
    const batch = randomUUID();
    this.objects.set(objectId, { taskId: task.id, batch });
    let expiresMs = this.now() + this.options.linkTtlMs;
    if (this.faults.expiredLink) {
      this.faults.expiredLink = false; // once
      expiresMs = this.now() - 1000;
    }
    const expires = Math.floor(expiresMs / 1000);
    const path = `/batch/${batch}/apiasynctaskresult/${objectId}`;
    const sig = this.sign(path, expires);
    return `${this.storageUrl}${path}?temp_url_sig=${sig}&temp_url_expires=${expires}&filename=asynctask_${task.id}_result.json`;
  }

  /** Object-storage style temp-URL signature: HMAC-SHA1 over method, expiry and path. */
  sign(path: string, expires: number): string {
    return createHmac('sha1', this.secret).update(`GET\n${expires}\n${path}`).digest('hex');
  }

  taskBody(task: Task): Record<string, unknown> {
    return taskJson(task, { baseUrl: this.baseUrl, accountId: ACCOUNT_ID, now: this.now() });
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks (§7): PROCESSED on every final state, UPDATE on every state change.

  private notify(task: Task): void {
    const final = FINAL_STATES.has(task.state);
    for (const hook of this.webhooks.values()) {
      if (!hook.enabled) continue;
      if (hook.action === 'PROCESSED' && !final) continue;
      const event: Record<string, unknown> = {
        meta: { type: 'async', href: `${this.baseUrl}/async/${task.id}` },
        action: hook.action,
        accountId: ACCOUNT_ID,
      };
      if (hook.action === 'UPDATE' && hook.diffType === 'FIELDS') {
        event.updatedFields =
          task.state === 'DONE'
            ? ['state', 'resultUrl', 'deletionDate']
            : task.state === 'API_ERROR'
              ? ['state', 'errors']
              : ['state'];
      }
      const delivery = this.deliver(hook, task, { events: [event] });
      this.pendingDeliveries.add(delivery);
      void delivery.finally(() => this.pendingDeliveries.delete(delivery));
    }
  }

  private async deliver(hook: Webhook, task: Task, payload: unknown): Promise<void> {
    const requestId = randomUUID();
    const target = new URL(hook.url);
    target.searchParams.append('requestId', requestId);
    const record = (attempt: number, status: number): void => {
      this.webhookDeliveries.push({
        webhookId: hook.id,
        url: target.toString(),
        requestId,
        attempt,
        action: hook.action,
        taskId: task.id,
        state: task.state,
        status,
        at: this.now(),
      });
    };
    // Only loopback receivers are ever contacted: the sandbox sends nothing off this machine.
    if (!isLoopback(target.hostname) || target.protocol !== 'http:') {
      record(1, -1);
      return;
    }
    const body = JSON.stringify(payload);
    for (let attempt = 1; attempt <= 4 && !this.closed; attempt++) {
      const status = await postOnce(target, body, this.options.webhookTimeoutMs);
      record(attempt, status);
      if (status === 200 || status === 204) return;
    }
  }

  // -------------------------------------------------------------------------------------------

  async close(removeDataDir: boolean): Promise<void> {
    this.closed = true;
    // A large result may be half generated: stop it rather than wait for gigabytes to be written.
    this.generation.abort();
    clearInterval(this.sweeper);
    for (const task of this.tasks.values()) for (const timer of task.timers) clearTimeout(timer);
    await Promise.allSettled([...this.tasks.values()].map((t) => t.filePromise));
    await Promise.allSettled([...this.variants.values()]);
    await Promise.allSettled([...this.pendingDeliveries]);
    if (removeDataDir) {
      await rm(this.dataDir, { recursive: true, force: true });
    } else {
      for (const task of this.tasks.values()) {
        if (!task.file) continue;
        for (const suffix of ['', '.gzip', '.trunc', '.trunc-gzip']) await rm(`${task.file}${suffix}`, { force: true });
      }
    }
  }
}

function inSpan(span: RequestSpan | null, n: number): boolean {
  if (!span) return false;
  const count = span.count ?? 1;
  return n >= span.at && n < span.at + count;
}

/** Where a truncated result file ends: about half-way, always short of the end. */
export function truncationPoint(size: number): number {
  return Math.max(1, Math.min(size - 1, Math.floor(size / 2)));
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function postOnce(url: URL, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(status);
    };
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(0);
    }, timeoutMs);
    req.on('error', () => done(0));
    req.end(body);
  });
}

/**
 * Passes `bytesPerSecond` on average: each piece goes out when the bytes before it are due, by the
 * clock since the first byte. A fixed sleep per piece would fall short: timers fire a millisecond
 * late or more, which capped a 64 KiB-per-read stream near 50 MB/s whatever was asked.
 */
export function throttle(bytesPerSecond: number): Transform {
  const now = (): number => performance.now();
  const slice = Math.max(1, Math.floor(bytesPerSecond / 50));
  let started: number | undefined;
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      started ??= now();
      let offset = 0;
      const step = (): void => {
        if (offset >= chunk.length) {
          callback();
          return;
        }
        const part = chunk.subarray(offset, offset + slice);
        offset += part.length;
        sent += part.length;
        this.push(part);
        const ahead = (sent / bytesPerSecond) * 1000 - (now() - (started as number));
        if (ahead >= 1) setTimeout(step, ahead);
        else step();
      };
      step();
    },
  });
}
