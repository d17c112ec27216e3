import { describe, expect, it } from 'vitest';
import { formatMoment, parsePeriod, periodParams, splitPeriod, type Period } from '../../src/reports/period.js';

// Wednesday 2026-11-18 01:30:15 in Moscow = Tuesday 2026-11-17 22:30:15 UTC: the UTC date differs.
const NOW = Date.UTC(2026, 10, 17, 22, 30, 15, 400);

function text(period: Period): string {
  const { momentFrom, momentTo } = periodParams(period);
  return `${momentFrom}..${momentTo}`;
}

describe('parsePeriod', () => {
  it.each([
    ['2026-11', '2026-11-01 00:00:00..2026-11-30 23:59:59'],
    ['2026-02-05', '2026-02-05 00:00:00..2026-02-05 23:59:59'],
    ['2026-11-01..2026-11-30', '2026-11-01 00:00:00..2026-11-30 23:59:59'],
    ['2026-01..2026-03', '2026-01-01 00:00:00..2026-03-31 23:59:59'],
    ['2024-02', '2024-02-01 00:00:00..2024-02-29 23:59:59'],
    // Named periods count on the Moscow calendar: "today" is the 18th although UTC says the 17th.
    ['today', '2026-11-18 00:00:00..2026-11-18 01:30:15'],
    ['yesterday', '2026-11-17 00:00:00..2026-11-17 23:59:59'],
    ['this-week', '2026-11-16 00:00:00..2026-11-18 01:30:15'],
    ['last-week', '2026-11-09 00:00:00..2026-11-15 23:59:59'],
    ['this-month', '2026-11-01 00:00:00..2026-11-18 01:30:15'],
    ['last-month', '2026-10-01 00:00:00..2026-10-31 23:59:59'],
    ['this-quarter', '2026-10-01 00:00:00..2026-11-18 01:30:15'],
    ['last-quarter', '2026-07-01 00:00:00..2026-09-30 23:59:59'],
    ['this-year', '2026-01-01 00:00:00..2026-11-18 01:30:15'],
    ['last-year', '2025-01-01 00:00:00..2025-12-31 23:59:59'],
    ['last-7-days', '2026-11-11 00:00:00..2026-11-17 23:59:59'],
    ['last-30-days', '2026-10-19 00:00:00..2026-11-17 23:59:59'],
  ])('%s → %s', (input, expected) => {
    expect(text(parsePeriod(input, NOW))).toBe(expected);
  });

  it("a Monday is the first day of its own week; January's last-month is December", () => {
    const monday = Date.UTC(2026, 0, 5, 9); // 12:00 MSK on Monday 2026-01-05
    expect(text(parsePeriod('last-week', monday))).toBe('2025-12-29 00:00:00..2026-01-04 23:59:59');
    expect(text(parsePeriod('last-month', monday))).toBe('2025-12-01 00:00:00..2025-12-31 23:59:59');
    expect(text(parsePeriod('last-quarter', monday))).toBe('2025-10-01 00:00:00..2025-12-31 23:59:59');
  });

  it.each(['2026-13', '2026-02-30', 'lastmonth', '2026-11-30..2026-11-01', '', '11.2026'])(
    'refuses %j (exit 2)',
    (input) => {
      expect(() => parsePeriod(input, NOW)).toThrow(expect.objectContaining({ exitCode: 2 }));
    },
  );
});

describe('splitPeriod', () => {
  it('a year into 12 months, each whole, in order', () => {
    const months = splitPeriod(parsePeriod('2026-01..2026-12', NOW), 'month').map(text);
    expect(months).toHaveLength(12);
    expect(months[0]).toBe('2026-01-01 00:00:00..2026-01-31 23:59:59');
    expect(months[1]).toBe('2026-02-01 00:00:00..2026-02-28 23:59:59');
    expect(months[11]).toBe('2026-12-01 00:00:00..2026-12-31 23:59:59');
  });

  it('weeks start on Monday; the first and last slices are clipped to the period', () => {
    const weeks = splitPeriod(parsePeriod('2026-11', NOW), 'week').map(text);
    expect(weeks).toEqual([
      '2026-11-01 00:00:00..2026-11-01 23:59:59', // Sunday
      '2026-11-02 00:00:00..2026-11-08 23:59:59',
      '2026-11-09 00:00:00..2026-11-15 23:59:59',
      '2026-11-16 00:00:00..2026-11-22 23:59:59',
      '2026-11-23 00:00:00..2026-11-29 23:59:59',
      '2026-11-30 00:00:00..2026-11-30 23:59:59',
    ]);
  });

  it('this-month by day ends "now"; quarters of a year; slices cover the period without gaps', () => {
    const days = splitPeriod(parsePeriod('this-month', NOW), 'day');
    expect(days).toHaveLength(18);
    expect(text(days[17] as Period)).toBe('2026-11-18 00:00:00..2026-11-18 01:30:15');
    const year = parsePeriod('2026-02-10..2026-12-31', NOW);
    const quarters = splitPeriod(year, 'quarter');
    expect(quarters.map(text)).toEqual([
      '2026-02-10 00:00:00..2026-03-31 23:59:59',
      '2026-04-01 00:00:00..2026-06-30 23:59:59',
      '2026-07-01 00:00:00..2026-09-30 23:59:59',
      '2026-10-01 00:00:00..2026-12-31 23:59:59',
    ]);
    for (let i = 1; i < quarters.length; i += 1) expect(quarters[i]?.from).toBe((quarters[i - 1]?.to ?? 0) + 1000);
  });

  it('formatMoment writes the API form', () => {
    expect(formatMoment(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe('2026-01-31 23:59:59');
  });
});
