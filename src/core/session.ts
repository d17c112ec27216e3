/**
 * createSession: the API client of one run, built from the global flags, the environment and
 * the stored profile (via resolveConnection). The config file is opened only when flags and
 * environment do not already say everything (or when it exists and may hold precise-money).
 */
import { join } from 'node:path';
import type { Request } from 'got';
import { createAccountGate } from '../api/account-gate.js';
import { createApiClient, type ApiClient, type Auth } from '../api/client.js';
import { assertSafeTransport, resolveConnection, type Connection, type StoredProfile } from '../config/resolve.js';
import { resolveCacheDir } from '../download/cache.js';
import type { HttpTrace } from '../trace/recorder.js';

export interface SessionInput {
  globals: {
    baseUrl?: string | undefined;
    token?: string | undefined;
    profile?: string | undefined;
    preciseMoney?: boolean | undefined;
  };
  env: Record<string, string | undefined>;
  configDir?: string | undefined;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** `-v` request log lines. */
  onLog?: ((line: string) => void) | undefined;
  /** Said once when other runs of the account on this machine hold its task slots. */
  onTaskSlotWait?: (() => void) | undefined;
  /** `--trace`: the recorder sees every request of the client. */
  trace?: HttpTrace | undefined;
}

export interface Session {
  client: ApiClient;
  connection: Connection;
}

export async function createSession(input: SessionInput): Promise<Session> {
  // The stored precise-money counts even when flags and environment give the credentials.
  const stored =
    needsStoredProfiles(input) || input.globals.preciseMoney !== true
      ? await loadProfiles(input.configDir, input.env)
      : undefined;
  const connection = resolveConnection({ flags: input.globals, env: input.env, stored });
  await assertSafeTransport(connection.baseUrl);
  const { auth } = connection;
  if (input.trace) input.trace.baseUrl ??= connection.baseUrl;
  const secrets = auth.kind === 'bearer' ? [auth.token] : [auth.password, basicValue(auth.login, auth.password)];
  input.trace?.addSecrets(...secrets);
  // Runs of the same account on this machine share their limits (README "How the client treats the API").
  const gate =
    input.env.MS_ASYNC_SHARED_LIMITS === 'off'
      ? undefined
      : createAccountGate({
          dir: join(resolveCacheDir(input.env), 'accounts'),
          baseUrl: connection.baseUrl,
          credential: credentialOf(auth),
          sleep: input.sleep,
          ...(input.random ? { random: input.random } : {}),
          ...(input.onLog ? { onTrouble: input.onLog } : {}),
        });
  const client = createApiClient({
    baseUrl: connection.baseUrl,
    auth: connection.auth,
    credentials: connection.credentials,
    gate,
    preciseMoney: connection.preciseMoney,
    onTaskSlotWait: input.onTaskSlotWait,
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

/** What identifies the account's user; hashed by the gate, never written. */
function credentialOf(auth: Auth): string {
  return auth.kind === 'bearer' ? `bearer:${auth.token}` : `basic:${auth.login}:${auth.password}`;
}

/** Whether flags and environment leave something to the stored profile (else conf is not opened). */
export function needsStoredProfiles(input: SessionInput): boolean {
  const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';
  const auth =
    set(input.globals.token) ||
    set(input.env.MS_TOKEN) ||
    set(input.env.MOYSKLAD_TOKEN) ||
    (set(input.env.MS_LOGIN) && input.env.MS_PASSWORD !== undefined);
  const base = set(input.globals.baseUrl) || set(input.env.MS_BASE_URL);
  return !(auth && base);
}

/** The stored profiles (none without a config file); conf itself loads only for a file it must judge. */
export async function loadProfiles(
  configDir: string | undefined,
  env: Record<string, string | undefined>,
): Promise<Record<string, StoredProfile>> {
  const { readStoredProfiles } = await import('../config/store.js');
  return readStoredProfiles(configDir, env);
}
