/**
 * `list`: the account's tasks of the last week (docs/api-facts.md §2.5). One page of
 * `pageSize` by default; `all` pages through everything. `--request TEXT` is a case-insensitive
 * substring match done here, because the API filters `request` by exact equality only.
 */
import type { ApiClient } from '../api/client.js';
import type { AsyncTask } from '../api/types.js';

export interface ListOptions {
  states: string[];
  requestContains?: string | undefined;
  all: boolean;
  /** Default page (no --all). */
  pageSize?: number;
  signal?: AbortSignal | undefined;
}

export interface ListResult {
  tasks: AsyncTask[];
  /** Matching tasks on the server (before the --request text filter). */
  total: number;
  /** True when more tasks exist than were fetched (no --all). */
  truncated: boolean;
}

const API_PAGE = 1000;

export async function listTaskRows(client: ApiClient, options: ListOptions): Promise<ListResult> {
  const states = options.states.map((s) => s.toUpperCase());
  const limit = options.all ? API_PAGE : (options.pageSize ?? 100);
  const tasks: AsyncTask[] = [];
  let total = 0;
  for (let offset = 0; ; offset += limit) {
    const page = await client.listTasks({ states, limit, offset }, { signal: options.signal });
    total = page.size;
    tasks.push(...page.rows);
    if (!options.all || page.rows.length < limit || tasks.length >= total) break;
  }
  const needle = options.requestContains?.toLowerCase();
  const shown = needle ? tasks.filter((t) => decodeSafe(t.request).toLowerCase().includes(needle)) : tasks;
  // A meta.size below what arrived is wrong on its face: what arrived counts.
  total = Math.max(total, tasks.length);
  return { tasks: shown, total, truncated: tasks.length < total };
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
