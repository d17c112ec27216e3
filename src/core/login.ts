/**
 * `login`, `logout`, `config`: credentials and settings in the conf store. A token is checked with
 * `GET /context/employee` before it is stored (README.md "Connection and credentials").
 */
import { UsageError } from '../errors.js';
import { createApiClient } from '../api/client.js';
import {
  assertSafeTransport,
  maskSecret,
  resolveBaseUrl,
  resolveProfileName,
  type ConnectionInput,
  type StoredProfile,
} from '../config/resolve.js';
import { openConfigStore, profileField, type ConfigStore } from '../config/store.js';
import type { Request } from 'got';
import type { HttpTrace } from '../trace/recorder.js';

export interface LoginOptions extends Omit<ConnectionInput, 'stored'> {
  token: string;
  configDir?: string | undefined;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  onLog?: ((line: string) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** `--trace`: the recorder sees the check. */
  trace?: HttpTrace | undefined;
}

export interface LoginResult {
  profile: string;
  baseUrl: string;
  /** Who the token belongs to (employee name or login), when the API says. */
  who: string | undefined;
  path: string;
}

export async function login(options: LoginOptions): Promise<LoginResult> {
  const token = options.token.trim();
  if (token === '' || /\s/.test(token)) throw new UsageError('the token is empty or contains spaces');
  const store = await openConfigStore({ cwd: options.configDir });
  const profile = resolveProfileName(options);
  const stored = store.profiles();
  const { baseUrl, source } = resolveBaseUrl({ ...options, stored });
  await assertSafeTransport(baseUrl);
  options.trace?.addSecrets(token);
  if (options.trace) options.trace.baseUrl ??= baseUrl;
  const client = createApiClient({
    baseUrl,
    auth: { kind: 'bearer', token },
    now: options.now,
    sleep: options.sleep,
    // Not "run ms-async login": this is it. The token itself is what to check.
    credentials: {
      source: options.flags.token === undefined ? 'the token typed for login' : 'the token given with --token',
      hint: 'copy the whole token again, or create a new one (README.md, "Get a token")',
    },
    ...(options.onLog ? { onLog: options.onLog } : {}),
    ...(options.trace ? { observe: (request: Request) => options.trace?.observeApi(request) } : {}),
  });
  const employee = (await client.getEmployee({ signal: options.signal })) as {
    name?: unknown;
    uid?: unknown;
    fullName?: unknown;
  } | null;
  const keepBase = source === 'flag' || source === 'env' ? baseUrl : stored[profile]?.baseUrl;
  store.setProfile(profile, { ...stored[profile], token, baseUrl: keepBase });
  const who = [employee?.fullName, employee?.name, employee?.uid].find(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  return { profile, baseUrl, who, path: store.path };
}

export async function logout(options: {
  profile: string;
  configDir?: string | undefined;
}): Promise<{ removed: boolean }> {
  const store = await openConfigStore({ cwd: options.configDir });
  const current = store.getProfile(options.profile);
  if (!current?.token) return { removed: false };
  store.setProfile(options.profile, { ...current, token: undefined });
  return { removed: true };
}

/** The stored settings of a profile as shown to people: the token masked. */
export function displayProfile(profile: StoredProfile | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (profile?.baseUrl) out['base-url'] = profile.baseUrl;
  if (profile?.token) out.token = maskSecret(profile.token);
  if (profile?.preciseMoney) out['precise-money'] = profile.preciseMoney;
  return out;
}

export async function configStore(configDir: string | undefined): Promise<ConfigStore> {
  return openConfigStore({ cwd: configDir });
}

export function configKey(key: string): keyof StoredProfile {
  const field = profileField(key);
  if (!field) throw new UsageError(`unknown setting "${key}"; the settings are base-url, token and precise-money`);
  return field;
}

export function setConfigValue(store: ConfigStore, profile: string, key: string, value: string): void {
  const field = configKey(key);
  const current = store.getProfile(profile) ?? {};
  if (field === 'baseUrl') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`"${value}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('the base URL must be http(s)');
  }
  if (field === 'preciseMoney' && value !== '') {
    const on = /^(true|on|yes|1)$/i.test(value);
    if (!on && !/^(false|off|no|0)$/i.test(value))
      throw new UsageError(`precise-money is true or false, not "${value}"`);
    value = on ? 'true' : 'false';
  }
  store.setProfile(profile, { ...current, [field]: value === '' ? undefined : value });
}
