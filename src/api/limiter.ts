/**
 * A semaphore for requests in flight (docs/api-facts.md §3.1: 5 parallel requests per user,
 * error 1073 beyond). The limit can be lowered after a 1073 and creeps back up after a run of
 * successes; a pause gate spreads requests out when the rate-limit headers say the window is
 * nearly spent.
 */
import { TimeoutError } from '../errors.js';
import { clampDelay } from './deadlines.js';

export interface Limiter {
  /**
   * Waits for a slot (and for any pacing pause); returns the function that frees it. A pause that
   * reaches past `deadline` (a time of `now()`) throws TimeoutError at once instead of waiting.
   */
  acquire(signal?: AbortSignal, deadline?: number): Promise<() => void>;
  /** After a 1073: one slot fewer (never below 1). */
  lower(): void;
  /** After a success: after enough of them, one slot more (never above the maximum). */
  succeeded(): void;
  /** Hold new requests until `now() + ms` (ms capped at MAX_PACING_MS). */
  pause(ms: number): void;
  readonly limit: number;
  readonly inFlight: number;
}

export interface LimiterOptions {
  max: number;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Successes needed to raise a lowered limit by one. */
  recoverAfter?: number;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const max = Math.max(1, options.max);
  const recoverAfter = options.recoverAfter ?? 20;
  let limit = max;
  let inFlight = 0;
  let streak = 0;
  let pausedUntil = 0;
  const waiters: Array<() => void> = [];

  const wake = (): void => {
    while (inFlight < limit && waiters.length > 0) {
      inFlight += 1;
      waiters.shift()?.();
    }
  };

  const take = (signal?: AbortSignal): Promise<void> => {
    if (inFlight < limit && waiters.length === 0) {
      inFlight += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const granted = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = waiters.indexOf(granted);
        if (index >= 0) waiters.splice(index, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(granted);
    });
  };

  return {
    async acquire(signal, deadline) {
      await take(signal);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        inFlight -= 1;
        wake();
      };
      try {
        // Pacing happens while holding the slot so that waiting requests queue behind it.
        for (let wait = pausedUntil - options.now(); wait > 0; wait = pausedUntil - options.now()) {
          if (deadline !== undefined && pausedUntil > deadline) {
            throw new TimeoutError(`the API's rate limit asks to wait ${Math.ceil(wait / 1000)}s, past --timeout`);
          }
          await options.sleep(wait, signal);
        }
      } catch (error) {
        release();
        throw error;
      }
      return release;
    },
    lower() {
      streak = 0;
      limit = Math.max(1, limit - 1);
    },
    succeeded() {
      if (limit >= max) return;
      streak += 1;
      if (streak >= recoverAfter) {
        streak = 0;
        limit += 1;
        wake();
      }
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, options.now() + clampDelay(ms));
    },
    get limit() {
      return limit;
    },
    get inFlight() {
      return inFlight;
    },
  };
}
