/** Pure renderers: tables, durations, task details. No I/O; colour only when asked. */
import { Chalk } from 'chalk';
import type { AsyncTask, Webhook } from '../api/types.js';
import { parseMoscowTime } from '../moscow-time.js';
import type { ReportSpec } from '../reports/catalog.js';
import { pathBelowApiRoot } from '../reports/request.js';

/** `850ms`, `12s`, `4m 05s`, `1h 07m`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** A coarse duration for tables: `47m`, `2h 05m`, `30s`. */
export function formatShortDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.floor(ms / 1000))}s`;
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** "in 47m", "expired", or "-" when the task has no deletionDate (not DONE). */
export function formatDeletion(deletionDate: string | undefined, now: number): string {
  if (!deletionDate) return '-';
  const at = parseMoscowTime(deletionDate);
  if (at === undefined) return deletionDate;
  return at <= now ? 'expired' : `in ${formatShortDuration(at - now)}`;
}

/**
 * The request of a task, readable: the API root and `async=true` dropped, values decoded, long
 * values cut: `/report/stock/bystore?filter=stockMode=all`.
 */
export function shortenRequest(request: string, maxLength = 72): string {
  let url: URL;
  try {
    url = new URL(request, 'http://relative.invalid');
  } catch {
    return cut(request, maxLength);
  }
  const path = pathBelowApiRoot(url.pathname);
  const params = [...url.searchParams.entries()]
    .filter(([key]) => key !== 'async')
    .map(([key, value]) => `${key}=${cut(value, 40)}`);
  return cut(params.length > 0 ? `${path}?${params.join('&')}` : path, maxLength);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

type Paint = (text: string) => string;

/** Colour helpers that are identity functions when colour is off. */
export function palette(color: boolean): { state: (state: string) => string; dim: Paint; bold: Paint } {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const byState: Record<string, Paint> = {
    DONE: chalk.green,
    PENDING: chalk.yellow,
    PROCESSING: chalk.cyan,
    ERROR: chalk.red,
    API_ERROR: chalk.red,
    CANCEL: chalk.magenta,
  };
  return { state: (s) => (byState[s] ?? ((x: string) => x))(s), dim: chalk.dim, bold: chalk.bold };
}

/**
 * Aligned columns separated by two spaces. `paint[i]` colours a cell after padding, so ANSI
 * codes never disturb the alignment.
 */
export function renderTable(header: string[], rows: string[][], paint: Array<Paint | undefined> = []): string[] {
  return renderTableAs(header, rows, paint, false);
}

/**
 * A table for a pipe: cells separated by one tab, no padding, no colour, tabs and newlines inside
 * cells turned into spaces (as gh does), so `cut -f2` and `awk -F'\t'` read it.
 */
export function renderTabSeparated(header: string[], rows: string[][]): string[] {
  return renderTableAs(header, rows, [], true);
}

function renderTableAs(header: string[], rows: string[][], paint: Array<Paint | undefined>, tabs: boolean): string[] {
  if (tabs) return [header, ...rows].map((cells) => cells.map((c) => c.replace(/[\t\r\n]+/g, ' ')).join('\t'));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], painted: boolean): string =>
    cells
      .map((cell, i) => {
        const last = i === cells.length - 1;
        const padded = last ? cell : cell.padEnd(widths[i] ?? 0);
        const p = painted ? paint[i] : undefined;
        return p ? p(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header, false), ...rows.map((r) => line(r, true))];
}

export function renderTaskTable(
  tasks: readonly AsyncTask[],
  options: { now: number; color: boolean; tabs?: boolean },
): string[] {
  const { state } = palette(options.color);
  const rows = tasks.map((t) => [
    t.id,
    t.state,
    formatDeletion(t.deletionDate, options.now),
    shortenRequest(t.request),
  ]);
  if (options.tabs) return renderTabSeparated(['ID', 'STATE', 'DELETED', 'REQUEST'], rows);
  return renderTable(['ID', 'STATE', 'DELETED', 'REQUEST'], rows, [
    undefined,
    (s) => state(s.trim()) + s.slice(s.trimEnd().length),
  ]);
}

/** `key: value` lines for one task (stdout of `status`). */
export function renderTaskDetails(task: AsyncTask, options: { now: number; color: boolean }): string[] {
  const { state } = palette(options.color);
  const lines = [
    `id:       ${task.id}`,
    `state:    ${state(task.state)}`,
    `request:  ${shortenRequest(task.request, 200)}`,
  ];
  if (task.deletionDate)
    lines.push(`deleted:  ${formatDeletion(task.deletionDate, options.now)} (${task.deletionDate} MSK)`);
  if (task.resultUrl) lines.push(`result:   ${task.resultUrl}`);
  for (const e of task.errors ?? []) {
    lines.push(
      `error:    ${e.code === undefined ? '' : `${e.code} `}${e.error}${e.parameter ? ` (parameter ${e.parameter})` : ''}`,
    );
  }
  return lines;
}

export function renderReportsTable(reports: readonly ReportSpec[]): string[] {
  return renderTable(
    ['ALIAS', 'PATH', 'REQUIRED', 'RECORDS', 'CSV', 'MONEY (--rubles)'],
    reports.map((r) => [
      r.alias,
      r.path,
      r.required.length > 0 ? r.required.join(',') : '-',
      r.records === 'root' ? 'whole object' : `${r.records}[]`,
      r.explode ? `one row per ${r.explode}[] element` : 'one row per record',
      r.money.length > 0 ? r.money.join(',') : '-',
    ]),
  );
}

export function renderWebhookTable(hooks: readonly Webhook[]): string[] {
  return renderTable(
    ['ID', 'ACTION', 'ENABLED', 'URL'],
    hooks.map((h) => [h.id, String(h.action), h.enabled === false ? 'no' : 'yes', h.url]),
  );
}

/** `doctor` lines: ✓ ✗ ! – on a terminal, plain words in pipes and logs (no ANSI either way). */
export function renderDoctorLines(
  checks: ReadonlyArray<{ name: string; status: 'ok' | 'warn' | 'fail' | 'skip'; message: string }>,
  options: { symbols: boolean },
): string[] {
  const marks = options.symbols
    ? { ok: '✓', warn: '!', fail: '✗', skip: '-' }
    : { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${marks[c.status]} ${`${c.name}:`.padEnd(width + 1)} ${c.message}`);
}
