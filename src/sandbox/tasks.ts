/**
 * Async tasks of the sandbox: the lifecycle PENDING → PROCESSING → DONE | ERROR | CANCEL | API_ERROR
 * on timers (§2.4), the task entity per state (§2.3), and the `GET /async` filter/order (§2.5).
 */
import { randomUUID } from 'node:crypto';
import { MSK_OFFSET_MS, parseMoscowTime, parseMoscowWallClock } from '../moscow-time.js';
import { formatMsk } from './generate.js';
import type { ReportSpec } from '../reports/catalog.js';
import type { TaskOutcome } from './faults.js';
import { errorObject, type ApiErrorObject, type Lang } from './messages.js';

export type TaskState = 'PENDING' | 'PROCESSING' | 'DONE' | 'ERROR' | 'CANCEL' | 'API_ERROR';

export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['DONE', 'ERROR', 'CANCEL', 'API_ERROR']);
const ALL_STATES: readonly TaskState[] = ['PENDING', 'PROCESSING', 'DONE', 'ERROR', 'CANCEL', 'API_ERROR'];

export interface Task {
  id: string;
  state: TaskState;
  /** Full original request URL, `async=true` included. */
  request: string;
  spec: ReportSpec;
  /** Records the result will have. */
  rows: number;
  lang: Lang;
  /** Created with `X-Lognex-Remap-Beta-Feature: assortmentWithoutStock` (carried into the task, §9.4). */
  withoutStock: boolean;
  outcome: TaskOutcome | null;
  pendingMs: number;
  processingMs: number;
  ownerId: string;
  /** Who created it (`bearer:<token>` or `basic:<login>`), for the queue bookkeeping. */
  user?: string;
  /** Virtual-clock instants (ms since epoch, UTC). */
  createdAt: number;
  doneAt?: number;
  deletionAt?: number;
  /** API_ERROR: the error the synchronous call would have answered. */
  errors?: ApiErrorObject[];
  errorStatus?: number;
  timers: NodeJS.Timeout[];
  /** Path and size of the generated result file, once written. */
  file?: string;
  fileBytes?: number;
  filePromise?: Promise<void>;
}

/** `YYYY-MM-DD HH:mm:ss.SSS` in MSK for a UTC instant. */
export function mskString(utcMs: number): string {
  return formatMsk(utcMs + MSK_OFFSET_MS, true);
}

export function newTaskId(): string {
  return randomUUID();
}

/** Validation the plot-series endpoints do while executing (§5.4, §5.6): an error, or bucket count. */
export function checkPlotParams(
  params: URLSearchParams,
  lang: Lang,
): { error: ApiErrorObject; status: number } | { buckets: number } {
  for (const name of ['momentFrom', 'momentTo', 'interval']) {
    if (!params.get(name)) return { error: errorObject(39000, lang, { param: name }, name), status: 412 };
  }
  const interval = params.get('interval') ?? '';
  if (!['hour', 'day', 'month'].includes(interval))
    return { error: errorObject(39002, lang, {}, 'interval'), status: 400 };
  const from = parseMoscowWallClock(params.get('momentFrom'));
  const to = parseMoscowWallClock(params.get('momentTo'));
  if (from === undefined) return { error: errorObject(1040, lang, {}, 'momentFrom'), status: 400 };
  if (to === undefined) return { error: errorObject(1040, lang, {}, 'momentTo'), status: 400 };
  if (to < from) return { error: errorObject(3052, lang, { from: 'momentFrom', to: 'momentTo' }), status: 400 };
  const day = 86_400_000;
  const span = to - from;
  const limits: Record<string, [number, string]> = {
    hour: [30 * day, lang === 'en' ? '30 days' : '30 дней'],
    day: [3653 * day, lang === 'en' ? '10 years' : '10 лет'],
    month: [36525 * day, lang === 'en' ? '100 years' : '100 лет'],
  };
  const [limit, label] = limits[interval] as [number, string];
  if (span > limit) return { error: errorObject(39001, lang, { interval, limit: label }), status: 400 };
  let buckets: number;
  if (interval === 'month') {
    const a = new Date(from);
    const b = new Date(to);
    buckets = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1;
  } else {
    const step = interval === 'hour' ? 3_600_000 : day;
    buckets = Math.floor(span / step) + 1;
  }
  return { buckets };
}

/** The task entity exactly as §2.3 lists it for the task's state. */
export function taskJson(
  task: Task,
  ctx: { baseUrl: string; accountId: string; now: number },
): Record<string, unknown> {
  const href = `${ctx.baseUrl}/async/${task.id}`;
  const body: Record<string, unknown> = {
    meta: { href, type: 'async', mediaType: 'application/json' },
    id: task.id,
    accountId: ctx.accountId,
    owner: {
      meta: {
        href: `${ctx.baseUrl}/entity/employee/${task.ownerId}`,
        metadataHref: `${ctx.baseUrl}/entity/employee/metadata`,
        type: 'employee',
        mediaType: 'application/json',
        uuidHref: `https://online.moysklad.ru/app/#employee/edit?id=${task.ownerId}`,
      },
    },
    state: task.state,
    request: task.request,
  };
  if (task.state === 'DONE') {
    body.resultUrl = `${href}/result`;
    body.deletionDate = mskString(task.deletionAt ?? ctx.now);
  }
  if (task.state === 'API_ERROR') body.errors = task.errors ?? [];
  return body;
}

// ---------------------------------------------------------------------------------------------
// GET /async: filter and order

export class ListQueryError extends Error {
  constructor(
    readonly code: number,
    readonly args: Record<string, string>,
    readonly parameter?: string,
  ) {
    super(`list query error ${code}`);
  }
}

type Op = '=' | '!=' | '<' | '>' | '<=' | '>=';
interface Condition {
  field: 'state' | 'request' | 'deletionDate';
  op: Op;
  value: string;
  instant?: number | undefined;
}

/** Splits a filter on `;` not escaped as `\;`, unescaping `\;`. */
function splitFilter(filter: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i];
    if (ch === '\\' && filter[i + 1] === ';') {
      current += ';';
      i++;
    } else if (ch === ';') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.filter((p) => p.length > 0);
}

export function parseTaskFilter(filter: string): Condition[] {
  const conditions: Condition[] = [];
  for (const part of splitFilter(filter)) {
    const m = /^([A-Za-z_.]+)(!=|<=|>=|=~|~=|!~|=|<|>|~)(.*)$/s.exec(part);
    if (!m) throw new ListQueryError(1034, { details: part });
    const [, field = '', op = '', value = ''] = m;
    if (field !== 'state' && field !== 'request' && field !== 'deletionDate') {
      throw new ListQueryError(1034, { details: `неизвестное поле '${field}' / unknown field '${field}'` }, field);
    }
    const allowed: readonly string[] = field === 'deletionDate' ? ['=', '!=', '<', '>', '<=', '>='] : ['=', '!='];
    if (!allowed.includes(op)) throw new ListQueryError(1034, { details: `${field}${op}` }, field);
    const condition: Condition = { field, op: op as Op, value };
    if (field === 'state' && value !== '') {
      // The workbook writes `state=done`; matching is case-insensitive here (§9.11, our choice).
      const upper = value.toUpperCase();
      if (!ALL_STATES.includes(upper as TaskState)) {
        throw new ListQueryError(1041, { value, name: 'state', list: ALL_STATES.join(', ') }, 'state');
      }
      condition.value = upper;
    }
    if (field === 'deletionDate' && value !== '') {
      condition.instant = parseMoscowTime(value);
      if (condition.instant === undefined) throw new ListQueryError(1035, { value }, 'deletionDate');
    }
    conditions.push(condition);
  }
  // Mixing `=` and a comparison on one field is an error (§1.7).
  for (const field of ['state', 'request', 'deletionDate'] as const) {
    const ops = new Set(conditions.filter((c) => c.field === field).map((c) => c.op));
    if (ops.has('=') && ops.size > 1 && [...ops].some((o) => o !== '=' && o !== '!=')) {
      throw new ListQueryError(1034, { details: field }, field);
    }
  }
  return conditions;
}

function fieldValue(task: Task, field: Condition['field']): string | number | undefined {
  if (field === 'state') return task.state;
  if (field === 'request') return task.request;
  return task.state === 'DONE' ? task.deletionAt : undefined;
}

function matchOne(task: Task, c: Condition): boolean {
  const v = fieldValue(task, c.field);
  if (c.value === '') return c.op === '=' ? v === undefined || v === '' : v !== undefined && v !== '';
  if (c.field === 'deletionDate') {
    const d = v as number | undefined;
    const x = c.instant as number;
    if (d === undefined) return c.op === '!=';
    // Compare at the precision the filter gave (a value without ms matches the whole second).
    switch (c.op) {
      case '=':
        return d === x;
      case '!=':
        return d !== x;
      case '<':
        return d < x;
      case '>':
        return d > x;
      case '<=':
        return d <= x;
      case '>=':
        return d >= x;
    }
  }
  return c.op === '=' ? v === c.value : v !== c.value;
}

/** Repeated `=` on a field is OR; everything else is AND (§1.7). */
export function matchTask(task: Task, conditions: Condition[]): boolean {
  const byField = new Map<string, Condition[]>();
  for (const c of conditions) byField.set(c.field, [...(byField.get(c.field) ?? []), c]);
  for (const list of byField.values()) {
    const equals = list.filter((c) => c.op === '=');
    const others = list.filter((c) => c.op !== '=');
    if (equals.length > 0 && !equals.some((c) => matchOne(task, c))) return false;
    if (!others.every((c) => matchOne(task, c))) return false;
  }
  return true;
}

export function parseTaskOrder(order: string): Array<{ field: 'deletionDate' | 'request'; desc: boolean }> {
  return order
    .split(';')
    .filter(Boolean)
    .map((part) => {
      const [field = '', dir = 'asc'] = part.split(',');
      if (field !== 'deletionDate' && field !== 'request') throw new ListQueryError(1063, { name: field }, 'order');
      if (dir !== 'asc' && dir !== 'desc') throw new ListQueryError(1040, {}, 'order');
      return { field, desc: dir === 'desc' };
    });
}

export function compareTasks(
  order: Array<{ field: 'deletionDate' | 'request'; desc: boolean }>,
): (a: Task, b: Task) => number {
  return (a, b) => {
    for (const { field, desc } of order) {
      const va = field === 'request' ? a.request : a.state === 'DONE' ? (a.deletionAt ?? 0) : -Infinity;
      const vb = field === 'request' ? b.request : b.state === 'DONE' ? (b.deletionAt ?? 0) : -Infinity;
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      if (c !== 0) return desc ? -c : c;
    }
    return a.createdAt - b.createdAt;
  };
}
