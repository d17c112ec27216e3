/**
 * The API origin of the sandbox: `/api/remap/1.2/…` as docs/api-facts.md describes it, plus
 * the sandbox-only control endpoints under `/api/remap/1.2/__sandbox/`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { findReportByPath, type ReportSpec } from '../reports/catalog.js';
import { generateRecordRange } from './generate.js';
import { ACCOUNT_ID, EMPLOYEE_ID, type SandboxCore, type Webhook } from './core.js';
import type { Faults, TaskOutcome } from './faults.js';
import { errorObject, pickLanguage, type ApiErrorObject, type Lang } from './messages.js';
import { DEFAULT_ERROR_STATUS } from './options.js';
import {
  ListQueryError,
  checkPlotParams,
  compareTasks,
  matchTask,
  mskString,
  parseTaskFilter,
  parseTaskOrder,
  type Task,
} from './tasks.js';

export const API_PREFIX = '/api/remap/1.2';
/** The live API's docs link for an error code (docs/api-facts.md §10.4). */
const MORE_INFO_1002 = 'https://dev.moysklad.ru/doc/api/remap/1.2/#error_1002';
const WEEK_MS = 7 * 86_400_000;
const MAX_BODY = 20 * 1024 * 1024;

/** Masks credentials but keeps the scheme, so tests can see that a header was (not) sent. */
export function recordHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    headers[key] = key === 'authorization' || key === 'proxy-authorization' ? `${text.split(' ')[0] ?? ''} ***` : text;
  }
  return headers;
}

/** Writes the API's answers: gzip, JSON content type and rate headers on every one. */
class Answer {
  user: string | undefined;
  constructor(
    private readonly core: SandboxCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly lang: Lang,
  ) {}

  private baseHeaders(extra: Record<string, string>): Record<string, string> {
    return { ...this.core.rateHeaders(this.user), ...extra };
  }

  json(status: number, body: unknown, extra: Record<string, string> = {}): void {
    const pretty = String(this.req.headers['lognex-pretty-print-json'] ?? '').toLowerCase() === 'true';
    let text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
    if (this.core.brokenJsonHit()) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    let payload = Buffer.from(text, 'utf8');
    const headers = this.baseHeaders({ 'Content-Type': 'application/json;charset=utf-8', ...extra });
    if (!this.core.skipGzipNow()) {
      payload = gzipSync(payload);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = String(payload.length);
    this.res.writeHead(status, headers);
    this.res.end(this.req.method === 'HEAD' ? undefined : payload);
  }

  errors(status: number, errors: ApiErrorObject[], extra: Record<string, string> = {}): void {
    this.json(status, { errors }, extra);
  }

  error(
    status: number,
    code: number,
    args: Record<string, string> = {},
    parameter?: string,
    extra: Record<string, string> = {},
  ): void {
    this.errors(status, [errorObject(code, this.lang, args, parameter)], extra);
  }

  /** One of the 6100x errors, whose HTTP status the docs leave open. */
  asyncError(code: number): void {
    const status = this.core.options.errorStatus[code] ?? DEFAULT_ERROR_STATUS[code] ?? 400;
    this.error(status, code);
  }

  empty(status: number, extra: Record<string, string> = {}): void {
    this.res.writeHead(status, this.baseHeaders({ 'Content-Length': '0', ...extra }));
    this.res.end();
  }

  /** A whole result file as the answer itself, gzipped on the way (the pre-2021 `/result`). */
  async file(status: number, path: string): Promise<void> {
    const headers = { 'Content-Type': 'application/json;charset=utf-8', 'Content-Encoding': 'gzip' };
    this.res.writeHead(status, this.baseHeaders(headers));
    await pipeline(createReadStream(path), createGzip(), this.res).catch(() => this.res.destroy());
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type Auth = { ok: true; user: string; basicLogin?: string } | { ok: false; details: { ru: string; en: string } };

function authenticate(core: SandboxCore, header: string | undefined): Auth {
  const bad = {
    ru: 'Неправильный пароль или имя пользователя или ключ авторизации',
    en: 'wrong login, password or access token',
  };
  if (!header)
    return { ok: false, details: { ru: 'Не указан заголовок Authorization', en: 'no Authorization header' } };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    if (!value) return { ok: false, details: bad };
    if (core.revokedTokens.has(value)) return { ok: false, details: bad };
    const issued = [...core.issuedTokens.values()].includes(value);
    if (core.options.token !== undefined && value !== core.options.token && !issued) return { ok: false, details: bad };
    return { ok: true, user: `bearer:${value}` };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const login = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!login || !password) return { ok: false, details: bad };
    const { login: wantLogin, password: wantPassword } = core.options;
    if ((wantLogin !== undefined && login !== wantLogin) || (wantPassword !== undefined && password !== wantPassword)) {
      return { ok: false, details: bad };
    }
    return { ok: true, user: `basic:${login}`, basicLogin: login };
  }
  return { ok: false, details: bad };
}

/** Accept-Encoding must name gzip (q > 0) — else 415 with an empty body (§1.3). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** `Accept`, if sent, must allow application/json (error 1062). */
function acceptsJson(header: string | undefined): boolean {
  if (!header) return true;
  return header.split(',').some((part) => {
    const type = (part.split(';')[0] ?? '').trim().toLowerCase();
    return type === '*/*' || type === 'application/*' || type === 'application/json';
  });
}

export async function handleApi(core: SandboxCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', core.baseUrl);
  const method = (req.method ?? 'GET').toUpperCase();
  if (url.pathname.startsWith(`${API_PREFIX}/__sandbox/`)) {
    await handleControl(core, url, method, req, res);
    return;
  }

  const record = {
    origin: 'api' as const,
    method,
    url: url.toString(),
    headers: recordHeaders(req),
    status: 0,
    startedAt: Date.now(),
    endedAt: 0,
  };
  core.requests.push(record);
  core.inFlight++;
  core.maxInFlight = Math.max(core.maxInFlight, core.inFlight);
  let userCounted: string | undefined;
  res.on('finish', () => {
    record.status = res.statusCode;
  });
  res.on('close', () => {
    record.endedAt = Date.now();
    core.inFlight--;
    if (userCounted) core.inFlightByUser.set(userCounted, (core.inFlightByUser.get(userCounted) ?? 1) - 1);
  });

  const form429 = core.faults.status429?.form ?? 'rate'; // read before the span may switch itself off
  const hits = core.spanHits();
  if (hits.drop) {
    req.socket.destroy();
    return;
  }
  const answer = new Answer(core, req, res, pickLanguage(req.headers['accept-language']));
  if (hits.status5xx !== null) {
    answer.error(hits.status5xx, 1999);
    return;
  }
  if (hits.status429 && form429 === 'bare') {
    // Neither a header nor a code: all a client can do is back off (docs/api-facts.md §10.1).
    res.writeHead(429, { 'Content-Length': '0' });
    res.end();
    return;
  }
  if (hits.status429 && form429 === 'parallel') {
    answer.json(429, {}, { 'X-Lognex-Auth': '429005' });
    return;
  }
  if (hits.status429) {
    const retry = Math.ceil(core.options.rateLimit.windowMs / core.options.rateLimit.units);
    answer.error(429, 1049, {}, undefined, {
      'X-Lognex-Retry-After': String(retry),
      'X-Lognex-Reset': String(retry),
      'X-RateLimit-Remaining': '0',
      'X-Lognex-Auth': '429002',
    });
    return;
  }
  if (!acceptsGzip(req.headers['accept-encoding'])) {
    // Not processed at all: 415 and not a byte of body (§1.3).
    res.writeHead(415, { ...core.rateHeaders(undefined), 'Content-Length': '0' });
    res.end();
    return;
  }
  const auth = authenticate(core, req.headers.authorization);
  if (!auth.ok) {
    const details = auth.details[answer.lang];
    answer.error(401, 1056, { details }, undefined, {
      'X-Lognex-Auth': '1056',
      'X-Lognex-Auth-Message': `Authentication error: ${auth.details.en}`,
    });
    return;
  }
  answer.user = auth.user;
  const userInFlight = (core.inFlightByUser.get(auth.user) ?? 0) + 1;
  core.inFlightByUser.set(auth.user, userInFlight);
  core.maxInFlightByUser.set(auth.user, Math.max(core.maxInFlightByUser.get(auth.user) ?? 0, userInFlight));
  userCounted = auth.user;
  if (userInFlight > core.options.parallelLimit) {
    // The live API marks the parallel limit with X-Lognex-Auth: 429005 (docs/api-facts.md §10.1).
    answer.error(429, 1073, {}, undefined, { 'X-Lognex-Auth': '429005' });
    return;
  }
  const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || '/' : url.pathname;
  const charge = core.charge(auth.user, core.weightOf(path.replace(/\/+$/, '')));
  if (!charge.ok) {
    answer.error(429, 1049, {}, undefined, {
      'X-Lognex-Retry-After': String(charge.retryAfterMs),
      'X-Lognex-Reset': String(charge.retryAfterMs),
      'X-Lognex-Auth': '429002',
    });
    return;
  }
  if (!acceptsJson(req.headers.accept)) {
    answer.error(400, 1062);
    return;
  }
  if (core.faults.slowApiMs > 0) await new Promise((r) => setTimeout(r, core.faults.slowApiMs));
  if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
    answer.error(404, 1002, { path: url.pathname });
    return;
  }
  await route(core, answer, { url, path, method, req, auth });
}

interface RouteCtx {
  url: URL;
  path: string;
  method: string;
  req: IncomingMessage;
  auth: { user: string; basicLogin?: string };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function route(core: SandboxCore, answer: Answer, ctx: RouteCtx): Promise<void> {
  const { path, method } = ctx;
  const segments = path.split('/').filter(Boolean);
  const notAllowed = (): void =>
    answer.errors(405, [
      {
        error: answer.lang === 'en' ? `Method ${method} is not allowed here` : `Метод ${method} не поддерживается`,
        code: 1002,
        moreInfo: 'https://dev.moysklad.ru/doc/api/remap/1.2/#error_1002',
      },
    ]);

  if (path === '/security/token') {
    if (method !== 'POST') return notAllowed();
    if (!ctx.auth.basicLogin) {
      answer.error(401, 1056, {
        details:
          answer.lang === 'en'
            ? 'a token is issued for Basic authentication only'
            : 'токен выдаётся только при Basic-аутентификации',
      });
      return;
    }
    const previous = core.issuedTokens.get(ctx.auth.basicLogin);
    if (previous) core.revokedTokens.add(previous); // a new token revokes the old ones (§1.2)
    const token = randomBytes(20).toString('hex');
    core.issuedTokens.set(ctx.auth.basicLogin, token);
    answer.json(200, { access_token: token });
    return;
  }
  if (path === '/context/employee') {
    if (method !== 'GET') return notAllowed();
    answer.json(200, employeeJson(core));
    return;
  }
  if (segments[0] === 'async') return routeAsync(core, answer, ctx, segments);
  if (segments[0] === 'entity' && segments[1] === 'webhook') return routeWebhook(core, answer, ctx, segments);

  const spec = findReportByPath(path);
  const isAsync = ctx.url.searchParams.get('async') === 'true';
  if (!spec) {
    if (isAsync && (segments[0] === 'report' || segments[0] === 'entity')) return answer.asyncError(61000);
    answer.error(404, 1002, { path: ctx.url.pathname });
    return;
  }
  if (method !== 'GET') {
    if (isAsync) return answer.asyncError(61000);
    return notAllowed();
  }
  if (isAsync) return createTask(core, answer, ctx, spec);
  return syncReport(core, answer, ctx, spec);
}

function rowsOverride(core: SandboxCore, req: IncomingMessage): number {
  const header = req.headers['x-sandbox-rows'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : core.options.rows;
}

function betaWithoutStock(req: IncomingMessage): boolean {
  return /\bassortmentWithoutStock\b/.test(String(req.headers['x-lognex-remap-beta-feature'] ?? ''));
}

function createTask(core: SandboxCore, answer: Answer, ctx: RouteCtx, spec: ReportSpec): void {
  const params = ctx.url.searchParams;
  if (params.has('limit') || params.has('offset')) return answer.asyncError(61001);
  if (core.activeTasks() >= core.options.queueLimit) return answer.asyncError(61002);
  let rows = rowsOverride(core, ctx.req);
  let plotError: { errors: ApiErrorObject[]; status: number } | undefined;
  if (spec.records === 'series') {
    // Validation is deferred: the task is created and ends API_ERROR (§2.2).
    const check = checkPlotParams(params, answer.lang);
    if ('error' in check) plotError = { errors: [check.error], status: check.status };
    else rows = Math.min(rows, check.buckets);
  }
  // A task that stays PROCESSING this long (tests fill the queue with "foreign" tasks this way).
  const holdHeader = String(ctx.req.headers['x-sandbox-processing-ms'] ?? '');
  const processingMs = /^\d+$/.test(holdHeader) ? Number(holdHeader) : undefined;
  const outcomeHeader = String(ctx.req.headers['x-sandbox-outcome'] ?? '')
    .toUpperCase()
    .replace(/-/g, '_');
  const outcome = ['ERROR', 'CANCEL', 'API_ERROR', 'API_ERROR_AUTH'].includes(outcomeHeader)
    ? (outcomeHeader as TaskOutcome)
    : null;
  const task = core.createTask({
    request: `${new URL(core.baseUrl).origin}${ctx.req.url ?? ''}`,
    spec,
    rows,
    lang: answer.lang,
    outcome,
    withoutStock: betaWithoutStock(ctx.req),
    user: ctx.auth.user,
    ...(processingMs === undefined ? {} : { processingMs }),
    ...(plotError ? { plotError } : {}),
  });
  const statusUrl = `${core.baseUrl}/async/${task.id}`;
  if (core.faults.legacyAsync) {
    // Before 2021: 204, and the two URLs the other way round (docs/api-facts.md §10.7).
    answer.empty(204, { Location: statusUrl, 'Content-Location': `${statusUrl}/result` });
    return;
  }
  answer.empty(202, { Location: `${statusUrl}/result`, 'Content-Location': statusUrl });
}

function syncReport(core: SandboxCore, answer: Answer, ctx: RouteCtx, spec: ReportSpec): void {
  const params = ctx.url.searchParams;
  const requestUrl = ctx.url.toString();
  const genOpts = {
    seed: core.options.seed,
    stores: core.options.stores,
    baseUrl: core.baseUrl,
    requestUrl,
    assortmentWithoutStock: betaWithoutStock(ctx.req),
    fieldForms: core.options.fieldForms,
  };
  const context = {
    employee: {
      meta: {
        href: `${core.baseUrl}/context/employee`,
        metadataHref: `${core.baseUrl}/entity/employee/metadata`,
        type: 'employee',
        mediaType: 'application/json',
      },
    },
  };
  if (spec.records === 'root') {
    answer.json(
      200,
      generateRecordRange(spec.alias, { ...genOpts, rows: 1 }, 0, 1)
        [Symbol.iterator]()
        .next().value,
    );
    return;
  }
  if (spec.records === 'series') {
    const check = checkPlotParams(params, answer.lang);
    if ('error' in check) return answer.errors(check.status, [check.error]);
    const series = [
      ...generateRecordRange(
        spec.alias,
        { ...genOpts, rows: Math.min(check.buckets, core.options.rows, 10_000) },
        0,
        Infinity,
      ),
    ];
    const body: Record<string, unknown> = {
      context,
      meta: { href: requestUrl, type: spec.resultType, mediaType: 'application/json' },
    };
    if (spec.alias === 'money-plotseries') {
      body.credit = series.reduce((s, r) => s + (r.credit as number), 0);
      body.debit = series.reduce((s, r) => s + (r.debit as number), 0);
    }
    body.series = series;
    answer.json(200, body);
    return;
  }
  const limit = params.has('limit') ? Number(params.get('limit')) : 1000;
  const offset = params.has('offset') ? Number(params.get('offset')) : 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return answer.error(400, 1040, {}, 'limit');
  if (!Number.isInteger(offset) || offset < 0) return answer.error(400, 1040, {}, 'offset');
  const size = core.options.rows;
  const rows = [...generateRecordRange(spec.alias, { ...genOpts, rows: size }, offset, offset + limit)];
  const meta: Record<string, unknown> = {
    href: requestUrl,
    type: spec.resultType,
    mediaType: 'application/json',
    size,
    limit,
    offset,
  };
  const page = (o: number): string => {
    const u = new URL(requestUrl);
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('offset', String(o));
    return u.toString();
  };
  if (offset + limit < size) meta.nextHref = page(offset + limit);
  if (offset > 0) meta.previousHref = page(Math.max(0, offset - limit));
  answer.json(200, { context, meta, rows });
}

function employeeJson(core: SandboxCore): Record<string, unknown> {
  const base = core.baseUrl;
  return {
    meta: {
      href: `${base}/entity/employee/${EMPLOYEE_ID}`,
      metadataHref: `${base}/entity/employee/metadata`,
      type: 'employee',
      mediaType: 'application/json',
      uuidHref: `https://online.moysklad.ru/app/#employee/edit?id=${EMPLOYEE_ID}`,
    },
    id: EMPLOYEE_ID,
    accountId: ACCOUNT_ID,
    owner: {
      meta: {
        href: `${base}/entity/employee/${EMPLOYEE_ID}`,
        metadataHref: `${base}/entity/employee/metadata`,
        type: 'employee',
        mediaType: 'application/json',
      },
    },
    shared: true,
    updated: mskString(core.now()),
    name: 'Администратор',
    externalCode: 'sandbox-admin',
    archived: false,
    created: '2025-01-01 09:00:00.000',
    uid: 'admin@sandbox',
    email: 'admin@sandbox.invalid',
    firstName: 'Админ',
    lastName: 'Песочницын',
    fullName: 'Админ Песочницын',
    shortFio: 'Песочницын А.',
  };
}

// ---------------------------------------------------------------------------------------------
// /async

function routeAsync(core: SandboxCore, answer: Answer, ctx: RouteCtx, segments: string[]): void | Promise<void> {
  const { method } = ctx;
  if (segments.length === 1) {
    if (method !== 'GET') {
      return answer.errors(405, [{ error: 'Method not allowed', code: 1002, moreInfo: MORE_INFO_1002 }]);
    }
    return listTasks(core, answer, ctx);
  }
  const id = segments[1] ?? '';
  if (!UUID_RE.test(id)) return answer.error(400, 1052, {}, 'id');
  const task = core.tasks.get(id);
  if (!task) return answer.error(404, 1021, { id });
  if (segments.length === 2 && method === 'GET') {
    answer.json(200, core.taskBody(task));
    return;
  }
  if (segments.length === 3 && segments[2] === 'result' && method === 'GET') return taskResult(core, answer, task);
  if (segments.length === 3 && segments[2] === 'cancel' && method === 'PUT') {
    if (!core.cancel(task)) return answer.asyncError(61007);
    answer.empty(204);
    return;
  }
  answer.error(404, 1002, { path: ctx.url.pathname });
}

function taskResult(core: SandboxCore, answer: Answer, task: Task): void | Promise<void> {
  switch (task.state) {
    case 'PENDING':
    case 'PROCESSING':
      return answer.asyncError(61006);
    case 'ERROR':
      return answer.asyncError(61004);
    case 'CANCEL':
      return answer.asyncError(61005);
    case 'API_ERROR':
      return answer.errors(task.errorStatus ?? 400, task.errors ?? []);
    case 'DONE':
      if (core.now() >= (task.deletionAt ?? 0)) return answer.asyncError(61003);
      // Before 2021 the result came as the answer itself (docs/api-facts.md §10.7).
      if (core.faults.legacyAsync && task.file) return answer.file(200, task.file);
      answer.empty(302, { Location: core.issueLink(task) });
  }
}

function listTasks(core: SandboxCore, answer: Answer, ctx: RouteCtx): void {
  const params = ctx.url.searchParams;
  let conditions: ReturnType<typeof parseTaskFilter> = [];
  let order: ReturnType<typeof parseTaskOrder> = [];
  try {
    conditions = parseTaskFilter(params.get('filter') ?? '');
    order = parseTaskOrder(params.get('order') ?? '');
  } catch (error) {
    if (error instanceof ListQueryError) return answer.error(400, error.code, error.args, error.parameter);
    throw error;
  }
  const limit = params.has('limit') ? Number(params.get('limit')) : 1000;
  const offset = params.has('offset') ? Number(params.get('offset')) : 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return answer.error(400, 1040, {}, 'limit');
  if (!Number.isInteger(offset) || offset < 0) return answer.error(400, 1040, {}, 'offset');
  const since = core.now() - WEEK_MS;
  const matched = [...core.tasks.values()]
    .filter((t) => t.createdAt >= since && matchTask(t, conditions))
    .sort(compareTasks(order));
  const href = `${core.baseUrl}/async${ctx.url.search}`;
  const meta: Record<string, unknown> = {
    href,
    type: 'async',
    mediaType: 'application/json',
    size: matched.length,
    limit,
    offset,
  };
  const page = (o: number): string => {
    const u = new URL(`${core.baseUrl}/async${ctx.url.search}`);
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('offset', String(o));
    return u.toString();
  };
  if (offset + limit < matched.length) meta.nextHref = page(offset + limit);
  if (offset > 0) meta.previousHref = page(Math.max(0, offset - limit));
  answer.json(200, {
    context: {
      employee: {
        meta: {
          href: `${core.baseUrl}/context/employee`,
          metadataHref: `${core.baseUrl}/entity/employee/metadata`,
          type: 'employee',
          mediaType: 'application/json',
        },
      },
    },
    meta,
    rows: matched.slice(offset, offset + limit).map((t) => core.taskBody(t)),
  });
}

// ---------------------------------------------------------------------------------------------
// /entity/webhook (§7)

function webhookJson(core: SandboxCore, hook: Webhook): Record<string, unknown> {
  const body: Record<string, unknown> = {
    meta: {
      href: `${core.baseUrl}/entity/webhook/${hook.id}`,
      metadataHref: `${core.baseUrl}/entity/webhook/metadata`,
      type: 'webhook',
      mediaType: 'application/json',
    },
    id: hook.id,
    accountId: ACCOUNT_ID,
    entityType: hook.entityType,
    url: hook.url,
    method: 'POST',
    enabled: hook.enabled,
    action: hook.action,
  };
  if (hook.action === 'UPDATE') body.diffType = hook.diffType ?? 'NONE';
  return body;
}

const ACTIONS = ['CREATE', 'UPDATE', 'DELETE', 'PROCESSED'];

/** Validates a webhook create/update body; returns the error to answer, or the fields. */
function validateWebhook(
  core: SandboxCore,
  body: Record<string, unknown>,
  current: Webhook | undefined,
):
  | { code: number; args: Record<string, string>; parameter?: string }
  | { url: string; action: Webhook['action']; enabled: boolean; diffType?: Webhook['diffType'] } {
  const entityType = body.entityType ?? current?.entityType;
  if (entityType !== 'async')
    return { code: 30000, args: { value: String(entityType ?? '') }, parameter: 'entityType' };
  if (body.method !== undefined && String(body.method).toUpperCase() !== 'POST')
    return { code: 30001, args: { value: String(body.method) }, parameter: 'method' };
  const action = String(body.action ?? current?.action ?? '');
  if (!ACTIONS.includes(action)) return { code: 30002, args: { value: action }, parameter: 'action' };
  if (action !== 'PROCESSED' && action !== 'UPDATE')
    return { code: 30008, args: { value: action, entity: 'async' }, parameter: 'action' };
  const url = body.url ?? current?.url;
  if (typeof url !== 'string') return { code: 30005, args: { value: String(url ?? '') }, parameter: 'url' };
  if (url.length > 255) return { code: 30010, args: {}, parameter: 'url' };
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    return { code: 30005, args: { value: url }, parameter: 'url' };
  }
  const diffType = body.diffType ?? current?.diffType;
  if (diffType !== undefined && action !== 'UPDATE')
    return { code: 30009, args: { value: action }, parameter: 'diffType' };
  for (const other of core.webhooks.values()) {
    if (other !== current && other.action === action && other.url === url) return { code: 30003, args: {} };
  }
  const sameKind = [...core.webhooks.values()].filter((h) => h !== current && h.action === action).length;
  if (sameKind >= 5) return { code: 30007, args: {} };
  const enabled = body.enabled === undefined ? (current?.enabled ?? true) : body.enabled === true;
  const result: { url: string; action: Webhook['action']; enabled: boolean; diffType?: Webhook['diffType'] } = {
    url,
    action,
    enabled,
  };
  if (diffType === 'FIELDS' || diffType === 'NONE') result.diffType = diffType;
  return result;
}

async function routeWebhook(core: SandboxCore, answer: Answer, ctx: RouteCtx, segments: string[]): Promise<void> {
  const { method } = ctx;
  const readJson = async (): Promise<Record<string, unknown> | undefined> => {
    try {
      const parsed: unknown = JSON.parse(await readBody(ctx.req));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through
    }
    answer.error(400, 2016);
    return undefined;
  };
  if (segments.length === 2) {
    if (method === 'GET') {
      const rows = [...core.webhooks.values()].map((h) => webhookJson(core, h));
      answer.json(200, {
        context: {
          employee: {
            meta: { href: `${core.baseUrl}/context/employee`, type: 'employee', mediaType: 'application/json' },
          },
        },
        meta: {
          href: `${core.baseUrl}/entity/webhook`,
          type: 'webhook',
          mediaType: 'application/json',
          size: rows.length,
          limit: 1000,
          offset: 0,
        },
        rows,
      });
      return;
    }
    if (method === 'POST') {
      const body = await readJson();
      if (!body) return;
      const checked = validateWebhook(core, body, undefined);
      if ('code' in checked) return answer.error(400, checked.code, checked.args, checked.parameter);
      const hook: Webhook = { id: randomUUID(), entityType: 'async', ...checked };
      core.webhooks.set(hook.id, hook);
      answer.json(200, webhookJson(core, hook));
      return;
    }
    return answer.errors(405, [{ error: 'Method not allowed', code: 1002, moreInfo: MORE_INFO_1002 }]);
  }
  const id = segments[2] ?? '';
  if (!UUID_RE.test(id) || segments.length > 3) return answer.error(404, 1002, { path: ctx.url.pathname });
  const hook = core.webhooks.get(id);
  if (!hook) return answer.error(404, 1021, { id });
  if (method === 'GET') return answer.json(200, webhookJson(core, hook));
  if (method === 'DELETE') {
    core.webhooks.delete(id);
    return answer.empty(200);
  }
  if (method === 'PUT') {
    const body = await readJson();
    if (!body) return;
    const checked = validateWebhook(core, body, hook);
    if ('code' in checked) return answer.error(400, checked.code, checked.args, checked.parameter);
    Object.assign(hook, checked);
    return answer.json(200, webhookJson(core, hook));
  }
  answer.errors(405, [{ error: 'Method not allowed', code: 1002, moreInfo: MORE_INFO_1002 }]);
}

// ---------------------------------------------------------------------------------------------
// Sandbox-only control: no auth, no gzip, not counted, not recorded.

async function handleControl(
  core: SandboxCore,
  url: URL,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const send = (status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const what = url.pathname.slice(`${API_PREFIX}/__sandbox/`.length);
  try {
    if (what === 'faults' && method === 'GET') return send(200, core.faults);
    if (what === 'faults' && (method === 'PUT' || method === 'POST')) {
      const body = JSON.parse((await readBody(req)) || '{}') as Partial<Faults>;
      core.setFaults(body);
      return send(200, core.faults);
    }
    if (what === 'clock' && method === 'POST') {
      const body = JSON.parse((await readBody(req)) || '{}') as { advanceMs?: number };
      if (typeof body.advanceMs !== 'number' || !Number.isFinite(body.advanceMs))
        return send(400, { error: 'advanceMs (number) required' });
      core.advanceClock(body.advanceMs);
      return send(200, { now: mskString(core.now()), nowMs: core.now() });
    }
    if (what === 'clock' && method === 'GET') return send(200, { now: mskString(core.now()), nowMs: core.now() });
    if (what === 'webhook-deliveries' && method === 'GET') return send(200, core.webhookDeliveries);
    send(404, { error: `unknown control endpoint ${method} ${what}` });
  } catch (error) {
    send(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
