/**
 * createSession: the API client of one run, built from the global flags, the environment and
 * the stored profile (via resolveConnection). The config file is opened only when flags and
 * environment do not already say everything.
 */
import { createApiClient, type ApiClient } from '../api/client.js';
import { assertSafeTransport, resolveConnection, type Connection, type StoredProfile } from '../config/resolve.js';
import type { Request } from 'got';
import type { HttpTrace } from '../trace/recorder.js';

export interface SessionInput {
  globals: { baseUrl?: string | undefined; token?: string | undefined; profile?: string | undefined };
  env: Record<string, string | undefined>;
  configDir?: string | undefined;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** `-v` request log lines. */
  onLog?: ((line: string) => void) | undefined;
  /** `--trace`: the recorder sees every request of the client. */
  trace?: HttpTrace | undefined;
}

export interface Session {
  client: ApiClient;
  connection: Connection;
}

export async function createSession(input: SessionInput): Promise<Session> {
  const stored = needsStoredProfiles(input) ? await loadProfiles(input.configDir) : undefined;
  const connection = resolveConnection({ flags: input.globals, env: input.env, stored });
  await assertSafeTransport(connection.baseUrl);
  const { auth } = connection;
  if (input.trace) input.trace.baseUrl ??= connection.baseUrl;
  const secrets = auth.kind === 'bearer' ? [auth.token] : [auth.password, basicValue(auth.login, auth.password)];
  input.trace?.addSecrets(...secrets);
  const client = createApiClient({
    baseUrl: connection.baseUrl,
    auth: connection.auth,
    now: input.now,
    sleep: input.sleep,
    ...(input.random ? { random: input.random } : {}),
    ...(input.onLog ? { onLog: input.onLog } : {}),
    ...(input.trace ? { observe: (request: Request) => input.trace?.observeApi(request) } : {}),
  });
  return { client, connection };
}

/** The base64 of a Basic Authorization header, a secret as good as the password. */
export function basicValue(login: string, password: string): string {
  return Buffer.from(`${login}:${password}`, 'utf8').toString('base64');
}

/** Whether flags and environment leave something to the stored profile (else conf is not opened). */
export function needsStoredProfiles(input: SessionInput): boolean {
  const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';
  const auth = set(input.globals.token) || set(input.env.MS_TOKEN) || (set(input.env.MS_LOGIN) && input.env.MS_PASSWORD !== undefined);
  const base = set(input.globals.baseUrl) || set(input.env.MS_BASE_URL);
  return !(auth && base);
}

export async function loadProfiles(configDir: string | undefined): Promise<Record<string, StoredProfile>> {
  const { openConfigStore } = await import('../config/store.js');
  return (await openConfigStore({ cwd: configDir })).profiles();
}
