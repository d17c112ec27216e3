/**
 * The steps of an export (src/core/export.ts) wired to an API client for runs with several tasks
 * at once (batch, split exports): progress goes to callbacks rather than a spinner, and every
 * task we create holds a permit of the account's task semaphore from creation until it reaches a
 * final state, so that at most 4 of our tasks are queued or running per account
 * (docs/api-facts.md §3.1). Tasks of others that fill the queue are waited out (61002, startTask).
 */
import type { ApiClient } from '../api/client.js';
import type { AsyncTask } from '../api/types.js';
import { InterruptedError } from '../errors.js';
import { finalStateError, pollTask } from '../poller/poll.js';
import type { TaskSteps } from './export.js';
import type { Semaphore } from './semaphore.js';
import { startTask } from './start.js';

export interface CoreTaskStepOptions {
  timeoutMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal: AbortSignal;
  /** Our tasks queued or running on this account (shared by every job of the account). */
  taskSlots: Semaphore;
  resumeHint: (taskId: string) => string;
  /** Waiting for one of our own task slots (the semaphore), before asking the API. */
  onSlotWait?: () => void;
  /** The account's queue is full of tasks (61002): waiting for a free slot. */
  onQueueFull?: () => void;
  onUpdate?: (taskId: string, task: AsyncTask, elapsedMs: number) => void;
}

export function createCoreTaskSteps(client: ApiClient, options: CoreTaskStepOptions): TaskSteps {
  const { signal } = options;
  const permits = new Map<string, () => void>();
  return {
    now: options.now,
    listReusable: async () => (await client.listTasks({ states: ['PENDING', 'PROCESSING', 'DONE'] }, { signal })).rows,
    start: async (pathAndQuery) => {
      if (options.taskSlots.active >= options.taskSlots.size || options.taskSlots.waiting > 0) options.onSlotWait?.();
      let release: () => void;
      try {
        release = await options.taskSlots.acquire(signal);
      } catch {
        throw new InterruptedError('interrupted while waiting for a queue slot; no task was created');
      }
      try {
        const task = await startTask(client, pathAndQuery, {
          timeoutMs: options.timeoutMs,
          sleep: options.sleep,
          now: options.now,
          signal,
          ...(options.onQueueFull ? { onQueueFull: options.onQueueFull } : {}),
        });
        permits.set(task.id, release);
        return task;
      } catch (error) {
        release();
        throw error;
      }
    },
    waitDone: async (taskId) => {
      try {
        const task = await pollTask((callSignal) => client.getTask(taskId, { signal: callSignal }), {
          timeoutMs: options.timeoutMs,
          sleep: options.sleep,
          now: options.now,
          signal,
          resumeHint: options.resumeHint(taskId),
          onUpdate: (t, elapsed) => options.onUpdate?.(taskId, t, elapsed),
        });
        const error = finalStateError(task);
        if (error) throw error;
        return task;
      } finally {
        // Final, failed or abandoned (Ctrl-C, timeout): either way it no longer counts as ours.
        permits.get(taskId)?.();
        permits.delete(taskId);
      }
    },
    cancel: (taskId) => client.cancelTask(taskId),
    getResultLink: (taskId) => client.getResultLink(taskId, { signal }),
  };
}
