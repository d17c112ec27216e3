import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  pacingDelayMs,
  rateLimitWaitMs,
} from '../../src/api/retry.js';
import { createdTaskFrom, taskIdFromUrl, userAgent, withAsyncParam } from '../../src/api/client.js';
import { errorFromResponse, parseApiErrors } from '../../src/api/parse.js';
import { ApiError, AuthError, NetworkError, ResultGoneError, TaskFailedError } from '../../src/errors.js';

describe('backoffDelay (full jitter)', () => {
  const opts = (r: number) => ({ baseMs: 500, capMs: 10_000, random: () => r });
  it('grows exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts(0.999999)))).toEqual([
      499, 999, 1999, 3999, 7999, 9999, 9999,
    ]);
  });
  it('is uniform in [0, ceiling)', () => {
    expect(backoffDelay(3, opts(0))).toBe(0);
    expect(backoffDelay(3, opts(0.5))).toBe(2000);
  });
});

describe('what may be retried', () => {
  it.each([
    ['ECONNRESET', 'idempotent', false, true],
    ['ECONNRESET', 'create', false, false],
    ['ECONNREFUSED', 'create', false, true],
    ['ETIMEDOUT', 'create', true, true],
    ['ETIMEDOUT', 'create', false, false],
    [undefined, 'idempotent', false, false],
  ] as const)('network %s on %s (connect phase %s) → %s', (code, kind, phase, expected) => {
    expect(isRetryableNetworkError(code, kind, phase)).toBe(expected);
  });
  it.each([
    [503, 'idempotent', false, true],
    [500, 'idempotent', false, true],
    [503, 'create', false, true],
    [500, 'create', true, true],
    [500, 'create', false, false],
    [504, 'create', true, false],
    [404, 'idempotent', true, false],
  ] as const)('HTTP %s on %s (API body %s) → %s', (status, kind, body, expected) => {
    expect(isRetryableStatus(status, kind, body)).toBe(expected);
  });
});

describe('rate-limit headers', () => {
  it('429 waits X-Lognex-Retry-After, else X-Lognex-Reset', () => {
    expect(rateLimitWaitMs({ 'x-lognex-retry-after': '1200', 'x-lognex-reset': '9' })).toBe(1200);
    expect(rateLimitWaitMs({ 'x-lognex-reset': '800' })).toBe(800);
    expect(rateLimitWaitMs({})).toBeUndefined();
  });
  it('paces when X-RateLimit-Remaining is low', () => {
    expect(pacingDelayMs({ 'x-ratelimit-remaining': '30', 'x-lognex-reset': '3000' }, 2)).toBe(0);
    expect(pacingDelayMs({ 'x-ratelimit-remaining': '2', 'x-lognex-reset': '3000' }, 2)).toBe(1000);
    expect(pacingDelayMs({ 'x-ratelimit-remaining': '0', 'x-lognex-retry-timeinterval': '3000' }, 2)).toBe(3000);
  });
});

describe('task URLs', () => {
  const base = 'https://api.moysklad.ru/api/remap/1.2';
  it('taskIdFromUrl', () => {
    expect(taskIdFromUrl(`${base}/async/5d2b7e40-1c9a-11f0-0a80-0b4c00000012`)).toBe(
      '5d2b7e40-1c9a-11f0-0a80-0b4c00000012',
    );
    expect(taskIdFromUrl(`${base}/async/abc/result`)).toBe('abc');
    expect(taskIdFromUrl(`${base}/report/stock/all`)).toBeUndefined();
  });
  it('tells Location and Content-Location apart by /result, whichever way round', () => {
    const current = createdTaskFrom(
      { location: `${base}/async/t1/result`, 'content-location': `${base}/async/t1` },
      `${base}/x`,
    );
    const swapped = createdTaskFrom(
      { location: `${base}/async/t1`, 'content-location': `${base}/async/t1/result` },
      `${base}/x`,
    );
    expect(current).toEqual(swapped);
    expect(current).toMatchObject({ id: 't1', statusUrl: `${base}/async/t1`, resultUrl: `${base}/async/t1/result` });
    expect(createdTaskFrom({ location: `${base}/async/t2/result` }, `${base}/x`).statusUrl).toBe(`${base}/async/t2`);
    expect(() => createdTaskFrom({}, `${base}/x`)).toThrow(NetworkError);
  });
  it('withAsyncParam', () => {
    expect(withAsyncParam('/report/stock/all')).toBe('/report/stock/all?async=true');
    expect(withAsyncParam('/report/stock/all?a=1')).toBe('/report/stock/all?a=1&async=true');
    expect(withAsyncParam('/report/stock/all?async=true')).toBe('/report/stock/all?async=true');
  });
  it('userAgent names ms-async, its version and node', () => {
    expect(userAgent()).toMatch(/^ms-async\/\d+\.\d+\.\d+ \(\+node v\d+/);
  });
});

describe('errorFromResponse', () => {
  const ctx = { method: 'GET', url: 'https://h/api/remap/1.2/async/t1', taskId: 't1' };
  const body = (code: number, error = 'x') => JSON.stringify({ errors: [{ error, code, moreInfo: 'https://doc' }] });
  it.each([
    [401, body(1056), AuthError, 3],
    [403, body(1016), AuthError, 3],
    [400, body(30004), AuthError, 3],
    [410, body(61003), ResultGoneError, 8],
    [404, body(1021), ResultGoneError, 8],
    [400, body(61004), TaskFailedError, 5],
    [400, body(61005), TaskFailedError, 5],
    [400, body(61007), ApiError, 4],
    [503, body(1074), NetworkError, 7],
    [415, '', ApiError, 4],
  ] as const)('%s %s → %s', (status, text, cls, exit) => {
    const error = errorFromResponse(status, text, ctx);
    expect(error).toBeInstanceOf(cls);
    expect(error.exitCode).toBe(exit);
    expect(error.httpStatus).toBe(status);
    expect(error.request).toEqual({ method: 'GET', url: ctx.url });
  });
  it('keeps code, error, moreInfo and parameter of errors[]', () => {
    expect(parseApiErrors('{"errors":[{"error":"e","code":1,"parameter":"p","moreInfo":"m","line":3}]}')).toEqual([
      { error: 'e', code: 1, parameter: 'p', moreInfo: 'm' },
    ]);
    expect(parseApiErrors('<html>')).toEqual([]);
  });
  it('415 with an empty body still says what is wrong', () => {
    expect(errorFromResponse(415, '', ctx).message).toMatch(/415.*gzip/);
  });
});
