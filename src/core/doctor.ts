/**
 * `ms-async doctor`: is this machine ready to export? Where the credentials come from (never the
 * secret itself), whether the API answers and accepts them, the account's rate-limit headers,
 * clock skew against the API's Date, and how many of the account's async slots are taken
 * (README, "Credentials"). Checks run in order and a failed one skips those that need it.
 */
import type { Request, Response } from 'got';
import { createApiClient } from '../api/client.js';
import { resolveConnection, type Connection, type StoredProfile } from '../config/resolve.js';
import { AuthError, MsAsyncError, NetworkError } from '../errors.js';
import type { HttpTrace } from '../trace/recorder.js';
import { basicValue, loadProfiles } from './session.js';

/** Async tasks an account may have queued or running at once (docs/api-facts.md §3.1). */
export const ASYNC_SLOTS = 4;
/** A local clock further off than this misjudges deletionDate and link expiry (docs/api-facts.md §2.3, §2.7). */
export const SKEW_WARN_MS = 30_000;

export type CheckName = 'node' | 'credentials' | 'api' | 'token' | 'rate-limit' | 'clock' | 'queue';
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  name: CheckName;
  status: CheckStatus;
  message: string;
  /** Machine-readable facts behind the message (for `--json`). */
  data?: Record<string, unknown>;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  /** What ends the run with a non-zero exit code (auth → 3, network → 7), if anything. */
  failure?: MsAsyncError | undefined;
}

export interface DoctorOptions {
  globals: { baseUrl?: string | undefined; token?: string | undefined; profile?: string | undefined };
  env: Record<string, string | undefined>;
  configDir?: string | undefined;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal | undefined;
  onLog?: ((line: string) => void) | undefined;
  trace?: HttpTrace | undefined;
  /** `process.version` unless a test says otherwise. */
  nodeVersion?: string;
}

interface Seen {
  url: string;
  status: number;
  headers: Response['headers'];
  at: number;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [nodeCheck(options.nodeVersion ?? process.version)];
  const report = (failure?: MsAsyncError): DoctorReport => ({
    ok: failure === undefined && checks.every((c) => c.status !== 'fail'),
    checks,
    failure,
  });

  let connection: Connection;
  let stored: Record<string, StoredProfile> | undefined;
  try {
    stored = await loadProfiles(options.configDir, options.env);
    connection = resolveConnection({ flags: options.globals, env: options.env, stored });
  } catch (error) {
    if (!(error instanceof MsAsyncError)) throw error;
    checks.push({
      name: 'credentials',
      status: 'fail',
      message: error.hint ? `${error.message} (${error.hint})` : error.message,
    });
    for (const name of ['api', 'token', 'rate-limit', 'clock', 'queue'] as const) checks.push(skipped(name));
    return report(error);
  }
  checks.push(credentialsCheck(connection, options.env));

  const { auth } = connection;
  options.trace?.addSecrets(
    ...(auth.kind === 'bearer' ? [auth.token] : [auth.password, basicValue(auth.login, auth.password)]),
  );
  if (options.trace) options.trace.baseUrl ??= connection.baseUrl;
  const seen: Seen[] = [];
  const watch = (request: Request): void => {
    options.trace?.observeApi(request);
    request.once('response', (response: Response) => {
      seen.push({ url: response.url, status: response.statusCode, headers: response.headers, at: options.now() });
    });
  };
  const client = createApiClient({
    baseUrl: connection.baseUrl,
    auth,
    now: options.now,
    sleep: options.sleep,
    // A check, not an export: say quickly that something is wrong instead of retrying for minutes.
    maxRetries: 1,
    maxRateLimitWaitMs: 10_000,
    connectTimeoutMs: 10_000,
    responseTimeoutMs: 60_000,
    observe: watch,
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });

  // One cheap call answers three questions: reachable, token accepted, and the headers (docs/api-facts.md §3.3).
  const started = options.now();
  let employee: unknown;
  let failure: MsAsyncError | undefined;
  try {
    employee = await client.getEmployee({ signal: options.signal });
  } catch (error) {
    if (!(error instanceof MsAsyncError) || error.code === 'ERR_MS_INTERRUPTED') throw error;
    failure = error;
  }
  const answer = seen.at(-1);
  const elapsed = options.now() - started;
  if (answer === undefined || (failure instanceof NetworkError && failure.httpStatus === undefined)) {
    checks.push({
      name: 'api',
      status: 'fail',
      message: `${connection.baseUrl} does not answer: ${failure?.message ?? 'no answer'}`,
      data: { baseUrl: connection.baseUrl },
    });
    for (const name of ['token', 'rate-limit', 'clock', 'queue'] as const) checks.push(skipped(name));
    return report(failure ?? new NetworkError(`${connection.baseUrl} does not answer`));
  }
  checks.push({
    name: 'api',
    status: answer.status >= 500 ? 'fail' : 'ok',
    message: `${connection.baseUrl} answers (HTTP ${answer.status} in ${elapsed} ms)`,
    data: { baseUrl: connection.baseUrl, status: answer.status, ms: elapsed },
  });
  if (failure === undefined) {
    const who = employeeName(employee);
    checks.push({
      name: 'token',
      status: 'ok',
      message: `accepted${who ? ` (${who})` : ''}`,
      data: who ? { employee: who } : {},
    });
  } else {
    checks.push({
      name: 'token',
      status: 'fail',
      message: failure instanceof AuthError ? `refused: ${failure.message}` : `not confirmed: ${failure.message}`,
      data: { status: answer.status, apiErrors: failure.apiErrors },
    });
  }
  checks.push(rateLimitCheck(answer.headers));
  checks.push(clockCheck(answer));
  if (failure !== undefined) {
    checks.push(skipped('queue'));
    return report(failure);
  }

  try {
    const list = await client.listTasks({ states: ['PENDING', 'PROCESSING'], limit: 100 }, { signal: options.signal });
    const pending = list.rows.filter((t) => t.state === 'PENDING').length;
    const processing = list.rows.filter((t) => t.state === 'PROCESSING').length;
    const used = Math.max(list.size, list.rows.length);
    checks.push({
      name: 'queue',
      status: used >= ASYNC_SLOTS ? 'warn' : 'ok',
      message:
        `${used} of ${ASYNC_SLOTS} async slots taken (${pending} PENDING, ${processing} PROCESSING)` +
        (used >= ASYNC_SLOTS ? ': a new export waits for a free slot' : ''),
      data: { used, slots: ASYNC_SLOTS, pending, processing },
    });
  } catch (error) {
    if (!(error instanceof MsAsyncError) || error.code === 'ERR_MS_INTERRUPTED') throw error;
    checks.push({ name: 'queue', status: 'fail', message: `cannot list the async tasks: ${error.message}` });
    if (error instanceof AuthError || error instanceof NetworkError) return report(error);
  }
  return report();
}

function nodeCheck(version: string): DoctorCheck {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  return major >= 20
    ? { name: 'node', status: 'ok', message: `Node.js ${version}`, data: { version } }
    : { name: 'node', status: 'fail', message: `Node.js ${version}: ms-async needs 20 or newer`, data: { version } };
}

function credentialsCheck(connection: Connection, env: Record<string, string | undefined>): DoctorCheck {
  const { auth, sources, profile } = connection;
  let from: string;
  if (sources.auth === 'flag') from = 'token from --token';
  else if (sources.auth === 'stored') from = `token stored for profile "${profile}" (ms-async login)`;
  else if (auth.kind === 'basic') from = `login "${auth.login}" and password from MS_LOGIN/MS_PASSWORD`;
  else from = `token from ${envTokenName(env)}`;
  const base = sources.baseUrl === 'default' ? 'the default base URL' : `base URL from ${sourceWord(sources.baseUrl)}`;
  return {
    name: 'credentials',
    status: 'ok',
    message: `${from}; ${base}`,
    data: { source: sources.auth, kind: auth.kind, profile, baseUrlSource: sources.baseUrl },
  };
}

/** The variable the token came from: MS_TOKEN first (the contract's order), then any other *_TOKEN we read. */
function envTokenName(env: Record<string, string | undefined>): string {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  if (set('MS_TOKEN')) return 'MS_TOKEN';
  if (set('MOYSKLAD_TOKEN')) return 'MOYSKLAD_TOKEN';
  return 'the environment';
}

function sourceWord(source: string): string {
  return source === 'flag' ? '--base-url' : source === 'env' ? 'MS_BASE_URL' : 'the stored profile';
}

function rateLimitCheck(headers: Response['headers']): DoctorCheck {
  const number = (name: string): number | undefined => {
    const value = Number(headers[name]);
    return headers[name] === undefined || !Number.isFinite(value) ? undefined : value;
  };
  const limit = number('x-ratelimit-limit');
  const remaining = number('x-ratelimit-remaining');
  const intervalMs = number('x-lognex-retry-timeinterval');
  const resetMs = number('x-lognex-reset');
  const data = { limit, remaining, intervalMs, resetMs };
  if (limit === undefined && remaining === undefined) {
    return { name: 'rate-limit', status: 'ok', message: 'the answer carried no rate-limit headers', data };
  }
  const per = intervalMs === undefined ? '' : ` per ${intervalMs} ms`;
  const left = remaining === undefined ? '' : `, ${remaining} left`;
  const reset = resetMs ? `, resets in ${resetMs} ms` : '';
  return {
    name: 'rate-limit',
    status: remaining === 0 ? 'warn' : 'ok',
    message: `${limit ?? '?'} requests${per}${left}${reset}`,
    data,
  };
}

function clockCheck(answer: Seen): DoctorCheck {
  const date = answer.headers.date;
  const server = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(server)) return { name: 'clock', status: 'skip', message: 'the answer carried no Date header' };
  // Date has whole seconds: up to a second of difference is no skew at all.
  const skewMs = answer.at - server;
  const abs = Math.abs(skewMs);
  const data = { skewMs, serverDate: date };
  if (abs < 2000) return { name: 'clock', status: 'ok', message: 'in step with the API (within a second)', data };
  const text = `${formatSpan(abs)} ${skewMs > 0 ? 'ahead of' : 'behind'} the API`;
  return abs > SKEW_WARN_MS
    ? { name: 'clock', status: 'warn', message: `${text}: expiry times (deletionDate, links) will be misjudged`, data }
    : { name: 'clock', status: 'ok', message: text, data };
}

function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function employeeName(employee: unknown): string | undefined {
  const e = employee as { fullName?: unknown; name?: unknown; uid?: unknown } | null;
  return [e?.fullName, e?.name, e?.uid].find((v): v is string => typeof v === 'string' && v !== '');
}

function skipped(name: CheckName): DoctorCheck {
  return { name, status: 'skip', message: 'not checked' };
}
