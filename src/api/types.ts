/** Response shapes of the async exchange (docs/api-facts.md §2.3, §2.5, §7). */
import type { ApiErrorEntry } from '../errors.js';

export const TASK_STATES = ['PENDING', 'PROCESSING', 'DONE', 'ERROR', 'CANCEL', 'API_ERROR'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: ReadonlySet<string> = new Set(['DONE', 'ERROR', 'CANCEL', 'API_ERROR']);

export interface Meta {
  href: string;
  type?: string;
  mediaType?: string;
  [key: string]: unknown;
}

/** The task entity, `meta.type` = `async` (§2.3). Unknown fields are kept as the API sent them. */
export interface AsyncTask {
  meta?: Meta;
  id: string;
  accountId?: string;
  owner?: { meta: Meta };
  /** A TaskState; typed as string because a newer API may add states. */
  state: TaskState | (string & {});
  /** Full URL of the original request, `async=true` included. */
  request: string;
  /** Only when DONE. */
  resultUrl?: string;
  /** Only when DONE; MSK, with or without milliseconds (§1.5). */
  deletionDate?: string;
  /** Only when API_ERROR. */
  errors?: ApiErrorEntry[];
  [key: string]: unknown;
}

/** What the 202 of a task creation tells (§2.2). */
export interface CreatedTask {
  id: string;
  /** `…/async/{id}` (Content-Location in the current docs). */
  statusUrl: string;
  /** `…/async/{id}/result` (Location in the current docs). */
  resultUrl: string;
  /** The full request URL that created it, `async=true` included. */
  request: string;
}

export interface TaskList {
  size: number;
  rows: AsyncTask[];
}

export type WebhookAction = 'PROCESSED' | 'UPDATE';

export interface Webhook {
  meta?: Meta;
  id: string;
  accountId?: string;
  entityType: string;
  url: string;
  method?: string;
  enabled?: boolean;
  action: string;
  [key: string]: unknown;
}
