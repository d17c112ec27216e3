import { describe, expect, it } from 'vitest';
import { pickReusableTask, requestKey } from '../../src/core/reuse.js';
import { parseMoscowTime } from '../../src/moscow-time.js';

const BASE = 'https://api.moysklad.ru/api/remap/1.2';

describe('requestKey', () => {
  it('ignores async=true, parameter order and the API root', () => {
    expect(requestKey(`${BASE}/report/stock/bystore?groupBy=product&filter=stockMode%3Dall&async=true`)).toBe(
      requestKey('/report/stock/bystore?filter=stockMode=all&groupBy=product'),
    );
  });
  it('tells different reports and parameters apart', () => {
    expect(requestKey(`${BASE}/report/stock/all?async=true`)).not.toBe(requestKey('/report/stock/bystore'));
    expect(requestKey('/report/stock/all?groupBy=product')).not.toBe(requestKey('/report/stock/all?groupBy=variant'));
  });
});

describe('parseMoscowTime', () => {
  it('reads both forms as UTC+3', () => {
    expect(parseMoscowTime('2026-03-05 15:12:44.508')).toBe(Date.UTC(2026, 2, 5, 12, 12, 44, 508));
    expect(parseMoscowTime('2021-02-16 16:21:09')).toBe(Date.UTC(2021, 1, 16, 13, 21, 9));
    expect(parseMoscowTime('yesterday')).toBeUndefined();
  });
  it('reads the shorter forms the docs allow, and refuses what is not a string', () => {
    expect(parseMoscowTime('2026-03-05 15:12')).toBe(Date.UTC(2026, 2, 5, 12, 12));
    expect(parseMoscowTime('2026-03-05')).toBe(Date.UTC(2026, 2, 4, 21, 0));
    // A server that sends a number where a string is documented must not crash list or --reuse.
    expect(parseMoscowTime(1772712764508)).toBeUndefined();
    expect(parseMoscowTime(undefined)).toBeUndefined();
  });
});

describe('pickReusableTask', () => {
  const now = Date.UTC(2026, 2, 5, 12, 0, 0); // 15:00 MSK
  const request = '/report/stock/bystore';
  const url = `${BASE}/report/stock/bystore?async=true`;
  it('follows a running task before any finished one', () => {
    const tasks = [
      { id: 'done', state: 'DONE', request: url, deletionDate: '2026-03-05 15:50:00.000' },
      { id: 'running', state: 'PROCESSING', request: url },
    ];
    expect(pickReusableTask(tasks, request, now)?.id).toBe('running');
  });
  it('takes the DONE task that lives longest, but not one about to expire', () => {
    const tasks = [
      { id: 'soon', state: 'DONE', request: url, deletionDate: '2026-03-05 15:03:00.000' },
      { id: 'later', state: 'DONE', request: url, deletionDate: '2026-03-05 15:40:00' },
      {
        id: 'other',
        state: 'DONE',
        request: `${BASE}/report/stock/all?async=true`,
        deletionDate: '2026-03-05 15:59:00',
      },
      { id: 'failed', state: 'ERROR', request: url },
    ];
    expect(pickReusableTask(tasks, request, now)?.id).toBe('later');
    expect(pickReusableTask(tasks.slice(0, 1), request, now)).toBeUndefined();
  });
});
