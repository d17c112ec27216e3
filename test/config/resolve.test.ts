import { describe, expect, it } from 'vitest';
import { DEFAULT_BASE_URL, isLoopback, maskSecret, resolveConnection } from '../../src/config/resolve.js';
import { AuthError, UsageError } from '../../src/errors.js';

const stored = {
  default: { baseUrl: 'https://stored.example/api/remap/1.2', token: 'stored-token' },
  other: { token: 'other-token' },
};

describe('resolveConnection precedence: flag > env > stored > default', () => {
  it.each([
    ['flag wins', { token: 'flag-token', baseUrl: 'https://flag.example/api' }, { MS_TOKEN: 'env-token', MS_BASE_URL: 'https://env.example/api' },
      { token: 'flag-token', baseUrl: 'https://flag.example/api', sources: { auth: 'flag', baseUrl: 'flag' } }],
    ['env over stored', {}, { MS_TOKEN: 'env-token', MS_BASE_URL: 'https://env.example/api' },
      { token: 'env-token', baseUrl: 'https://env.example/api', sources: { auth: 'env', baseUrl: 'env' } }],
    ['stored', {}, {}, { token: 'stored-token', baseUrl: 'https://stored.example/api/remap/1.2', sources: { auth: 'stored', baseUrl: 'stored' } }],
    ['profile flag picks another stored profile, default URL', { profile: 'other' }, { MS_PROFILE: 'default' },
      { token: 'other-token', baseUrl: DEFAULT_BASE_URL, sources: { auth: 'stored', baseUrl: 'default' } }],
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

  it.each([
    ['http://127.0.0.1:8080/api/remap/1.2', true],
    ['http://localhost:1/api', true],
    ['http://[::1]:9/api', true],
    ['http://127.5.6.7/api', true],
    ['https://api.moysklad.ru/api/remap/1.2', true],
    ['http://api.moysklad.ru/api/remap/1.2', false],
    ['http://10.0.0.1/api', false],
  ])('credentials over %s allowed: %s', (baseUrl, ok) => {
    const attempt = () => resolveConnection({ flags: { baseUrl, token: 't' }, env: {} });
    if (ok) expect(attempt).not.toThrow();
    else expect(attempt).toThrow(UsageError);
  });

  it('a bad base URL is a usage error', () => {
    expect(() => resolveConnection({ flags: { baseUrl: 'not a url', token: 't' }, env: {} })).toThrow(UsageError);
  });

  it('isLoopback and maskSecret', () => {
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('127.0.0.1.evil.com')).toBe(false);
    expect(maskSecret('8c1f0a6e2d4b47e1a9f3c5d7b2e4f6a8c0d2e4f6')).toBe('8c1f…(40 chars)');
    expect(maskSecret('short')).toBe('…(5 chars)');
  });
});
