/**
 * pollTask: reads a task until it reaches a final state, backing off from ~1 s to ~10 s with
 * jitter (README.md "Command reference", status; docs/api-facts.md §2.6). Pure of terminal concerns:
 * progress goes to `onUpdate`, time and randomness are injected.
 */
import {
  ApiError,
  AuthError,
  AUTH_API_CODES,
  InterruptedError,
  PERMISSION_API_CODES,
  PERMISSION_HINT,
  TaskFailedError,
  TimeoutError,
  type MsAsyncError,
} from '../errors.js';
import { FINAL_STATES, TASK_STATES, type AsyncTask } from '../api/types.js';

export interface PollOptions {
  /** 0 = wait without limit. */
  timeoutMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  random?: () => number;
  signal?: AbortSignal | undefined;
  /** Called after every read, with the time since polling began. */
  onUpdate?: (task: AsyncTask, elapsedMs: number) => void;
  /** Pause before the second read (the first is at once). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Growth of the pause per read. */
  factor?: number;
  /** The next command to run, for the TimeoutError and InterruptedError hints. */
  resumeHint?: string;
  /** The TimeoutError's hint when it differs from `resumeHint` (without the timeout just reached). */
  timeoutHint?: string;
}

export function isFinalState(state: string): boolean {
  return FINAL_STATES.has(state);
}

/**
 * Polls until DONE, ERROR, CANCEL or API_ERROR and returns that task (it does not throw for
 * failed states: see finalStateError). Throws TimeoutError (exit 6) when `timeoutMs` passes and
 * InterruptedError (130) when `signal` aborts; both carry `resumeHint`.
 */
export async function pollTask(
  /** `deadline` (a time of `now()`, the end of `timeoutMs`) is for the request: see CallOptions. */
  getTask: (signal?: AbortSignal, deadline?: number) => Promise<AsyncTask>,
  options: PollOptions,
): Promise<AsyncTask> {
  const random = options.random ?? Math.random;
  const initial = options.initialDelayMs ?? 1000;
  const cap = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 1.6;
  const hint = options.resumeHint;
  const timeoutHint = options.timeoutHint ?? hint;
  const started = options.now();
  const deadline = options.timeoutMs > 0 ? started + options.timeoutMs : undefined;
  const interrupted = (): InterruptedError =>
    new InterruptedError('interrupted while waiting; the task goes on running on the server', hint ? { hint } : {});

  let delay = initial;
  for (;;) {
    if (options.signal?.aborted) throw interrupted();
    let task: AsyncTask;
    try {
      task = await getTask(options.signal, deadline);
    } catch (error) {
      if (options.signal?.aborted || error instanceof InterruptedError) throw interrupted();
      // The read itself ran into the deadline (a stalled or trickling answer, a long rate-limit pause).
      if (error instanceof TimeoutError) {
        throw new TimeoutError(`gave up waiting after ${formatSeconds(options.timeoutMs)}: ${error.message}`, {
          ...(timeoutHint ? { hint: timeoutHint } : {}),
          cause: error,
        });
      }
      throw error;
    }
    const elapsed = options.now() - started;
    options.onUpdate?.(task, elapsed);
    if (isFinalState(task.state)) return task;
    if (!(TASK_STATES as readonly string[]).includes(task.state)) {
      // Waiting for a state we cannot read would last until --timeout for nothing.
      throw new ApiError(
        `task ${task.id} is in state "${task.state}", which ms-async does not know ` +
          `(the API documents ${TASK_STATES.join(', ')})`,
        { details: { task }, hint: 'run `ms-async status <id> --json` to see the whole task, and report it' },
      );
    }
    if (options.timeoutMs > 0 && elapsed >= options.timeoutMs) {
      throw new TimeoutError(
        `gave up waiting after ${formatSeconds(options.timeoutMs)}: task ${task.id} is still ${task.state}`,
        timeoutHint ? { hint: timeoutHint } : {},
      );
    }
    // Equal jitter: between 75% and 125% of the nominal pause, so parallel pollers drift apart.
    let pause = Math.round(delay * (0.75 + random() * 0.5));
    if (options.timeoutMs > 0) pause = Math.max(0, Math.min(pause, options.timeoutMs - elapsed));
    try {
      await options.sleep(pause, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw interrupted();
      throw error;
    }
    delay = Math.min(cap, delay * factor);
  }
}

function formatSeconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

/**
 * The error a final state stands for, or undefined for DONE (and for states that are not final).
 * API_ERROR → AuthError when any error code is an auth code, else ApiError (exit 4), with the
 * task's errors[]; ERROR and CANCEL → TaskFailedError (exit 5).
 */
export function finalStateError(task: AsyncTask): MsAsyncError | undefined {
  const request = task.request ? { method: 'GET', url: task.request } : undefined;
  const details = { task };
  switch (task.state) {
    case 'API_ERROR': {
      const apiErrors = Array.isArray(task.errors) ? task.errors : [];
      const base = { apiErrors, details, ...(request ? { request } : {}) };
      const first = apiErrors[0]?.error;
      const authCodes = apiErrors.flatMap((e) =>
        typeof e.code === 'number' && AUTH_API_CODES.has(e.code) ? [e.code] : [],
      );
      if (authCodes.length > 0 && authCodes.every((c) => PERMISSION_API_CODES.has(c))) {
        return new AuthError(
          `task ${task.id} ended API_ERROR: permission refused, the user may not see this report${first ? `: ${first}` : ''}`,
          {
            ...base,
            hint: PERMISSION_HINT,
          },
        );
      }
      if (authCodes.length > 0) {
        return new AuthError(`task ${task.id} ended API_ERROR: authentication refused${first ? `: ${first}` : ''}`, {
          ...base,
          hint: '`ms-async login` with a valid token',
        });
      }
      return new ApiError(`task ${task.id} ended API_ERROR: the API rejected the request${first ? `: ${first}` : ''}`, {
        ...base,
        hint: 'fix the parameters (see `ms-async reports`) and start it again',
      });
    }
    case 'ERROR':
      return new TaskFailedError(`task ${task.id} ended ERROR (an internal failure of the API)`, {
        details,
        ...(request ? { request } : {}),
        hint: 'start it again; contact MoySklad support if it repeats',
      });
    case 'CANCEL':
      return new TaskFailedError(`task ${task.id} was cancelled`, {
        details,
        ...(request ? { request } : {}),
        hint: 'start it again if you still need the result',
      });
    default:
      return undefined;
  }
}
