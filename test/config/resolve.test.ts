import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BASE_URL,
  assertSafeTransport,
  isLoopbackAddress,
  maskSecret,
  resolveConnection,
} from '../../src/config/resolve.js';
import { AuthError, UsageError } from '../../src/errors.js';

const stored = {
  default: { baseUrl: 'https://stored.example/api/remap/1.2', token: 'stored-token' },
  other: { token: 'other-token' },
};

describe('resolveConnection precedence: flag > env > stored > default', () => {
  it.each([
    [
      'flag wins',
      { token: 'flag-token', baseUrl: 'https://flag.example/api' },
      { MS_TOKEN: 'env-token', MS_BASE_URL: 'https://env.example/api' },
      { token: 'flag-token', baseUrl: 'https://flag.example/api', sources: { auth: 'flag', baseUrl: 'flag' } },
    ],
    [
      'env over stored',
      {},
      { MS_TOKEN: 'env-token', MS_BASE_URL: 'https://env.example/api' },
      { token: 'env-token', baseUrl: 'https://env.example/api', sources: { auth: 'env', baseUrl: 'env' } },
    ],
    [
      'stored',
      {},
      {},
      {
        token: 'stored-token',
        baseUrl: 'https://stored.example/api/remap/1.2',
        sources: { auth: 'stored', baseUrl: 'stored' },
      },
    ],
    [
      'profile flag picks another stored profile, default URL',
      { profile: 'other' },
      { MS_PROFILE: 'default' },
      { token: 'other-token', baseUrl: DEFAULT_BASE_URL, sources: { auth: 'stored', baseUrl: 'default' } },
    ],
    ['MS_PROFILE', {}, { MS_PROFILE: 'other' }, { token: 'other-token', baseUrl: DEFAULT_BASE_URL }],
  ])('%s', (_name, flags, env, expected) => {
    const c = resolveConnection({ flags, env, stored });
    expect(c.auth.kind === 'bearer' ? c.auth.token : undefined).toBe(expected.token);
    expect(c.baseUrl).toBe(expected.baseUrl);
    if ('sources' in expected) expect(c.sources).toEqual(expected.sources);
  });

  it('MS_LOGIN + MS_PASSWORD → Basic, below MS_TOKEN, above the stored token', () => {
    const basic = resolveConnection({ flags: {}, env: { MS_LOGIN: 'admin@shop', MS_PASSWORD: 'pw' }, stored });
    expect(basic.auth).toEqual({ kind: 'basic', login: 'admin@shop', password: 'pw' });
    const token = resolveConnection({ flags: {}, env: { MS_LOGIN: 'a', MS_PASSWORD: 'p', MS_TOKEN: 't' }, stored });
    expect(token.auth).toEqual({ kind: 'bearer', token: 't' });
  });

  it('no credentials → AuthError pointing at login', () => {
    const attempt = () => resolveConnection({ flags: {}, env: {}, stored: {} });
    expect(attempt).toThrow(AuthError);
    try {
      attempt();
    } catch (error) {
      expect((error as AuthError).hint).toContain('ms-async login');
    }
  });

  // Names resolve through this table instead of DNS: what counts is the address, not the name.
  const dns: Record<string, string[]> = {
    localhost: ['127.0.0.1', '::1'],
    'evil.localhost': ['203.0.113.7'],
    'split.localhost': ['127.0.0.1', '203.0.113.7'],
    'api.moysklad.ru': ['185.11.1.1'],
  };
  const lookup = async (host: string) => (dns[host] ?? []).map((address) => ({ address }));
  it.each([
    ['http://127.0.0.1:8080/api/remap/1.2', true],
    ['http://localhost:1/api', true],
    ['http://[::1]:9/api', true],
    ['http://127.5.6.7/api', true],
    ['https://api.moysklad.ru/api/remap/1.2', true],
    ['http://api.moysklad.ru/api/remap/1.2', false],
    ['http://10.0.0.1/api', false],
    ['http://evil.localhost/api', false],
    ['http://split.localhost/api', false],
    ['http://unresolvable.example/api', false],
  ])('credentials over %s allowed: %s', async (baseUrl, ok) => {
    const attempt = assertSafeTransport(baseUrl, lookup);
    if (ok) await expect(attempt).resolves.toBeUndefined();
    else await expect(attempt).rejects.toThrow(UsageError);
  });

  it('resolveConnection refuses plain http to a non-loopback address at once', () => {
    expect(() => resolveConnection({ flags: { baseUrl: 'http://10.0.0.1/api', token: 't' }, env: {} })).toThrow(
      UsageError,
    );
  });

  it.each([
    ['flag', { baseUrl: 'https://user:s3cr3t-pw@api.moysklad.ru/api/remap/1.2', token: 't' }, {}],
    ['env', {}, { MS_BASE_URL: 'https://user:s3cr3t-pw@api.moysklad.ru/api/remap/1.2', MS_TOKEN: 't' }],
    ['env, no password', {}, { MS_BASE_URL: 'https://s3cr3t-pw@api.moysklad.ru/api/remap/1.2', MS_TOKEN: 't' }],
    ['unparsable', {}, { MS_BASE_URL: 'https://user:s3cr3t-pw@[bad/api', MS_TOKEN: 't' }],
  ])('a base URL with credentials (%s) is refused without printing them', (_name, flags, env) => {
    let error: unknown;
    try {
      resolveConnection({ flags, env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    const text = `${(error as UsageError).message} ${(error as UsageError).hint ?? ''}`;
    expect(text).not.toContain('s3cr3t-pw');
  });

  it('a bad base URL is a usage error', () => {
    expect(() => resolveConnection({ flags: { baseUrl: 'not a url', token: 't' }, env: {} })).toThrow(UsageError);
  });

  it('isLoopbackAddress and maskSecret', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('[::1]')).toBe(true);
    expect(isLoopbackAddress('localhost')).toBe(false); // a name: it must be resolved first
    expect(isLoopbackAddress('127.0.0.1.evil.com')).toBe(false);
    expect(maskSecret('8c1f0a6e2d4b47e1a9f3c5d7b2e4f6a8c0d2e4f6')).toBe('8c1f…(40 chars)');
    expect(maskSecret('short')).toBe('…(5 chars)');
  });
});
