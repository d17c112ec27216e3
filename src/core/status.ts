/**
 * `status`: one read of a task, or polling until a final state; Ctrl-C leaves it running (or
 * cancels it, with cancelOnInterrupt). The outcome's error (by final state) is returned, not
 * thrown, so that the command can print the task before failing with the right exit code.
 */
import { InterruptedError, type MsAsyncError } from '../errors.js';
import type { ApiClient } from '../api/client.js';
import type { AsyncTask } from '../api/types.js';
import { finalStateError, pollTask } from '../poller/poll.js';
import { cancelAfterInterrupt } from './cancel.js';

export interface TaskStatusOptions {
  wait: boolean;
  timeoutMs: number;
  cancelOnInterrupt: boolean;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal?: AbortSignal | undefined;
  random?: () => number;
  onUpdate?: (task: AsyncTask, elapsedMs: number) => void;
  onCancelled?: (taskId: string) => void;
}

export interface TaskStatus {
  task: AsyncTask;
  /** The error of a failed final state (exit 3/4/5); undefined for DONE and running states. */
  error: MsAsyncError | undefined;
}

export function resumeStatusHint(taskId: string): string {
  return `resume with: ms-async status ${taskId} --wait (or: ms-async fetch ${taskId} --wait --out FILE)`;
}

export async function getTaskStatus(
  client: ApiClient,
  taskId: string,
  options: TaskStatusOptions,
): Promise<TaskStatus> {
  if (!options.wait) {
    const task = await client.getTask(taskId, { signal: options.signal });
    options.onUpdate?.(task, 0);
    return { task, error: finalStateError(task) };
  }
  try {
    const task = await pollTask((signal, deadline) => client.getTask(taskId, { signal, deadline }), {
      timeoutMs: options.timeoutMs,
      sleep: options.sleep,
      now: options.now,
      signal: options.signal,
      resumeHint: resumeStatusHint(taskId),
      ...(options.random ? { random: options.random } : {}),
      ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}),
    });
    return { task, error: finalStateError(task) };
  } catch (error) {
    if (error instanceof InterruptedError && options.cancelOnInterrupt) {
      // The run's signal is aborted: the cancel goes without it.
      throw await cancelAfterInterrupt(() => client.cancelTask(taskId), taskId, options.onCancelled);
    }
    throw error;
  }
}
