import { describe, expect, it } from 'vitest';
import { sandboxRequest, startTestSandbox } from '../helpers/start-sandbox.js';

describe('limits (§3)', () => {
  it('answers 429 with code 1073 beyond 5 requests in flight per user; headers do not reflect it', async () => {
    const sandbox = await startTestSandbox({ faults: { slowApiMs: 250 } as never });
    try {
      const results = await Promise.all(Array.from({ length: 7 }, () => sandboxRequest(sandbox, '/context/employee')));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = results.find((r) => r.status === 429);
      expect(limited?.json).toMatchObject({ errors: [{ code: 1073 }] });
      expect(limited?.headers['x-lognex-retry-after']).toBeUndefined();
      expect(limited?.headers['x-ratelimit-limit']).toBe('45');
      expect(sandbox.maxInFlight).toBeGreaterThanOrEqual(6);
      // The limit is per user: another token has its own five.
      const mixed = await Promise.all([
        ...Array.from({ length: 5 }, () => sandboxRequest(sandbox, '/context/employee')),
        sandboxRequest(sandbox, '/context/employee', { headers: { Authorization: 'Bearer someone-else' } }),
      ]);
      expect(mixed.every((r) => r.status === 200)).toBe(true);
    } finally {
      await sandbox.close();
    }
  });

  it('charges weights (stock reports 5) and answers 429/1049 with X-Lognex-Retry-After when the bucket is dry', async () => {
    const sandbox = await startTestSandbox({ queueLimit: 100, rateLimit: { units: 10, windowMs: 1000, weights: {} } });
    try {
      const first = await sandboxRequest(sandbox, '/context/employee');
      expect(first.headers['x-ratelimit-limit']).toBe('10');
      expect(first.headers['x-ratelimit-remaining']).toBe('9');
      expect(first.headers['x-lognex-retry-timeinterval']).toBe('1000');
      expect(Number(first.headers['x-lognex-reset'])).toBeGreaterThan(0);
      const stock = await sandboxRequest(sandbox, '/report/stock/all?async=true');
      expect(stock.status).toBe(202);
      expect(Number(stock.headers['x-ratelimit-remaining'])).toBe(4);
      await sandboxRequest(sandbox, '/report/stock/bystore?async=true');
      const dry = await sandboxRequest(sandbox, '/report/stock/bystore?async=true', {
        headers: { 'Accept-Language': 'en' },
      });
      expect(dry.status).toBe(429);
      expect(dry.headers['content-type']).toBe('application/json;charset=utf-8');
      expect(dry.json).toEqual({
        errors: [
          {
            error: 'Limit on the number of requests per unit of time exceeded',
            code: 1049,
            moreInfo: expect.any(String),
          },
        ],
      });
      const retryAfter = Number(dry.headers['x-lognex-retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(1000);
      expect(dry.headers['x-lognex-reset']).toBe(String(retryAfter));
      expect(Number(dry.headers['x-ratelimit-remaining'])).toBeLessThan(5); // units left, fewer than a stock request costs
      await new Promise((r) => setTimeout(r, retryAfter + 20));
      expect((await sandboxRequest(sandbox, '/report/stock/bystore?async=true')).status).toBe(202);
    } finally {
      await sandbox.close();
    }
  });

  it('makes weights configurable (e.g. 2 per request for user tokens, §3.2)', async () => {
    const sandbox = await startTestSandbox({ rateLimit: { units: 45, windowMs: 3000, weights: { default: 2 } } });
    try {
      const r = await sandboxRequest(sandbox, '/context/employee');
      expect(r.headers['x-ratelimit-remaining']).toBe('43');
    } finally {
      await sandbox.close();
    }
  });
});
