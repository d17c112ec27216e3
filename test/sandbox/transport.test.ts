import { describe, expect, it } from 'vitest';
import { rawRequest, sandboxRequest, startTestSandbox, useSandbox } from '../helpers/start-sandbox.js';

const sandbox = useSandbox();
const basic = (login: string, password: string): string =>
  `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

describe('transport (§1)', () => {
  it('answers 415 with an empty body when Accept-Encoding lacks gzip', async () => {
    const variants: Array<Record<string, string>> = [
      { Authorization: 'Bearer t' },
      { Authorization: 'Bearer t', 'Accept-Encoding': 'deflate, br' },
      { Authorization: 'Bearer t', 'Accept-Encoding': 'gzip;q=0' },
    ];
    for (const headers of variants) {
      const r = await rawRequest(`${sandbox().baseUrl}/context/employee`, { headers });
      expect(r.status).toBe(415);
      expect(r.raw.length).toBe(0);
      expect(r.headers['content-length']).toBe('0');
    }
    const ok = await sandboxRequest(sandbox(), '/context/employee', {
      headers: { 'Accept-Encoding': 'gzip, deflate, br' },
    });
    expect(ok.status).toBe(200);
  });

  it('answers gzip-encoded JSON with the rate-limit headers', async () => {
    const r = await sandboxRequest(sandbox(), '/context/employee');
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toBe('application/json;charset=utf-8');
    expect(r.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(r.json).toMatchObject({ meta: { type: 'employee' }, name: 'Администратор' });
    expect(r.headers['x-ratelimit-limit']).toBe('45');
    expect(Number(r.headers['x-ratelimit-remaining'])).toBeLessThanOrEqual(44);
    expect(r.headers['x-lognex-retry-timeinterval']).toBe('3000');
    expect(r.headers['x-lognex-reset']).toMatch(/^\d+$/);
  });

  it('answers 401 with code 1056 and X-Lognex-Auth headers, Russian by default and English on request', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Token abc', basic('', 'x'), basic('user', '')]) {
      const headers: Record<string, string> = { 'Accept-Encoding': 'gzip' };
      if (authorization !== undefined) headers.Authorization = authorization;
      const r = await rawRequest(`${sandbox().baseUrl}/context/employee`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toBe('application/json;charset=utf-8');
      expect(r.headers['x-lognex-auth']).toBe('1056');
      expect(r.headers['x-lognex-auth-message']).toMatch(/^Authentication error/);
      const body = r.json as { errors: Array<{ error: string; code: number; moreInfo: string }> };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]).toMatchObject({
        code: 1056,
        error: expect.stringMatching(/^Ошибка аутентификации: /),
        moreInfo: expect.stringContaining('1056'),
      });
    }
    const en = await rawRequest(`${sandbox().baseUrl}/context/employee`, {
      headers: { 'Accept-Encoding': 'gzip', 'Accept-Language': 'en-US,en;q=0.9,ru;q=0.5' },
    });
    expect(en.json).toMatchObject({
      errors: [{ code: 1056, error: expect.stringMatching(/^Authentication error: /) }],
    });
  });

  it('accepts Basic login:password and issues tokens with POST /security/token', async () => {
    const r = await sandboxRequest(sandbox(), '/context/employee', {
      headers: { Authorization: basic('admin@shop', 'secret') },
    });
    expect(r.status).toBe(200);
    const t1 = await sandboxRequest(sandbox(), '/security/token', {
      method: 'POST',
      headers: { Authorization: basic('admin@shop', 'secret') },
    });
    expect(t1.status).toBe(200);
    expect(t1.json).toEqual({ access_token: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const token1 = (t1.json as { access_token: string }).access_token;
    expect(
      (await sandboxRequest(sandbox(), '/context/employee', { headers: { Authorization: `Bearer ${token1}` } })).status,
    ).toBe(200);
    // A new token revokes the earlier one (§1.2).
    const t2 = await sandboxRequest(sandbox(), '/security/token', {
      method: 'POST',
      headers: { Authorization: basic('admin@shop', 'secret') },
    });
    const token2 = (t2.json as { access_token: string }).access_token;
    expect(
      (await sandboxRequest(sandbox(), '/context/employee', { headers: { Authorization: `Bearer ${token1}` } })).status,
    ).toBe(401);
    expect(
      (await sandboxRequest(sandbox(), '/context/employee', { headers: { Authorization: `Bearer ${token2}` } })).status,
    ).toBe(200);
    // Only Basic may ask for a token.
    const bearer = await sandboxRequest(sandbox(), '/security/token', { method: 'POST' });
    expect(bearer.status).toBe(401);
    expect(bearer.json).toMatchObject({ errors: [{ code: 1056 }] });
  });

  it('with a fixed token, accepts only it, issued tokens and the fixed Basic credentials', async () => {
    const fixed = await startTestSandbox({ token: 'the-token', login: 'me', password: 'pw' });
    try {
      const get = (authorization: string): Promise<number> =>
        rawRequest(`${fixed.baseUrl}/context/employee`, {
          headers: { Authorization: authorization, 'Accept-Encoding': 'gzip' },
        }).then((r) => r.status);
      expect(await get('Bearer the-token')).toBe(200);
      expect(await get('Bearer other')).toBe(401);
      expect(await get(basic('me', 'pw'))).toBe(200);
      expect(await get(basic('me', 'wrong'))).toBe(401);
      expect(await get(basic('you', 'pw'))).toBe(401);
      const issued = await rawRequest(`${fixed.baseUrl}/security/token`, {
        method: 'POST',
        headers: { Authorization: basic('me', 'pw'), 'Accept-Encoding': 'gzip' },
      });
      expect(await get(`Bearer ${(issued.json as { access_token: string }).access_token}`)).toBe(200);
    } finally {
      await fixed.close();
    }
  });

  it('refuses a non-JSON Accept with 1062, unknown paths with 1002, and bad ids with 1052/1021', async () => {
    const accept = await sandboxRequest(sandbox(), '/context/employee', { headers: { Accept: 'text/html' } });
    expect(accept.status).toBe(400);
    expect(accept.json).toMatchObject({ errors: [{ code: 1062 }] });
    expect(
      (await sandboxRequest(sandbox(), '/context/employee', { headers: { Accept: 'application/json;charset=utf-8' } }))
        .status,
    ).toBe(200);
    const unknown = await sandboxRequest(sandbox(), '/entity/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ errors: [{ code: 1002 }] });
    const badId = await sandboxRequest(sandbox(), '/async/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.json).toMatchObject({ errors: [{ code: 1052 }] });
    const missing = await sandboxRequest(sandbox(), '/async/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      errors: [{ code: 1021, error: expect.stringContaining('00000000-0000-4000-8000-000000000000') }],
    });
  });

  it('honours Lognex-Pretty-Print-JSON', async () => {
    const r = await sandboxRequest(sandbox(), '/context/employee', { headers: { 'Lognex-Pretty-Print-JSON': 'true' } });
    expect(r.text).toBe(JSON.stringify(r.json, null, 2));
  });

  it('answers synchronous report calls with a first page (limit/offset, nextHref)', async () => {
    const r = await sandboxRequest(sandbox(), '/entity/counterparty?limit=20&offset=10');
    expect(r.status).toBe(200);
    const body = r.json as { meta: Record<string, unknown>; rows: unknown[] };
    expect(body.meta).toMatchObject({
      type: 'counterparty',
      size: 50,
      limit: 20,
      offset: 10,
      nextHref: expect.stringContaining('offset=30'),
      previousHref: expect.stringContaining('offset=0'),
    });
    expect(body.rows).toHaveLength(20);
    const plot = await sandboxRequest(
      sandbox(),
      '/report/sales/plotseries?momentFrom=2026-03-01&momentTo=2026-03-03&interval=day',
    );
    expect(plot.json).toMatchObject({
      meta: { type: 'salesplotseries' },
      series: [{ date: '2026-03-01 00:00:00' }, {}, {}],
    });
    const missing = await sandboxRequest(sandbox(), '/report/sales/plotseries?momentFrom=2026-03-01&interval=day', {
      headers: { 'Accept-Language': 'en' },
    });
    expect(missing.status).toBe(412);
    expect(missing.json).toMatchObject({
      errors: [{ code: 39000, error: 'Error: required parameter for the indicators request is missing: momentTo' }],
    });
  });
});
