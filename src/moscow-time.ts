/**
 * MoySklad's date-times: Moscow wall-clock time (UTC+3, no daylight saving) with no zone —
 * `2026-03-05 15:12:44.508`, without milliseconds or seconds, or a bare date (docs/api-facts.md §1.5).
 * The one parser for the client (deletionDate in list, status, --reuse) and the sandbox.
 */
export const MSK_OFFSET_MS = 3 * 3_600_000;

const MOSCOW_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/**
 * The wall-clock reading counted as if it were UTC, in ms; undefined for anything else (a number
 * included: a server may send one where a string is documented).
 */
export function parseMoscowWallClock(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = MOSCOW_DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', ms = '0'] = m;
  const value = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(ms.padEnd(3, '0')),
  );
  return Number.isNaN(value) ? undefined : value;
}

/** The instant (epoch ms) a Moscow date-time names, or undefined. */
export function parseMoscowTime(text: unknown): number | undefined {
  const wall = parseMoscowWallClock(text);
  return wall === undefined ? undefined : wall - MSK_OFFSET_MS;
}
