/**
 * The error tree of ms-async. Every failure a user can act on is one of these; `src/main.ts`
 * turns them into the contract's exit codes (README.md "Exit codes") and nothing else does.
 */

/** One entry of the API's `errors[]` (docs/api-facts.md §4.1). */
export interface ApiErrorEntry {
  error: string;
  code?: number;
  parameter?: string;
  error_message?: string;
  moreInfo?: string;
}

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  api: 4,
  taskFailed: 5,
  timeout: 6,
  network: 7,
  gone: 8,
  localFile: 9,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface MsAsyncErrorOptions {
  cause?: unknown;
  /** The next thing the user can do, e.g. "run `ms-async login`". */
  hint?: string;
  apiErrors?: ApiErrorEntry[];
  httpStatus?: number;
  /** Method and URL of the request that failed; never carries a token. */
  request?: { method: string; url: string };
  /** Extra machine-readable context for `--json` (e.g. the task whose final state failed). */
  details?: Record<string, unknown>;
}

export abstract class MsAsyncError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly apiErrors: ApiErrorEntry[];
  readonly httpStatus: number | undefined;
  readonly request: { method: string; url: string } | undefined;
  readonly details: Record<string, unknown> | undefined;
  /**
   * What a transfer had done when it failed (task id, state, …), set by the command that ran it so
   * that `--json` shows the same summary object as on success.
   */
  summary: Record<string, unknown> | undefined;
  /** The command already put this failure into its own `--json` document (doctor): main adds none. */
  jsonWritten = false;

  constructor(message: string, options: MsAsyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.apiErrors = options.apiErrors ?? [];
    this.httpStatus = options.httpStatus;
    this.request = options.request;
    this.details = options.details;
  }
}

/** Bad flag, unknown report, missing parameter, bad --out: nothing was sent. */
export class UsageError extends MsAsyncError {
  readonly code = 'ERR_MS_USAGE';
  readonly exitCode = ExitCode.usage;
}

/** 401/403 and the API's authentication/permission codes, at once or inside an API_ERROR task. */
export class AuthError extends MsAsyncError {
  readonly code = 'ERR_MS_AUTH';
  readonly exitCode = ExitCode.auth;
}

/** The API rejected the request, or a task ended API_ERROR for a non-auth reason. */
export class ApiError extends MsAsyncError {
  readonly code = 'ERR_MS_API';
  readonly exitCode = ExitCode.api;
}

/** The task ended ERROR or CANCEL. */
export class TaskFailedError extends MsAsyncError {
  readonly code = 'ERR_MS_TASK_FAILED';
  readonly exitCode = ExitCode.taskFailed;
}

/** --timeout reached while waiting. */
export class TimeoutError extends MsAsyncError {
  readonly code = 'ERR_MS_TIMEOUT';
  readonly exitCode = ExitCode.timeout;
}

/** Network or server failure that retries did not overcome, or a result file still broken. */
export class NetworkError extends MsAsyncError {
  readonly code = 'ERR_MS_NETWORK';
  readonly exitCode = ExitCode.network;
}

/** The result file is cut short or not well-formed JSON (exit 7 once a fresh download did not help). */
export class BadResultError extends MsAsyncError {
  readonly code = 'ERR_MS_BAD_RESULT';
  readonly exitCode = ExitCode.network;
}

/** The result is gone: past deletionDate, or the task is unknown. */
export class ResultGoneError extends MsAsyncError {
  readonly code = 'ERR_MS_RESULT_GONE';
  readonly exitCode = ExitCode.gone;
}

/** A file of ours could not be written or read: disk full, read-only, folder gone, no permission. */
export class LocalFileError extends MsAsyncError {
  readonly code = 'ERR_MS_LOCAL_FILE';
  readonly exitCode = ExitCode.localFile;
}

/** Ctrl-C. */
export class InterruptedError extends MsAsyncError {
  readonly code = 'ERR_MS_INTERRUPTED';
  readonly exitCode = ExitCode.interrupted;
}

/**
 * A batch in which some jobs did not succeed. Its exit code is the first failed job's, in file
 * order (130 after Ctrl-C); each job's own error was already shown, and with --json written into
 * the batch's array on stdout.
 */
export class BatchError extends MsAsyncError {
  readonly code = 'ERR_MS_BATCH';
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue, options: MsAsyncErrorOptions = {}) {
    super(message, options);
    this.exitCode = exitCode;
    this.jsonWritten = true;
  }
}

/** API error codes that mean "who you are / what you may see" → exit 3 (docs/api-facts.md §4.3). */
export const AUTH_API_CODES: ReadonlySet<number> = new Set([1056, 1048, 1061, 1085, 1016, 13003, 30004]);

/**
 * The auth codes that are about what this user may do, not who they are: the credentials work,
 * a right is missing (1061 no API access, 1016 no right to view, 13003 the stock report, 30004
 * webhooks for administrators only). Exit 3 all the same, with another hint.
 */
export const PERMISSION_API_CODES: ReadonlySet<number> = new Set([1016, 1061, 13003, 30004]);

/** The hint for a missing right. */
export const PERMISSION_HINT =
  'the token works, but this MoySklad user lacks the right: an administrator of the account can grant it ' +
  "(Settings → Users → the user → Rights), or use another user's token";

/** Exit code for anything thrown: ours carry one; anything else is a bug (1). */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof MsAsyncError ? error.exitCode : ExitCode.internal;
}

/**
 * An error as it crosses from a worker thread to the main one (core/convert-thread.ts): a
 * structured clone keeps only a plain Error, and the class is what sets the exit code.
 */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string | undefined;
  /** A system error's own fields (localFileError reads them) and MsAsyncError's. */
  code?: string | undefined;
  syscall?: string | undefined;
  path?: string | undefined;
  hint?: string | undefined;
  apiErrors?: ApiErrorEntry[] | undefined;
  httpStatus?: number | undefined;
  details?: Record<string, unknown> | undefined;
  cause?: ErrorRecord | undefined;
}

const TRANSFERABLE: Readonly<Record<string, new (message: string, options?: MsAsyncErrorOptions) => MsAsyncError>> = {
  UsageError,
  AuthError,
  ApiError,
  TaskFailedError,
  TimeoutError,
  NetworkError,
  BadResultError,
  ResultGoneError,
  LocalFileError,
  InterruptedError,
};

export function errorToRecord(error: unknown, depth = 0): ErrorRecord {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & Partial<MsAsyncError> & NodeJS.ErrnoException;
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e.path === 'string' ? { path: e.path } : {}),
    ...(error instanceof MsAsyncError
      ? { hint: e.hint, apiErrors: e.apiErrors, httpStatus: e.httpStatus, details: e.details }
      : {}),
    ...(e.cause !== undefined && depth < 3 ? { cause: errorToRecord(e.cause, depth + 1) } : {}),
  };
}

export function errorFromRecord(record: ErrorRecord): Error {
  const cause = record.cause === undefined ? undefined : errorFromRecord(record.cause);
  const Class = Object.hasOwn(TRANSFERABLE, record.name) ? TRANSFERABLE[record.name] : undefined;
  const error: Error = Class
    ? new Class(record.message, {
        ...(cause === undefined ? {} : { cause }),
        ...(record.hint === undefined ? {} : { hint: record.hint }),
        ...(record.apiErrors === undefined ? {} : { apiErrors: record.apiErrors }),
        ...(record.httpStatus === undefined ? {} : { httpStatus: record.httpStatus }),
        ...(record.details === undefined ? {} : { details: record.details }),
      })
    : Object.assign(new Error(record.message, cause === undefined ? undefined : { cause }), {
        name: record.name,
        ...(record.code === undefined ? {} : { code: record.code }),
        ...(record.syscall === undefined ? {} : { syscall: record.syscall }),
        ...(record.path === undefined ? {} : { path: record.path }),
      });
  if (record.stack !== undefined) error.stack = record.stack;
  return error;
}
