/**
 * `--period` and `--split` (issue 9): named and explicit periods turned into the API's
 * `momentFrom`/`momentTo`, and a period cut into day/week/month/quarter slices. Pure.
 *
 * Everything is computed on the Moscow wall clock (UTC+3, no DST), the API's clock for every
 * date-time it reads or writes (docs/api-facts.md §1.5), whatever the machine's time zone. A
 * wall-clock instant is held as "milliseconds since the epoch as if Moscow were UTC", so that
 * Date's UTC getters read the Moscow calendar directly.
 */
import { UsageError } from '../errors.js';

const MSK_OFFSET_MS = 3 * 3_600_000;
const DAY_MS = 86_400_000;

/** A period on the Moscow wall clock, both ends inclusive, whole seconds. */
export interface Period {
  /** Wall-clock ms of the first second. */
  from: number;
  /** Wall-clock ms of the last second (`23:59:59` of the last day, or "now"). */
  to: number;
}

export type SplitUnit = 'day' | 'week' | 'month' | 'quarter';
export const SPLIT_UNITS: readonly SplitUnit[] = ['day', 'week', 'month', 'quarter'];

export const NAMED_PERIODS = [
  'today',
  'yesterday',
  'this-week',
  'last-week',
  'this-month',
  'last-month',
  'this-quarter',
  'last-quarter',
  'this-year',
  'last-year',
  'last-7-days',
  'last-30-days',
] as const;

/** `2026-01-31 23:59:59`: the API's date-time form (docs/api-facts.md §1.5). */
export function formatMoment(wallMs: number): string {
  const d = new Date(wallMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** The API parameters of a period. */
export function periodParams(period: Period): { momentFrom: string; momentTo: string } {
  return { momentFrom: formatMoment(period.from), momentTo: formatMoment(period.to) };
}

/**
 * Parses `--period`: `2026-11`, `2026-11-05`, `2026-11-01..2026-11-30`, `2026-01..2026-03` or a
 * name from NAMED_PERIODS, relative to `nowUtcMs` (a real instant; the machine's zone is ignored).
 */
export function parsePeriod(text: string, nowUtcMs: number): Period {
  const input = text.trim().toLowerCase();
  const now = Math.floor((nowUtcMs + MSK_OFFSET_MS) / 1000) * 1000;
  const named = namedPeriod(input, now);
  if (named) return named;
  const range = /^(.+?)\.\.(.+)$/.exec(input);
  const first = parseCalendar(range ? (range[1] ?? '') : input);
  const last = range ? parseCalendar(range[2] ?? '') : first;
  if (!first || !last) {
    throw new UsageError(`--period "${text}" is not a period`, {
      hint: `use 2026-11, 2026-11-05, 2026-11-01..2026-11-30, or one of: ${NAMED_PERIODS.join(', ')}`,
    });
  }
  const period = { from: first.start, to: last.end };
  if (period.to < period.from) throw new UsageError(`--period "${text}" ends before it starts`);
  return period;
}

/** `YYYY-MM` or `YYYY-MM-DD` as its first and last second. */
function parseCalendar(text: string): { start: number; end: number } | undefined {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  if (month < 0 || month > 11) return undefined;
  if (m[3] === undefined) return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) - 1000 };
  const day = Number(m[3]);
  const start = Date.UTC(year, month, day);
  if (new Date(start).getUTCMonth() !== month || day < 1) return undefined; // 2026-02-30
  return { start, end: start + DAY_MS - 1000 };
}

function namedPeriod(name: string, now: number): Period | undefined {
  const today = startOfDay(now);
  const whole = (start: number, nextStart: number): Period => ({ from: start, to: nextStart - 1000 });
  switch (name) {
    case 'today':
      return { from: today, to: now };
    case 'yesterday':
      return whole(today - DAY_MS, today);
    case 'this-week':
      return { from: startOf('week', now), to: now };
    case 'last-week':
      return whole(startOf('week', startOf('week', now) - DAY_MS), startOf('week', now));
    case 'this-month':
      return { from: startOf('month', now), to: now };
    case 'last-month':
      return whole(startOf('month', startOf('month', now) - DAY_MS), startOf('month', now));
    case 'this-quarter':
      return { from: startOf('quarter', now), to: now };
    case 'last-quarter':
      return whole(startOf('quarter', startOf('quarter', now) - DAY_MS), startOf('quarter', now));
    case 'this-year':
      return { from: startOf('year', now), to: now };
    case 'last-year':
      return whole(startOf('year', startOf('year', now) - DAY_MS), startOf('year', now));
    // The whole days before today: today, still running, is not part of them.
    case 'last-7-days':
      return whole(today - 7 * DAY_MS, today);
    case 'last-30-days':
      return whole(today - 30 * DAY_MS, today);
    default:
      return undefined;
  }
}

function startOfDay(wallMs: number): number {
  return Math.floor(wallMs / DAY_MS) * DAY_MS;
}

/** The first second of the day/week (Monday)/month/quarter/year holding `wallMs`. */
function startOf(unit: SplitUnit | 'year', wallMs: number): number {
  const d = new Date(wallMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  switch (unit) {
    case 'day':
      return startOfDay(wallMs);
    case 'week':
      return startOfDay(wallMs) - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case 'month':
      return Date.UTC(year, month, 1);
    case 'quarter':
      return Date.UTC(year, month - (month % 3), 1);
    case 'year':
      return Date.UTC(year, 0, 1);
  }
}

function nextStart(unit: SplitUnit, wallMs: number): number {
  const start = startOf(unit, wallMs);
  const d = new Date(start);
  switch (unit) {
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1);
  }
}

/** The period cut at every day/week/month/quarter boundary, in order; the ends stay the period's. */
export function splitPeriod(period: Period, unit: SplitUnit): Period[] {
  const slices: Period[] = [];
  for (let from = period.from; from <= period.to; ) {
    const next = nextStart(unit, from);
    slices.push({ from, to: Math.min(period.to, next - 1000) });
    from = next;
  }
  return slices;
}

export function parseSplitUnit(text: string): SplitUnit {
  const unit = text.trim().toLowerCase();
  if ((SPLIT_UNITS as readonly string[]).includes(unit)) return unit as SplitUnit;
  throw new UsageError(`--split "${text}" is not one of ${SPLIT_UNITS.join(', ')}`);
}
