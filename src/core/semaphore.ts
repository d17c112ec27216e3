/**
 * A counting semaphore: at most `size` holders at once, the rest wait in arrival order. Batch and
 * split exports use one per account for our queued tasks (the API queues 4 per account,
 * docs/api-facts.md §3.1) and one per run for downloads and conversions.
 */
export interface Semaphore {
  /** Waits for a permit; the returned function gives it back (once; later calls do nothing). */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Runs `work` holding a permit. */
  run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly size: number;
  readonly active: number;
  readonly waiting: number;
}

export function createSemaphore(size: number): Semaphore {
  let active = 0;
  const waiters: Array<() => void> = [];
  const permit = (): (() => void) => {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      active -= 1;
      const next = waiters.shift();
      if (next) {
        active += 1;
        next();
      }
    };
  };
  const acquire = (signal?: AbortSignal): Promise<() => void> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (active < size && waiters.length === 0) {
      active += 1;
      return Promise.resolve(permit());
    }
    return new Promise((resolve, reject) => {
      const granted = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(permit());
      };
      const onAbort = (): void => {
        const at = waiters.indexOf(granted);
        if (at >= 0) waiters.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(granted);
    });
  };
  return {
    acquire,
    async run(work, signal) {
      const release = await acquire(signal);
      try {
        return await work();
      } finally {
        release();
      }
    },
    get size() {
      return size;
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
  };
}

/**
 * A permit of `inner` first, then of `outer`: a split job in a batch holds at most `inner.size`
 * of its account's slots, so that its slices do not starve the account's other jobs.
 */
export function nestSemaphores(inner: Semaphore, outer: Semaphore): Semaphore {
  const acquire = async (signal?: AbortSignal): Promise<() => void> => {
    const first = await inner.acquire(signal);
    try {
      const second = await outer.acquire(signal);
      return () => {
        second();
        first();
      };
    } catch (error) {
      first();
      throw error;
    }
  };
  return {
    acquire,
    async run(work, signal) {
      const release = await acquire(signal);
      try {
        return await work();
      } finally {
        release();
      }
    },
    get size() {
      return Math.min(inner.size, outer.size);
    },
    get active() {
      return Math.max(inner.active, outer.active);
    },
    get waiting() {
      return inner.waiting + outer.waiting;
    },
  };
}
