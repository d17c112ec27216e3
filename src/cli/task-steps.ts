/**
 * The steps of fetch/export (src/core/export.ts) wired to the API client, the poller and the
 * terminal: a spinner or plain state lines while waiting, a line when the queue is full.
 */
import type { ApiClient } from '../api/client.js';
import type { AsyncTask } from '../api/types.js';
import type { TaskSteps } from '../core/export.js';
import { createLog } from '../ui/log.js';
import type { CommandContext } from './context.js';

/** Said once when task creation meets a full queue (61002), by start, fetch and export alike. */
export const QUEUE_FULL_LINE = "the account's async queue is full (61002); waiting for a free slot…";

export interface TaskStepOptions {
  timeoutMs: number;
  /** The command that resumes the wait, for timeout and Ctrl-C hints. */
  resumeHint: (taskId: string) => string;
  /** The command that resumes after `timeoutMs` was reached; default `resumeHint`. */
  timeoutHint?: ((taskId: string) => string) | undefined;
  /** Every task read while waiting (the summary keeps the last state). */
  onTaskUpdate?: ((task: AsyncTask) => void) | undefined;
}

export async function createTaskSteps(
  ctx: CommandContext,
  client: ApiClient,
  options: TaskStepOptions,
): Promise<TaskSteps> {
  const { deps } = ctx;
  const log = createLog(deps.io, ctx.mode);
  const [{ startTask }, { pollTask, finalStateError }, { createTaskWatcher }] = await Promise.all([
    import('../core/start.js'),
    import('../poller/poll.js'),
    import('../ui/spinner.js'),
  ]);
  return {
    now: deps.now,
    listReusable: async () =>
      (await client.listTasks({ states: ['PENDING', 'PROCESSING', 'DONE'] }, { signal: deps.signal })).rows,
    start: (pathAndQuery) =>
      startTask(client, pathAndQuery, {
        timeoutMs: options.timeoutMs,
        sleep: deps.sleep,
        now: deps.now,
        signal: deps.signal,
        onQueueFull: () => log.info(QUEUE_FULL_LINE),
      }),
    waitDone: async (taskId) => {
      const watcher = await createTaskWatcher(deps.io, ctx.mode, taskId, deps.now);
      let task: AsyncTask;
      try {
        task = await pollTask((signal, deadline) => client.getTask(taskId, { signal, deadline }), {
          timeoutMs: options.timeoutMs,
          sleep: deps.sleep,
          now: deps.now,
          signal: deps.signal,
          resumeHint: options.resumeHint(taskId),
          timeoutHint: (options.timeoutHint ?? options.resumeHint)(taskId),
          onUpdate: (task, elapsed) => {
            options.onTaskUpdate?.(task);
            watcher.onUpdate(task, elapsed);
          },
        });
      } finally {
        watcher.stop();
      }
      const error = finalStateError(task);
      if (error) throw error;
      return task;
    },
    // The run's signal may be aborted already (Ctrl-C): the cancel goes without it.
    cancel: (taskId) => client.cancelTask(taskId),
    getResultLink: (taskId) => client.getResultLink(taskId, { signal: deps.signal }),
  };
}
