/** Shared option parsing: durations, -p key=value, formats. Pure; errors are UsageError (exit 2). */
import { InvalidArgumentError } from 'commander';

/** `90s`, `15m`, `2h`, `1h30m` or plain seconds → milliseconds. `0` means "no limit". */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
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
  return Math.round(total);
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
 * Commander parser for a task or webhook id: MoySklad ids are UUIDs, so anything else is a typo
 * (or a pasted URL) caught before any request, exit 2, instead of an API 404 (exit 8).
 */
export function taskId(text: string): string {
  const id = text.trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new InvalidArgumentError(`"${text}" is not a task id (a UUID like 5d2b7e40-1c9a-11f0-0a80-0b4c00000012)`);
  }
  return id;
}
