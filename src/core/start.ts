/**
 * startTask: creates an async task, waiting for a free slot while the account's queue is full
 * (61002: 4 tasks per account, docs/api-facts.md §2.2, §3.1) within the timeout.
 */
import { InterruptedError, TimeoutError } from '../errors.js';
import type { ApiClient } from '../api/client.js';
import { hasApiErrorCode } from '../api/parse.js';
import type { CreatedTask } from '../api/types.js';

export interface StartTaskOptions {
  /** 0 = wait for a queue slot without limit. */
  timeoutMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal?: AbortSignal | undefined;
  random?: () => number;
  /** Called once, when the first 61002 arrives (the CLI says "queue full, waiting…"). */
  onQueueFull?: () => void;
  /** Pause between attempts: from `firstWaitMs` growing ×1.5 to `maxWaitMs`, with jitter. */
  firstWaitMs?: number;
  maxWaitMs?: number;
}

export async function startTask(
  client: ApiClient,
  pathAndQuery: string,
  options: StartTaskOptions,
): Promise<CreatedTask> {
  const random = options.random ?? Math.random;
  const started = options.now();
  let pause = options.firstWaitMs ?? 5000;
  const cap = options.maxWaitMs ?? 30_000;
  let told = false;
  const deadline = options.timeoutMs > 0 ? started + options.timeoutMs : undefined;
  for (;;) {
    try {
      return await client.createTask(pathAndQuery, { signal: options.signal, deadline });
    } catch (error) {
      // The deadline caught the next try: what the user waited for was still the queue.
      if (error instanceof TimeoutError && told) throw queueStayedFull(error);
      if (!hasApiErrorCode(error, 61002)) throw error;
      if (!told) {
        told = true;
        options.onQueueFull?.();
      }
      const elapsed = options.now() - started;
      if (options.timeoutMs > 0 && elapsed >= options.timeoutMs) {
        throw queueStayedFull(error);
      }
      let wait = Math.round(pause * (0.75 + random() * 0.5));
      if (options.timeoutMs > 0) wait = Math.min(wait, options.timeoutMs - elapsed);
      try {
        await options.sleep(wait, options.signal);
      } catch (sleepError) {
        if (options.signal?.aborted)
          throw new InterruptedError('interrupted while waiting for a free queue slot; no task was created');
        throw sleepError;
      }
      pause = Math.min(cap, pause * 1.5);
    }
  }
}

function queueStayedFull(error: unknown): TimeoutError {
  return new TimeoutError("the account's async queue stayed full (61002: 4 tasks at most) until --timeout", {
    apiErrors: (error as { apiErrors?: [] }).apiErrors ?? [],
    hint: 'see the running tasks with `ms-async list --state PENDING --state PROCESSING`; cancel one or try later',
  });
}
