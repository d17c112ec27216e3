/**
 * resolveConnection: where the base URL and credentials come from, in one pure function —
 * flag > environment > stored profile > default (README.md "Connection and credentials").
 */
import { isIP } from 'node:net';
import { AuthError, UsageError } from '../errors.js';
import type { Auth } from '../api/client.js';

export const DEFAULT_BASE_URL = 'https://api.moysklad.ru/api/remap/1.2';
export const DEFAULT_PROFILE = 'default';

export interface StoredProfile {
  baseUrl?: string | undefined;
  token?: string | undefined;
  /** `'true'` asks for unrounded money (X-Lognex-Precision); absent or `'false'`: off. */
  preciseMoney?: string | undefined;
}

export type Source = 'flag' | 'env' | 'stored' | 'default';

export interface ConnectionInput {
  flags: {
    baseUrl?: string | undefined;
    token?: string | undefined;
    profile?: string | undefined;
    preciseMoney?: boolean | undefined;
  };
  env: Record<string, string | undefined>;
  /** Every stored profile by name (the conf file's `profiles`). */
  stored?: Readonly<Record<string, StoredProfile>> | undefined;
  /** Overrides the profile named by flags/env (rarely needed). */
  profile?: string | undefined;
}

export interface Connection {
  baseUrl: string;
  auth: Auth;
  profile: string;
  sources: { baseUrl: Source; auth: Source };
  /** Which credentials were used, named as the user knows them, and what to do if refused. */
  credentials: { source: string; hint: string };
  /** `--precise-money` or the profile's stored `precise-money` (docs/api-facts.md §10.3). */
  preciseMoney: boolean;
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/** The profile in use: --profile > MS_PROFILE > `default`. */
export function resolveProfileName(input: Pick<ConnectionInput, 'flags' | 'env' | 'profile'>): string {
  return nonEmpty(input.profile) ?? nonEmpty(input.flags.profile) ?? nonEmpty(input.env.MS_PROFILE) ?? DEFAULT_PROFILE;
}

/** Base URL only (login and config need it without credentials). */
export function resolveBaseUrl(input: ConnectionInput): { baseUrl: string; source: Source } {
  const stored = input.stored?.[resolveProfileName(input)];
  const candidates: Array<[string | undefined, Source]> = [
    [nonEmpty(input.flags.baseUrl), 'flag'],
    [nonEmpty(input.env.MS_BASE_URL), 'env'],
    [nonEmpty(stored?.baseUrl), 'stored'],
    [DEFAULT_BASE_URL, 'default'],
  ];
  const [value, source] = candidates.find(([v]) => v !== undefined) ?? [DEFAULT_BASE_URL, 'default'];
  return { baseUrl: normaliseBaseUrl(value ?? DEFAULT_BASE_URL, source), source };
}

/**
 * Base URL, credentials and profile. Credentials: --token > MS_TOKEN > MOYSKLAD_TOKEN (the name
 * other MoySklad tools use) > MS_LOGIN+MS_PASSWORD > the stored profile's token. No credentials →
 * AuthError (exit 3) pointing at `ms-async login`; credentials over plain http:// to a non-loopback
 * address → UsageError (exit 2).
 */
export function resolveConnection(input: ConnectionInput): Connection {
  const profile = resolveProfileName(input);
  const stored = input.stored?.[profile];
  const { baseUrl, source: baseSource } = resolveBaseUrl(input);

  const login = nonEmpty(input.env.MS_LOGIN);
  const password = input.env.MS_PASSWORD;
  const loginHint = `run \`ms-async login${profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`}\` with a valid token`;
  const envHint = (name: string): string =>
    `${name} is set and wins over a stored token: put a valid token in it, or unset it and ${loginHint}`;
  const candidates: Array<[Auth | undefined, Source, Connection['credentials']]> = [
    [
      bearer(input.flags.token),
      'flag',
      { source: '--token', hint: `check the token given with --token, or ${loginHint}` },
    ],
    [bearer(input.env.MS_TOKEN), 'env', { source: 'MS_TOKEN', hint: envHint('MS_TOKEN') }],
    [bearer(input.env.MOYSKLAD_TOKEN), 'env', { source: 'MOYSKLAD_TOKEN', hint: envHint('MOYSKLAD_TOKEN') }],
    [
      login && password ? { kind: 'basic', login, password } : undefined,
      'env',
      {
        source: `Basic login ${login ?? ''} (MS_LOGIN, MS_PASSWORD)`,
        hint: 'check MS_LOGIN and MS_PASSWORD (the login is user@account), or unset them and use a token',
      },
    ],
    [
      bearer(stored?.token),
      'stored',
      { source: `profile "${profile}"`, hint: `the stored token may be revoked: ${loginHint}` },
    ],
  ];
  const found = candidates.find(([auth]) => auth !== undefined);
  if (!found?.[0]) {
    throw new AuthError(`no credentials for profile "${profile}"`, {
      hint: 'run `ms-async login` (or set MS_TOKEN, or MS_LOGIN and MS_PASSWORD)',
    });
  }
  const [auth, authSource, credentials] = found;
  // An HTTP header cannot carry them: refused here, before anything is sent (not a network error).
  if (auth.kind === 'bearer' && !/^[\x21-\x7e]+$/.test(auth.token)) {
    const what = /[\r\n]/.test(auth.token)
      ? 'a line break'
      : /\s/.test(auth.token)
        ? 'a space'
        : 'a character outside ASCII';
    throw new UsageError(`the token (from ${credentials.source}) contains ${what}, which no MoySklad token has`, {
      hint: "copy the token again (40 hexadecimal characters in MoySklad's examples)",
    });
  }
  // Plain http is refused here for addresses; names are resolved by assertSafeTransport.
  const url = new URL(baseUrl);
  const host = bareHost(url.hostname);
  if (url.protocol === 'http:' && isIP(host) !== 0 && !isLoopbackAddress(host)) throw plainHttpRefused(url.host);
  const preciseMoney = input.flags.preciseMoney === true || stored?.preciseMoney === 'true';
  return { baseUrl, auth, profile, sources: { baseUrl: baseSource, auth: authSource }, credentials, preciseMoney };
}

function bearer(token: string | undefined): Auth | undefined {
  const value = nonEmpty(token);
  return value === undefined ? undefined : { kind: 'bearer', token: value };
}

type LookupAll = (host: string) => Promise<ReadonlyArray<{ address: string }>>;

/**
 * Credentials may travel over plain http only to this machine (the sandbox). Decided by the
 * address the name resolves to, every one of them: a name (`x.localhost` included) may resolve
 * anywhere. Call before the first request; `lookup` is injectable for tests.
 */
export async function assertSafeTransport(baseUrl: string, lookup: LookupAll = lookupAll): Promise<void> {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') return;
  const host = bareHost(url.hostname);
  if (isIP(host) !== 0) {
    if (isLoopbackAddress(host)) return;
    throw plainHttpRefused(url.host);
  }
  const addresses = await lookup(host).catch(() => []);
  if (addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address))) return;
  throw plainHttpRefused(url.host);
}

async function lookupAll(host: string): Promise<ReadonlyArray<{ address: string }>> {
  const { lookup } = await import('node:dns/promises');
  return lookup(host, { all: true });
}

function plainHttpRefused(host: string): UsageError {
  return new UsageError(`refusing to send credentials over plain http to ${host}: it is not this machine`, {
    hint: 'use an https:// base URL (plain http is allowed only for a loopback address, the sandbox)',
  });
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127/8: a literal address, never a name. */
export function isLoopbackAddress(address: string): boolean {
  const host = bareHost(address);
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}

function normaliseBaseUrl(text: string, source: Source): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${withoutUserInfo(text)}" is not a URL (base URL from ${source})`, {
      hint: `the default is ${DEFAULT_BASE_URL}`,
    });
  }
  if (url.username !== '' || url.password !== '') {
    // Never printed, never used: silently preferring them over MS_TOKEN would surprise, and a
    // URL shows up in -v lines, errors and --json.
    throw new UsageError(`the base URL (from ${source}) carries a user name or password before @; it is refused`, {
      hint: 'remove the user:password@ part; give credentials with MS_TOKEN, MS_LOGIN/MS_PASSWORD or `ms-async login`',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`the base URL must be http(s): ${url.protocol}//… (from ${source})`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/** `https://user:pw@host` → `https://***@host`, for echoing a URL that did not parse. */
function withoutUserInfo(text: string): string {
  return text.replace(/\/\/[^/?#]*@/, '//***@');
}

/** A token shown safely: `abcd…(40 chars)`. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 4)}…(${secret.length} chars)` : `…(${secret.length} chars)`;
}
