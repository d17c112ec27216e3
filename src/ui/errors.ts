/** How an error is shown: one line, the API's codes and messages, and the next command (pure). */
import { MsAsyncError } from '../errors.js';

export function formatErrorLines(error: unknown, color: boolean): string[] {
  const red = (s: string): string => (color ? `\u001B[31m${s}\u001B[39m` : s);
  const dim = (s: string): string => (color ? `\u001B[2m${s}\u001B[22m` : s);
  if (!(error instanceof MsAsyncError)) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return [`${red('ms-async: internal error')} (this is a bug; please report it): ${message}`];
  }
  const lines = [`${red('ms-async: error:')} ${error.message}`];
  for (const api of error.apiErrors) {
    const code = api.code === undefined ? '' : ` ${api.code}`;
    const parameter = api.parameter ? ` (parameter ${api.parameter})` : '';
    lines.push(`  API error${code}: ${api.error}${parameter}`);
  }
  if (error.hint) lines.push(dim(`  hint: ${error.hint}`));
  return lines;
}

export function errorToJson(error: unknown): { error: Record<string, unknown> } {
  if (!(error instanceof MsAsyncError)) {
    return {
      error: {
        code: 'ERR_MS_INTERNAL',
        message: error instanceof Error ? error.message : String(error),
        apiErrors: [],
      },
    };
  }
  return {
    error: {
      code: error.code,
      exitCode: error.exitCode,
      message: error.message,
      apiErrors: error.apiErrors,
      ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      ...(error.request === undefined ? {} : { request: error.request }),
      ...(error.details ?? {}),
      ...(error.summary === undefined ? {} : { summary: error.summary }),
    },
  };
}
