/**
 * Parsers for flags and arguments shared by several commands: durations, timeouts, -p key=value,
 * task ids, whole numbers. Pure. They throw commander's InvalidArgumentError, which commander
 * prints as a usage error and src/main.ts turns into exit 2.
 */
import { InvalidArgumentError } from 'commander';

/** `90s`, `15m`, `2h`, `1h30m` or plain seconds → milliseconds. `0` means "no limit". */
export function parseDuration(text: string): number {
  return Math.round(durationExact(text));
}

/**
 * `--timeout`: a duration, `0` for no limit. A non-zero value under a second is refused rather than
 * rounded: rounding down made `0.0001` mean "no limit", and rounding up would end every wait before
 * the first status read (about a second in), which no one asking for a timeout wants.
 */
export function parseTimeout(text: string): number {
  const ms = durationExact(text);
  if (ms !== 0 && ms < 1000) {
    throw new InvalidArgumentError(`"${text}" is under a second: give at least 1s, or 0 for no limit`);
  }
  return Math.round(ms);
}

/**
 * A task id argument: refused when empty (it would address the task list, not a task), and when
 * not a UUID (MoySklad's ids are): a typo or a pasted URL is exit 2 before any request, not a 404.
 */
export function parseTaskId(text: string): string {
  const id = text.trim();
  if (id === '') {
    throw new InvalidArgumentError('a task id is required (printed by `ms-async start`, listed by `ms-async list`)');
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new InvalidArgumentError(`"${text}" is not a task id (a UUID like 5d2b7e40-1c9a-11f0-0a80-0b4c00000012)`);
  }
  return id;
}

/** Milliseconds, not rounded: parseTimeout must tell `0.0001` from `0`. */
function durationExact(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(trimmed); match; match = re.exec(trimmed)) {
    const value = Number(match[1]);
    const unit = match[2];
    total += value * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new InvalidArgumentError(`"${text}" is not a duration (try 90s, 15m, 2h, or seconds)`);
  }
  return total;
}

/** Commander collector for repeatable `-p key=value`. */
export function collectParam(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not key=value`);
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}

/** Commander collector for repeatable plain values. */
export function collectValue(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export const DEFAULT_TIMEOUT = '30m';

/** Commander parser for a whole number ≥ 0. */
export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`"${text}" is not a whole number`);
  return Number(text);
}

/**
 * Rows of a generated sandbox result: 5 million stock-by-store rows are already ~6 GB on disk;
 * more once filled TMPDIR with 55 GB (issue 14 item 4).
 */
export const MAX_SANDBOX_ROWS = 5_000_000;

export function sandboxRows(text: string): number {
  const rows = wholeNumber(text);
  if (rows > MAX_SANDBOX_ROWS) {
    throw new InvalidArgumentError(`"${text}" is more than the sandbox generates (at most ${MAX_SANDBOX_ROWS})`);
  }
  return rows;
}
