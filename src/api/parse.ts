/**
 * Validation of response bodies and the one mapping from an HTTP answer to the error tree
 * (docs/api-facts.md §4; errors are wrapped once, here).
 */
import {
  ApiError,
  AuthError,
  AUTH_API_CODES,
  NetworkError,
  PERMISSION_API_CODES,
  PERMISSION_HINT,
  ResultGoneError,
  TaskFailedError,
  type ApiErrorEntry,
  type MsAsyncError,
} from '../errors.js';
import { TASK_STATES, type AsyncTask, type TaskList, type Webhook } from './types.js';

export const LOGIN_HINT = 'run `ms-async login` (or set MS_TOKEN)';
export const AGAIN_HINT = 'run the export again to create a new task';

/** What the request was about, so that a 404 or a 6100x can be named precisely. */
export interface ErrorContext {
  method: string;
  url: string;
  /** The task id when the request was about one task. */
  taskId?: string | undefined;
  /** Where the credentials came from and what to do when they are refused (see ApiClientOptions). */
  credentials?: { source: string; hint: string } | undefined;
}

/** The `errors[]` of an API error body, or [] when the body is empty, HTML or otherwise odd. */
export function parseApiErrors(body: string): ApiErrorEntry[] {
  if (body.trim() === '') return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    const list = Array.isArray(parsed) ? parsed.flatMap((item) => errorsOf(item)) : errorsOf(parsed);
    return list
      .filter(
        (e): e is ApiErrorEntry =>
          typeof e === 'object' && e !== null && typeof (e as ApiErrorEntry).error === 'string',
      )
      .map((e) => pickErrorFields(e));
  } catch {
    return [];
  }
}

function errorsOf(value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const errors = (value as { errors?: unknown }).errors;
  return Array.isArray(errors) ? errors : [];
}

function pickErrorFields(e: ApiErrorEntry): ApiErrorEntry {
  const out: ApiErrorEntry = { error: e.error };
  if (typeof e.code === 'number') out.code = e.code;
  if (typeof e.parameter === 'string') out.parameter = e.parameter;
  if (typeof e.error_message === 'string') out.error_message = e.error_message;
  if (typeof e.moreInfo === 'string') out.moreInfo = e.moreInfo;
  return out;
}

/** The API error codes an error carries (empty for errors without apiErrors). */
export function apiErrorCodes(error: unknown): number[] {
  const list = (error as { apiErrors?: ApiErrorEntry[] } | null)?.apiErrors ?? [];
  return list.flatMap((e) => (typeof e.code === 'number' ? [e.code] : []));
}

export function hasApiErrorCode(error: unknown, code: number): boolean {
  return apiErrorCodes(error).includes(code);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  410: 'API version no longer supported',
  412: 'missing required parameter',
  413: 'request too large',
  414: 'URL too long',
  415: 'unsupported media type (the API requires `Accept-Encoding: gzip` and JSON)',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

/**
 * An HTTP answer that is not a success, as one of our errors. 401/403 and auth codes → AuthError;
 * 61003 and unknown tasks → ResultGoneError; 61004/61005 → TaskFailedError; 5xx → NetworkError
 * (the caller decides on retries first); anything else → ApiError.
 */
export function errorFromResponse(status: number, body: string, context: ErrorContext): MsAsyncError {
  const apiErrors = parseApiErrors(body);
  const codes = apiErrors.flatMap((e) => (e.code === undefined ? [] : [e.code]));
  const request = { method: context.method, url: context.url };
  const headline = apiErrors[0]?.error ?? `HTTP ${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  const base = { apiErrors, httpStatus: status, request };
  const task = context.taskId === undefined ? 'the task' : `task ${context.taskId}`;

  if (status === 401 || status === 403 || codes.some((c) => AUTH_API_CODES.has(c))) {
    // A 403, or a code about rights, is a permission of the user: logging in again will not help.
    const permission =
      status !== 401 &&
      (status === 403 || codes.some((c) => PERMISSION_API_CODES.has(c))) &&
      !codes.some((c) => AUTH_API_CODES.has(c) && !PERMISSION_API_CODES.has(c));
    if (permission) {
      return new AuthError(`permission refused: the user may not do this (${headline})`, {
        ...base,
        hint: PERMISSION_HINT,
      });
    }
    const credentials = context.credentials;
    if (credentials) {
      // The API's own words follow as "API error …" lines: the headline would say them twice.
      const said = apiErrors.length > 0 ? '' : `: ${headline}`;
      return new AuthError(`authentication failed: the API refused the credentials from ${credentials.source}${said}`, {
        ...base,
        hint: credentials.hint,
      });
    }
    return new AuthError(`authentication failed: ${headline}`, { ...base, hint: LOGIN_HINT });
  }
  if (codes.includes(61003)) {
    return new ResultGoneError(`the result of ${task} has been deleted (past its deletionDate)`, {
      ...base,
      hint: AGAIN_HINT,
    });
  }
  if (codes.includes(61004)) {
    return new TaskFailedError(`${task} ended with an error (ERROR), so it has no result`, {
      ...base,
      hint: AGAIN_HINT,
    });
  }
  if (codes.includes(61005)) {
    return new TaskFailedError(`${task} was cancelled (CANCEL), so it has no result`, { ...base, hint: AGAIN_HINT });
  }
  if (status === 404 && context.taskId !== undefined) {
    return new ResultGoneError(`${task} is unknown (tasks are kept for a week)`, {
      ...base,
      hint: `check the id with \`ms-async list\`, or ${AGAIN_HINT}`,
    });
  }
  if (status >= 500) {
    return new NetworkError(`the API failed: ${headline} (${context.method} ${context.url})`, {
      ...base,
      hint: 'try again later',
    });
  }
  // 61002 (queue full) may come as a 429 too; it is the API's refusal, not a rate limit.
  if (status === 429 && !codes.some(isAsyncCode)) {
    return new NetworkError(`the API kept refusing with 429 (rate limit): ${headline}`, {
      ...base,
      hint: 'wait a minute and try again; fewer parallel runs help',
    });
  }
  return new ApiError(`the API refused ${context.method} ${stripBase(context.url)}: ${headline}`, {
    ...base,
    ...(codes.includes(61006)
      ? { hint: `the result is not ready: \`ms-async status ${context.taskId ?? '<id>'} --wait\`` }
      : {}),
  });
}

/** 61000–61008: the async exchange's own errors. */
export function isAsyncCode(code: number): boolean {
  return code >= 61000 && code < 62000;
}

function stripBase(url: string): string {
  const at = url.indexOf('/api/remap/1.2');
  return at >= 0 ? url.slice(at + '/api/remap/1.2'.length) : url;
}

/** Parses a JSON body, or throws NetworkError (a truncated/garbled answer; the caller may retry). */
export function parseJsonBody(body: string, context: ErrorContext): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (cause) {
    throw new NetworkError(`the API sent a malformed JSON answer to ${context.method} ${context.url}`, {
      cause: cause instanceof Error ? new Error(cause.message) : undefined,
      request: { method: context.method, url: context.url },
      hint: 'try again later',
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(what: string, context: ErrorContext): NetworkError {
  return new NetworkError(`the API sent an unexpected answer to ${context.method} ${context.url}: ${what}`, {
    request: { method: context.method, url: context.url },
  });
}

/**
 * A task object made safe to use (issue 14: odd task objects end in clear errors, not stack
 * traces): a known state in any case becomes upper case (the workbook writes `done`, §2.5);
 * `errors` becomes a list of proper error entries; a `request`, `resultUrl` or `deletionDate` that
 * is not a string is dropped, except an epoch-milliseconds `deletionDate`, written as the API would.
 */
export function parseTask(value: unknown, context: ErrorContext): AsyncTask {
  if (!isObject(value) || typeof value.id !== 'string' || value.id === '' || typeof value.state !== 'string') {
    throw malformed('not a task object', context);
  }
  const upper = value.state.trim().toUpperCase();
  if ((TASK_STATES as readonly string[]).includes(upper)) value.state = upper;
  if (typeof value.request !== 'string') value.request = '';
  if (value.resultUrl !== undefined && typeof value.resultUrl !== 'string') delete value.resultUrl;
  if (typeof value.deletionDate === 'number' && Number.isFinite(value.deletionDate)) {
    value.deletionDate = moscowTimeText(value.deletionDate);
  } else if (value.deletionDate !== undefined && typeof value.deletionDate !== 'string') {
    delete value.deletionDate;
  }
  if (value.errors !== undefined) value.errors = taskErrors(value.errors);
  return value as AsyncTask;
}

/** `errors` of a task as entries with a text: `[null]`, `{…}` or `[{"code":1}]` included. */
function taskErrors(raw: unknown): ApiErrorEntry[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.flatMap((item): ApiErrorEntry[] => {
    if (typeof item === 'string' && item.trim() !== '') return [{ error: item }];
    if (!isObject(item)) return [];
    const code = typeof item.code === 'number' ? item.code : undefined;
    const text =
      typeof item.error === 'string' && item.error !== ''
        ? item.error
        : `the API gave no description${code === undefined ? '' : ` for code ${code}`}`;
    return [pickErrorFields({ ...(item as Partial<ApiErrorEntry>), error: text })];
  });
}

/** Epoch milliseconds as MoySklad writes date-times: Moscow time (UTC+3), `YYYY-MM-DD HH:mm:ss.SSS`. */
function moscowTimeText(ms: number): string {
  const date = new Date(ms + 3 * 3_600_000);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace(/Z$/, '');
}

export function parseTaskList(value: unknown, context: ErrorContext): TaskList {
  if (!isObject(value) || !Array.isArray(value.rows)) throw malformed('no rows[]', context);
  const rows = value.rows.map((row) => parseTask(row, context));
  const meta = isObject(value.meta) ? value.meta : {};
  const size = typeof meta.size === 'number' ? meta.size : rows.length;
  return { size, rows };
}

export function parseWebhook(value: unknown, context: ErrorContext): Webhook {
  if (!isObject(value) || typeof value.id !== 'string') throw malformed('not a webhook object', context);
  return value as Webhook;
}

export function parseWebhookList(value: unknown, context: ErrorContext): Webhook[] {
  if (!isObject(value) || !Array.isArray(value.rows)) throw malformed('no rows[]', context);
  return value.rows.map((row) => parseWebhook(row, context));
}
