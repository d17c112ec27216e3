/**
 * The sandbox's period-dependent data and queue bookkeeping (issue 9): what a split export and a
 * batch are checked against.
 */
import { describe, expect, it } from 'vitest';
import { generateRecords } from '../../src/sandbox/generate.js';
import { sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';

const BASE = 'http://127.0.0.1:9/api/remap/1.2';
const PATH = '/report/profit/byproduct';

function recordsOf(from: string, to: string, report = 'profit-byproduct', path = PATH, seed = 3): unknown[] {
  const requestUrl = `${BASE}${path}?momentFrom=${encodeURIComponent(from)}&momentTo=${encodeURIComponent(to)}&async=true`;
  return [...generateRecords(report, { rows: 50, seed, requestUrl })];
}

describe('period reports in the sandbox', () => {
  it('a period holds exactly the records of its months, in order; --rows no longer matters', () => {
    const year = recordsOf('2026-01-01 00:00:00', '2026-12-31 23:59:59');
    const months = Array.from({ length: 12 }, (_, m) => {
      const last = new Date(Date.UTC(2026, m + 1, 0)).getUTCDate();
      const mm = String(m + 1).padStart(2, '0');
      return recordsOf(`2026-${mm}-01 00:00:00`, `2026-${mm}-${last} 23:59:59`);
    });
    expect(year.length).toBeGreaterThan(365); // 0–3 a day, 1.5 on average
    expect(year.length).toBeLessThan(3 * 365);
    expect(months.flat()).toEqual(year);
    // Different periods give different data; the same period the same data.
    expect(months[0]).not.toEqual(months[1]);
    expect(recordsOf('2026-03-01 00:00:00', '2026-03-31 23:59:59')).toEqual(months[2]);
  });

  it('each profit report has its own per-day data; without both bounds, --rows records as before', () => {
    const a = recordsOf('2026-05-01 00:00:00', '2026-05-31 23:59:59');
    const b = recordsOf('2026-05-01 00:00:00', '2026-05-31 23:59:59', 'profit-byemployee', '/report/profit/byemployee');
    expect(a.length).not.toBe(0);
    expect(b).not.toEqual(a);
    const open = [
      ...generateRecords('profit-byproduct', {
        rows: 17,
        seed: 3,
        requestUrl: `${BASE}${PATH}?momentFrom=2026-05-01&async=true`,
      }),
    ];
    expect(open).toHaveLength(17);
  });

  it("the result file's meta.size counts the period's records", async () => {
    const sandbox = await startTestSandbox();
    try {
      const created = await sandboxRequest(
        sandbox,
        `${PATH}?momentFrom=2026-02-01%2000:00:00&momentTo=2026-02-28%2023:59:59&async=true`,
      );
      const statusUrl = created.headers['content-location'] as string;
      await waitForTask(sandbox, statusUrl);
      const link = await sandboxRequest(sandbox, `${statusUrl}/result`);
      const { rawRequest } = await import('../helpers/start-sandbox.js');
      const body = (await rawRequest(link.headers.location as string)).json as {
        meta: { size: number };
        rows: unknown[];
      };
      expect(body.rows.length).toBe(body.meta.size);
      expect(body.rows.length).toBe(
        recordsOf('2026-02-01 00:00:00', '2026-02-28 23:59:59', 'profit-byproduct', PATH, sandbox.options.seed).length,
      );
    } finally {
      await sandbox.close();
    }
  });
});

describe('queue bookkeeping', () => {
  it('records the most tasks queued at once, per account and per token, and requests in flight per token', async () => {
    const sandbox = await startTestSandbox({ queueLimit: 10 });
    try {
      const mine = { Authorization: 'Bearer mine' };
      const theirs = { Authorization: 'Bearer theirs', 'X-Sandbox-Processing-Ms': '400' };
      await Promise.all([
        sandboxRequest(sandbox, '/report/stock/all?async=true', { headers: theirs }),
        sandboxRequest(sandbox, '/report/stock/all?async=true', { headers: theirs }),
        sandboxRequest(sandbox, '/entity/counterparty?async=true', { headers: mine }),
      ]);
      expect(sandbox.maxQueued()).toBe(3);
      expect(sandbox.maxQueued('theirs')).toBe(2);
      expect(sandbox.maxQueued('mine')).toBe(1);
      expect(sandbox.maxInFlightOf('mine')).toBe(1);
      expect(sandbox.maxInFlightOf('nobody')).toBe(0);
    } finally {
      await sandbox.close();
    }
  });
});
