/**
 * createApiClient: the one got instance of a run and every rule of the API around it —
 * gzip, auth, User-Agent, our own retry loop (got's is off so that the policy is explicit and
 * testable), 429/1073 handling, at most 5 requests in flight, pacing on low rate-limit headers,
 * and errors wrapped once into src/errors.ts (issue 3; docs/api-facts.md §1–4, §7, §8).
 */
import { createRequire } from 'node:module';
import got, { type Got, type Headers, type Method, type Request } from 'got';
import { InterruptedError, NetworkError, ApiError, TimeoutError, type MsAsyncError } from '../errors.js';
import {
  API_ANSWER_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  HEADER_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  MAX_API_ANSWER_BYTES,
} from './deadlines.js';
import type { AccountGate, TaskSlot } from './account-gate.js';
import { createLimiter, type Limiter } from './limiter.js';
import {
  errorFromResponse,
  isAsyncCode,
  parseApiErrors,
  parseJsonBody,
  parseTask,
  parseTaskList,
  parseWebhook,
  parseWebhookList,
  type ErrorContext,
} from './parse.js';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  pacingDelayMs,
  rateLimitWaitMs,
  type RequestKind,
} from './retry.js';
import {
  FINAL_STATES,
  type AsyncTask,
  type CreatedTask,
  type TaskList,
  type Webhook,
  type WebhookAction,
} from './types.js';

export type Auth = { kind: 'bearer'; token: string } | { kind: 'basic'; login: string; password: string };

export interface ApiClientOptions {
  /** `https://api.moysklad.ru/api/remap/1.2`, no trailing slash needed. */
  baseUrl: string;
  auth: Auth;
  /**
   * Where the credentials came from (`MS_TOKEN`, `profile "shop2"` …) and what to do when the API
   * refuses them: a 401/403 names the source instead of a generic "run ms-async login".
   */
  credentials?: { source: string; hint: string };
  /** One line per request (method, URL, status, ms) for `-v`. The client never writes to a terminal. */
  onLog?: (line: string) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Requests in flight at most (the API allows 5 per user). */
  maxInFlight?: number;
  /** Share one limiter between clients of the same process. */
  limiter?: Limiter;
  /** Share request slots, rate and task slots with the account's other runs on this machine. */
  gate?: AccountGate | undefined;
  /** `X-Lognex-Precision: true` on every request: money not rounded to whole kopecks (§10.3). */
  preciseMoney?: boolean | undefined;
  /** Told once per task creation that has to wait for a task slot held by other runs. */
  onTaskSlotWait?: (() => void) | undefined;
  /** Retries after a 5xx, a network error or a 1073, per request. */
  maxRetries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Total time one request may spend waiting out 429s before it gives up (exit 7). */
  maxRateLimitWaitMs?: number;
  /** Start pacing when X-RateLimit-Remaining is at or below this. */
  pacingLowWater?: number;
  /** Deadlines of each request (defaults in src/api/deadlines.ts): connect, headers, silence, whole answer. */
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  idleTimeoutMs?: number;
  answerTimeoutMs?: number;
  /** Largest answer body taken in, decoded (MAX_API_ANSWER_BYTES). */
  maxAnswerBytes?: number;
  /** Sees each exchange's request stream (`--trace`, `doctor`): it may listen to its events, and changes nothing. */
  observe?: ((request: Request) => void) | undefined;
}

export interface CallOptions {
  /** Aborts the request and any wait of its retries (→ InterruptedError). */
  signal?: AbortSignal | undefined;
  /**
   * A time of `now()` (the end of `--timeout`) that neither the request nor its retries and
   * pauses may pass: TimeoutError (exit 6) instead.
   */
  deadline?: number | undefined;
}

export interface ListTasksQuery {
  /** OR-ed: `state=DONE;state=ERROR`. */
  states?: string[];
  /** Exact match on the task's request URL (the API supports only `=` here). */
  request?: string;
  /** Extra raw filter conditions, `;`-separated, unencoded. */
  filter?: string;
  /** `deletionDate,desc` … */
  order?: string;
  limit?: number;
  offset?: number;
}

export interface ApiClient {
  readonly baseUrl: string;
  /** Creates a task: `pathAndQuery` is `/report/…?…`; `async=true` is added when missing. */
  createTask(pathAndQuery: string, options?: CallOptions): Promise<CreatedTask>;
  getTask(id: string, options?: CallOptions): Promise<AsyncTask>;
  listTasks(query?: ListTasksQuery, options?: CallOptions): Promise<TaskList>;
  cancelTask(id: string, options?: CallOptions): Promise<void>;
  /**
   * The storage link of a DONE task's result, from the 302 of `/async/{id}/result` (not
   * followed, so that the download goes without Authorization). 61003 → ResultGoneError,
   * 61004/61005 → TaskFailedError, an API_ERROR task → its original error, 61006 → ApiError.
   */
  getResultLink(id: string, options?: CallOptions): Promise<string>;
  getEmployee(options?: CallOptions): Promise<unknown>;
  createWebhook(input: { url: string; action: WebhookAction }, options?: CallOptions): Promise<Webhook>;
  listWebhooks(options?: CallOptions): Promise<Webhook[]>;
  deleteWebhook(id: string, options?: CallOptions): Promise<void>;
  /** The limiter in use (tests and the downloader may look at it). */
  readonly limiter: Limiter;
}

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };

/** `ms-async/<version> (+node <v>)`. */
export function userAgent(): string {
  return `ms-async/${packageJson.version} (+node ${process.version})`;
}

/** The task id in `…/async/{id}` or `…/async/{id}/result`; undefined when the URL has none. */
export function taskIdFromUrl(url: string): string | undefined {
  let path = url;
  try {
    path = new URL(url, 'http://x').pathname;
  } catch {
    // Not a URL: look at the text as it is.
  }
  const match = /\/async\/([^/?#]+)(?:\/result)?\/?$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

/** Adds `async=true` to a path with or without a query, unless it is there already. */
export function withAsyncParam(pathAndQuery: string): string {
  const [path = '', query = ''] = splitOnce(pathAndQuery, '?');
  const parts = query === '' ? [] : query.split('&');
  if (parts.some((p) => /^async=/i.test(p))) return pathAndQuery;
  return `${path}?${[...parts, 'async=true'].join('&')}`;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

interface SendOptions {
  kind: RequestKind;
  json?: unknown;
  taskId?: string | undefined;
  signal?: AbortSignal | undefined;
  deadline?: number | undefined;
  /** Statuses whose body is not read (the request is cut once the headers are in). */
  skipBody?: (status: number) => boolean;
  /** Statuses that are a success for this call (default: 2xx). */
  ok?: (status: number) => boolean;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
  /** The URL that gave this answer. */
  url: string;
}

const TOO_LARGE = 'ERR_MS_ANSWER_TOO_LARGE';

/** Same-origin hops one call may make (a 308 for an application id, a 303 for a print form). */
const MAX_REDIRECTS = 5;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.onLog ?? ((): void => {});
  const maxRetries = options.maxRetries ?? 4;
  const backoff = { baseMs: options.retryBaseMs ?? 500, capMs: options.retryCapMs ?? 10_000, random };
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 120_000;
  const lowWater = options.pacingLowWater ?? 2;
  const limiter = options.limiter ?? createLimiter({ max: options.maxInFlight ?? 5, now, sleep });
  const { gate } = options;
  /** Time left before `deadline`, for the gate's waits. */
  const leftUntil = (deadline: number | undefined): number | undefined =>
    deadline === undefined ? undefined : Math.max(0, deadline - now());

  const authorization =
    options.auth.kind === 'bearer'
      ? `Bearer ${options.auth.token}`
      : `Basic ${Buffer.from(`${options.auth.login}:${options.auth.password}`, 'utf8').toString('base64')}`;

  const http: Got = got.extend({
    headers: {
      'accept-encoding': 'gzip', // §1.3: required on every request; got still decodes identity answers
      'user-agent': userAgent(),
      authorization,
      ...(options.preciseMoney ? { 'x-lognex-precision': 'true' } : {}),
    },
    decompress: true,
    retry: { limit: 0 },
    throwHttpErrors: false,
    // Redirects are decided in send(): got would keep Authorization on an https → http hop to the
    // same host (its origin test compares host and port only), docs/api-facts.md §8.
    followRedirect: false,
    timeout: {
      lookup: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      connect: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      secureConnect: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      response: options.responseTimeoutMs ?? HEADER_TIMEOUT_MS,
      socket: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    },
  });
  const answerTimeoutMs = options.answerTimeoutMs ?? API_ANSWER_TIMEOUT_MS;
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_API_ANSWER_BYTES;

  /**
   * Every request of the client goes out here, and only here: one request, one answer, no
   * redirects followed. `options.observe` (the --trace recorder, doctor) sees each request here.
   */
  function exchange(
    method: Method,
    url: string,
    json: unknown,
    signal: AbortSignal | undefined,
    totalMs: number,
    skipBody?: (status: number) => boolean,
  ): Promise<Answer> {
    // got leaves its abort listener on the signal it is given until the stream is destroyed, which
    // a request that ended well never is: on the run's own signal they piled up, one per request,
    // and Node printed a MaxListenersExceededWarning on stderr after the 11th (a long `status
    // --wait`). got gets a signal of the request's own; the run's abort is passed on while the
    // request lasts.
    const own = signal ? new AbortController() : undefined;
    const passOn = (): void => own?.abort(signal?.reason);
    signal?.addEventListener('abort', passOn, { once: true });
    if (signal?.aborted) passOn();
    const answer = new Promise<Answer>((resolve, reject) => {
      const stream = http.stream(url, {
        method,
        timeout: { request: totalMs },
        ...(json === undefined ? {} : { json }),
        ...(own ? { signal: own.signal } : {}),
      });
      options.observe?.(stream);
      let status = 0;
      let headers: Headers = {};
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (response: { statusCode: number; headers: Headers }) => {
        status = response.statusCode;
        headers = response.headers;
        if (skipBody?.(status)) {
          // An answer whose body we will not use (a result where a link was expected): not read.
          stream.destroy();
          resolve({ status, headers, body: '', url });
        }
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Counted after decoding: a small gzip bomb stops here, not in V8's heap.
        if (size > maxAnswerBytes) {
          chunks.length = 0;
          stream.destroy(Object.assign(new Error(`answer larger than ${maxAnswerBytes} bytes`), { code: TOO_LARGE }));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8'), url }));
      stream.on('error', reject);
      // A stream without a body to send (GET, PUT …/cancel, DELETE) must be ended by us.
      if (json === undefined && stream.writable) stream.end();
    });
    return answer.finally(() => signal?.removeEventListener('abort', passOn));
  }

  async function send(method: Method, firstUrl: string, opts: SendOptions): Promise<Answer> {
    let url = firstUrl;
    let json = opts.json;
    let hops = 0;
    const context: ErrorContext = { method, url, taskId: opts.taskId, credentials: options.credentials };
    const isOk = opts.ok ?? ((s: number): boolean => s >= 200 && s < 300);
    let failures = 0; // 5xx, network errors, 1073s
    let timeouts = 0;
    let rateLimitWaited = 0;
    let refusals = 0; // 429s and 1073s: each waits longer
    const { deadline } = opts;
    const pastDeadline = (what: string): TimeoutError =>
      new TimeoutError(`--timeout reached ${what} (${method} ${url})`, { request: { method, url } });
    for (;;) {
      throwIfAborted(opts.signal);
      if (deadline !== undefined && now() >= deadline) throw pastDeadline('before the request could be sent');
      let release: () => void;
      try {
        release = await limiter.acquire(opts.signal, deadline);
      } catch (error) {
        if (error instanceof TimeoutError) throw pastDeadline(`while pacing: ${error.message}`);
        throw interrupted(opts.signal, error);
      }
      let freeGate: (() => Promise<void>) | undefined;
      try {
        freeGate = await gate?.request(opts.signal, leftUntil(deadline));
      } catch (error) {
        release();
        if (error instanceof TimeoutError) throw pastDeadline('while other runs of the account held its request slots');
        throw interrupted(opts.signal, error);
      }
      const started = now();
      // The whole answer within its own deadline, and within --timeout.
      const left = deadline === undefined ? Infinity : deadline - started;
      const totalMs = Math.max(1, Math.min(answerTimeoutMs, left));
      let answer: Answer;
      try {
        answer = await exchange(method, url, json, opts.signal, totalMs, opts.skipBody);
      } catch (error) {
        release();
        await freeGate?.();
        if (opts.signal?.aborted) throw interrupted(opts.signal, error);
        const code = (error as { code?: string }).code;
        const event = (error as { event?: string }).event;
        const connectPhase = event === 'lookup' || event === 'connect' || event === 'secureConnect';
        log(
          `${method} ${url} ${code === 'ETIMEDOUT' ? `timed out (${event ?? 'request'})` : (code ?? 'failed')} ${now() - started}ms`,
        );
        if (code === TOO_LARGE) {
          throw new NetworkError(
            `the API's answer to ${method} ${url} is over ${Math.round(maxAnswerBytes / 1048576)} MiB decoded; ` +
              'an API answer is small JSON (a compression bomb?), so it was not read further',
            { request: { method, url }, hint: 'check --base-url: is it the MoySklad API?' },
          );
        }
        if (code === 'ETIMEDOUT' && deadline !== undefined && now() >= deadline - 1) {
          throw pastDeadline('while waiting for the answer');
        }
        // A request that timed out already cost a full deadline: it gets one more try, not four.
        const timedOut = code === 'ETIMEDOUT' && !connectPhase;
        if (timedOut) timeouts += 1;
        if (isRetryableNetworkError(code, opts.kind, connectPhase) && failures < maxRetries && timeouts <= 1) {
          await wait(
            backoffDelay(failures, backoff),
            opts.signal,
            `${code ?? 'network error'}`,
            failures + 1,
            deadline,
          );
          failures += 1;
          continue;
        }
        throw networkError(error, context, opts.kind, failures);
      }
      release();
      await freeGate?.();
      log(`${method} ${url} ${answer.status} ${now() - started}ms`);
      if (answer.status >= 300 && answer.status < 400 && !isOk(answer.status)) {
        const target = redirectTarget(answer, url);
        if (target !== undefined && new URL(target).origin === new URL(url).origin && hops < MAX_REDIRECTS) {
          // Same scheme, host and port: the credentials stay where they were meant to go (§10.4: 303, 308).
          log(`  redirected to ${safeForLog(target)} (same origin, followed)`);
          hops += 1;
          url = target;
          if (answer.status === 303 || (method === 'POST' && answer.status !== 307 && answer.status !== 308)) {
            method = 'GET';
            json = undefined;
          }
          continue;
        }
        log(`  redirected to ${target === undefined ? 'nowhere' : safeForLog(target)} (not followed)`);
        throw redirectError(answer.status, target, context, hops >= MAX_REDIRECTS);
      }
      const pace = pacingDelayMs(answer.headers, lowWater);
      if (pace > 0) {
        limiter.pause(pace);
        await gate?.pause(pace);
      }

      if (isOk(answer.status)) {
        limiter.succeeded();
        return answer;
      }
      const apiErrors = parseApiErrors(answer.body);
      const codes = apiErrors.map((e) => e.code);
      if (answer.status === 429 && isParallelLimit(answer.headers, codes)) {
        // Too many parallel requests (ours or another client's of the same user): fewer slots, then
        // again. It comes without X-Lognex-Retry-After and often with a bare `{}` (§10.1).
        limiter.lower();
        refusals += 1;
        if (failures < maxRetries * 2) {
          const delayMs = await sharedPause(backoffDelay(failures, backoff) + backoff.baseMs * refusals);
          await wait(delayMs, opts.signal, '429 too many parallel requests', failures + 1, deadline);
          failures += 1;
          continue;
        }
        throw new NetworkError(
          `the API kept refusing with 429 (too many parallel requests) ${method} ${stripQuery(url)}`,
          {
            apiErrors,
            httpStatus: 429,
            request: { method, url },
            hint: 'other programs of this MoySklad user are making requests at the same time; try again later',
          },
        );
      } else if (answer.status === 429 && !codes.some((c) => c !== undefined && isAsyncCode(c))) {
        // The rate limit; a bare 429 (no header, no code) waits as long, and longer each time.
        refusals += 1;
        const asked = rateLimitWaitMs(answer.headers) ?? backoff.baseMs * 2 ** Math.min(refusals, 6);
        const delayMs = await sharedPause(Math.max(asked, 1000 * (refusals - 1)));
        if (rateLimitWaited + delayMs <= maxRateLimitWaitMs) {
          rateLimitWaited += delayMs;
          limiter.pause(delayMs); // everyone else waits too
          await wait(delayMs, opts.signal, '429 rate limit', undefined, deadline);
          continue;
        }
      } else if (
        (isRetryableStatus(answer.status, opts.kind, apiErrors.length > 0) || codes.includes(61008)) &&
        failures < maxRetries
      ) {
        await wait(backoffDelay(failures, backoff), opts.signal, `HTTP ${answer.status}`, failures + 1, deadline);
        failures += 1;
        continue;
      }
      const error = errorFromResponse(answer.status, answer.body, context);
      if (
        answer.status >= 500 &&
        opts.kind === 'create' &&
        !isRetryableStatus(answer.status, opts.kind, apiErrors.length > 0)
      ) {
        throw new NetworkError(error.message, { ...copyFields(error), hint: MAYBE_CREATED_HINT });
      }
      throw error;
    }
  }

  /**
   * A refusal's pause, shared with the account's other runs (growing while refusals repeat), plus
   * jitter so that processes told the same Retry-After do not all come back at the same instant.
   */
  async function sharedPause(ms: number): Promise<number> {
    const base = gate ? await gate.strike(ms) : ms;
    return Math.ceil(base + random() * Math.min(2000, base * 0.25 + 100));
  }

  async function wait(
    ms: number,
    signal: AbortSignal | undefined,
    reason: string,
    attempt: number | undefined,
    deadline?: number,
  ): Promise<void> {
    if (deadline !== undefined && now() + ms >= deadline) {
      throw new TimeoutError(`--timeout reached: the next try after ${reason} would come too late`);
    }
    log(`  ${reason}: retrying in ${ms}ms${attempt === undefined ? '' : ` (retry ${attempt})`}`);
    try {
      await sleep(ms, signal);
    } catch (error) {
      throw interrupted(signal, error);
    }
  }

  /** JSON of a 2xx; a garbled body of an idempotent request is retried once more as a whole. */
  async function getJson<T>(
    url: string,
    parse: (value: unknown, context: ErrorContext) => T,
    taskId: string | undefined,
    call: CallOptions,
  ): Promise<T> {
    const context: ErrorContext = { method: 'GET', url, taskId };
    const { signal, deadline } = call;
    for (let attempt = 0; ; attempt += 1) {
      const answer = await send('GET', url, { kind: 'idempotent', taskId, signal, deadline });
      try {
        return parse(parseJsonBody(answer.body, context), context);
      } catch (error) {
        if (!(error instanceof NetworkError) || attempt >= maxRetries) throw error;
        await wait(backoffDelay(attempt, backoff), signal, 'malformed answer', attempt + 1, deadline);
      }
    }
  }

  const taskUrl = (id: string): string => `${baseUrl}/async/${encodeURIComponent(id)}`;

  return {
    baseUrl,
    limiter,
    async createTask(pathAndQuery, call = {}) {
      if (!pathAndQuery.startsWith('/')) throw new ApiError(`not an API path: ${pathAndQuery}`);
      const url = `${baseUrl}${withAsyncParam(pathAndQuery)}`;
      let slot: TaskSlot | undefined;
      try {
        slot = await gate?.taskSlot(call.signal, leftUntil(call.deadline), options.onTaskSlotWait);
      } catch (error) {
        if (error instanceof TimeoutError) {
          throw new TimeoutError('--timeout reached while other ms-async runs of this account held its 4 task slots', {
            hint: 'they are listed by `ms-async list --state PENDING --state PROCESSING`',
          });
        }
        throw interrupted(call.signal, error);
      }
      let answer: Answer;
      try {
        answer = await send('GET', url, {
          kind: 'create',
          signal: call.signal,
          deadline: call.deadline,
          ok: (s) => s >= 200 && s < 300,
        });
      } catch (error) {
        await slot?.release();
        throw error;
      }
      let created: CreatedTask;
      try {
        created = createdFrom(answer, url);
      } catch (error) {
        await slot?.release();
        throw error;
      }
      await slot?.bind(created.id);
      return created;
    },
    async getTask(id, call = {}) {
      const task = await getJson(taskUrl(id), parseTask, id, call);
      // The task's slot in the account gate lives while the task runs.
      if (FINAL_STATES.has(task.state)) await gate?.releaseTask(id);
      else await gate?.renewTask(id);
      return task;
    },
    async listTasks(query = {}, call = {}) {
      return getJson(`${baseUrl}/async${listQuery(query)}`, parseTaskList, undefined, call);
    },
    async cancelTask(id, call = {}) {
      await send('PUT', `${taskUrl(id)}/cancel`, { kind: 'idempotent', taskId: id, ...call });
    },
    async getResultLink(id, call = {}) {
      const url = `${taskUrl(id)}/result`;
      const answer = await send('GET', url, {
        kind: 'idempotent',
        taskId: id,
        ...call,
        ok: (s) => s >= 200 && s < 400,
        skipBody: (s) => s >= 200 && s < 300,
      });
      if (answer.status < 300) {
        // Before 2021 /result answered 200 with the result itself (docs/api-facts.md §10.7); the
        // result is only ever downloaded from the storage link, without Authorization.
        throw new NetworkError(
          `the API answered GET …/async/${id}/result with ${answer.status} and ${answer.status === 204 ? 'no body' : 'a body'}` +
            " instead of a 302 to the result's download link (an older API behaviour); ms-async downloads results only from that link",
          {
            httpStatus: answer.status,
            request: { method: 'GET', url },
            hint: 'check --base-url; run with -v and report the log if it is the MoySklad API',
          },
        );
      }
      const link = redirectTarget(answer, url);
      if (link === undefined) {
        throw new NetworkError(
          `the API answered ${answer.status} without a usable Location for the result of task ${id}`,
          {
            httpStatus: answer.status,
            request: { method: 'GET', url },
          },
        );
      }
      // The storage link is another origin: the download goes without Authorization (§2.7).
      log(`  result link ${safeForLog(link)} (fetched without Authorization)`);
      return link;
    },
    async getEmployee(call = {}) {
      return getJson(`${baseUrl}/context/employee`, (v) => v, undefined, call);
    },
    async createWebhook(input, call = {}) {
      const url = `${baseUrl}/entity/webhook`;
      const answer = await send('POST', url, {
        kind: 'create',
        ...call,
        json: { url: input.url, action: input.action, entityType: 'async' },
      });
      const context = { method: 'POST', url };
      return parseWebhook(parseJsonBody(answer.body, context), context);
    },
    async listWebhooks(call = {}) {
      return getJson(`${baseUrl}/entity/webhook`, parseWebhookList, undefined, call);
    },
    async deleteWebhook(id, call = {}) {
      await send('DELETE', `${baseUrl}/entity/webhook/${encodeURIComponent(id)}`, { kind: 'idempotent', ...call });
    },
  };
}

const MAYBE_CREATED_HINT = 'the task may have been created anyway: check `ms-async list` before starting it again';

/**
 * The task a creation answered: a 202 as documented; a 204 or 201 of the older API
 * (docs/api-facts.md §10.7: Location and Content-Location then swapped, which createdTaskFrom
 * does not mind) when it carries a task URL; anything else is an error saying what arrived.
 */
function createdFrom(answer: Answer, url: string): CreatedTask {
  const hasTaskUrl = ['location', 'content-location'].some(
    (name) => taskIdFromUrl(headerText(answer.headers, name) ?? '') !== undefined,
  );
  if (answer.status === 202 || ((answer.status === 204 || answer.status === 201) && hasTaskUrl)) {
    return createdTaskFrom(answer.headers, url);
  }
  const what =
    answer.status === 204
      ? '204 No Content with no task URL in Location/Content-Location'
      : answer.body.trim() === ''
        ? `${answer.status} with no body and no task URL`
        : `${answer.status} with a body (a synchronous answer: the async parameter was ignored)`;
  throw new ApiError(`the API answered a task creation with ${what}, instead of 202 Accepted`, {
    httpStatus: answer.status,
    request: { method: 'GET', url },
    hint: answer.status === 204 ? MAYBE_CREATED_HINT : 'see `ms-async reports` for the async-capable reports',
  });
}

/** Task id and URLs from the 202: Location and Content-Location, told apart by the `/result` suffix. */
export function createdTaskFrom(headers: Headers, requestUrl: string): CreatedTask {
  const urls = ['location', 'content-location']
    .map((name) => headerText(headers, name))
    .filter((v): v is string => typeof v === 'string' && v !== '')
    .map((v) => new URL(v, requestUrl).toString());
  const isResult = (u: string): boolean => /\/result\/?$/.test(new URL(u).pathname);
  let resultUrl = urls.find(isResult);
  let statusUrl = urls.find((u) => !isResult(u));
  if (statusUrl === undefined && resultUrl !== undefined) statusUrl = resultUrl.replace(/\/result\/?(?=$|\?)/, '');
  if (resultUrl === undefined && statusUrl !== undefined) resultUrl = `${statusUrl.replace(/\/+$/, '')}/result`;
  const id = statusUrl === undefined ? undefined : taskIdFromUrl(statusUrl);
  if (id === undefined || statusUrl === undefined || resultUrl === undefined) {
    throw new NetworkError('the API accepted the task (202) but sent no task URL in Location/Content-Location', {
      httpStatus: 202,
      request: { method: 'GET', url: requestUrl },
      hint: MAYBE_CREATED_HINT,
    });
  }
  return { id, statusUrl, resultUrl, request: requestUrl };
}

function listQuery(query: ListTasksQuery): string {
  const conditions: string[] = [];
  for (const state of query.states ?? []) conditions.push(`state=${state.toUpperCase()}`);
  // A literal `;` inside a filter value is written `\;` (§1.7).
  if (query.request !== undefined) conditions.push(`request=${query.request.replace(/;/g, '\\;')}`);
  if (query.filter) conditions.push(query.filter);
  const params: string[] = [];
  if (conditions.length > 0) params.push(`filter=${encodeURIComponent(conditions.join(';'))}`);
  if (query.order) params.push(`order=${encodeURIComponent(query.order)}`);
  if (query.limit !== undefined) params.push(`limit=${query.limit}`);
  if (query.offset !== undefined) params.push(`offset=${query.offset}`);
  return params.length > 0 ? `?${params.join('&')}` : '';
}

/** The http(s) URL a 3xx points to, resolved against the request; undefined when absent or odd. */
function redirectTarget(answer: Answer, requestUrl: string): string | undefined {
  const location = headerText(answer.headers, 'location');
  if (!location) return undefined;
  try {
    const target = new URL(location, requestUrl);
    return target.protocol === 'https:' || target.protocol === 'http:' ? target.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** A URL without credentials or query (storage links carry signatures there). */
function safeForLog(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
}

function redirectError(
  status: number,
  target: string | undefined,
  context: ErrorContext,
  tooMany: boolean,
): NetworkError {
  const where = target === undefined ? 'no usable http(s) Location' : new URL(target).origin;
  const message = tooMany
    ? `the API redirected ${context.method} ${context.url} more than ${MAX_REDIRECTS} times`
    : `the API redirected ${context.method} ${context.url} to ${where} (HTTP ${status}); not followed: ` +
      "credentials go only to the base URL's own scheme, host and port";
  return new NetworkError(message, {
    httpStatus: status,
    request: { method: context.method, url: context.url },
    hint: "check --base-url (MS_BASE_URL): it should be the API's https:// address itself",
  });
}

/** The parallel-request 429: code 1073 in the body, or `X-Lognex-Auth: 429005` (§10.1). */
function isParallelLimit(headers: Headers, codes: Array<number | undefined>): boolean {
  return codes.includes(1073) || headerText(headers, 'x-lognex-auth')?.trim() === '429005';
}

function stripQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : `${url.slice(0, at)}?…`;
}

function headerText(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted(signal, signal.reason);
}

/** An abort of the run's signal as InterruptedError; any other error unchanged. */
function interrupted(signal: AbortSignal | undefined, error: unknown): unknown {
  if (!signal?.aborted) return error;
  return new InterruptedError('interrupted');
}

/**
 * A network failure as NetworkError. The got error is not kept as `cause`: it holds the request
 * options, Authorization header included, and a cause may be printed by anyone.
 */
function networkError(error: unknown, context: ErrorContext, kind: RequestKind, retries: number): NetworkError {
  const code = (error as { code?: string }).code ?? 'unknown';
  const message = error instanceof Error ? error.message : String(error);
  const safeCause = Object.assign(new Error(message), { code });
  const tries = retries > 0 ? ` after ${retries + 1} attempts` : '';
  return new NetworkError(`cannot reach the API (${code})${tries}: ${context.method} ${context.url}`, {
    cause: safeCause,
    request: { method: context.method, url: context.url },
    hint:
      kind === 'create' && retries === 0 && !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
        ? MAYBE_CREATED_HINT
        : 'check the network and --base-url, then try again',
  });
}

function copyFields(error: MsAsyncError): {
  apiErrors: MsAsyncError['apiErrors'];
  httpStatus?: number;
  request?: { method: string; url: string };
} {
  return {
    apiErrors: error.apiErrors,
    ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
    ...(error.request === undefined ? {} : { request: error.request }),
  };
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
