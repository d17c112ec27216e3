/**
 * The account gate: what every ms-async process of one account on this machine shares, so that a
 * crowd of parallel runs (cron jobs at the top of the hour, a CI matrix) stays far below
 * MoySklad's lockout — 200 failing requests a minute switch the account's API off
 * (docs/api-facts.md §3.5, §10.9; issue 14 item 5).
 *
 * One small JSON file per account in the user's cache folder, changed only under a lock (an
 * atomic mkdir), holds: a token bucket for requests, a lease per request in flight, a lease per
 * async task between its creation and its final state (the account's queue holds 4, §3.1), and a
 * shared pause set by any process that met a 429 or 1073, growing while they repeat. Leases of
 * processes that died, or that stopped renewing them, expire. The file is keyed by base URL and a
 * hash of the credential; the credential itself is never written.
 *
 * Anything wrong with the folder (read-only, full) switches the gate off for the run: it may slow
 * a crowd down, never fail an export.
 *
 * The file is read and written with synchronous calls: a few tiny operations on a local file take
 * microseconds that way, against ~1 ms each through the thread pool, and every request passes the
 * gate twice (with awaits, a fetch's two first requests went one after the other, and its storage
 * connect came ~10 ms later). Nothing else runs while the lock is held, so it is held for the
 * least time possible.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimeoutError } from '../errors.js';
import { isProcessAlive } from '../process-alive.js';
import { MAX_PACING_MS } from './deadlines.js';

export interface AccountGateOptions {
  /** Folder of the gate files (`<cache>/accounts`). */
  dir: string;
  baseUrl: string;
  /** The Authorization header value: only its hash is used. */
  credential: string;
  /** Requests in flight across processes (the API allows 5 per user, §3.1; one is left spare). */
  maxInFlight?: number;
  /** Requests per second across processes, and the burst allowed. */
  ratePerSecond?: number;
  burst?: number;
  /** Tasks between creation and final state (the account's queue holds 4). */
  maxTasks?: number;
  /** How long a lease lives unless renewed (a crashed run frees its slots after this). */
  requestLeaseMs?: number;
  taskLeaseMs?: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Problems with the gate's folder (it is switched off then). */
  onTrouble?: (message: string) => void;
}

export interface AccountGate {
  /**
   * A request slot and a rate token; resolves to the function that frees the slot. Waits at most
   * `maxWaitMs` (TimeoutError beyond).
   */
  request(signal?: AbortSignal, maxWaitMs?: number): Promise<() => Promise<void>>;
  /** A 429 or 1073 was met: every process pauses `ms` (or longer while they repeat). */
  strike(ms: number): Promise<number>;
  /** Rate-limit headers ask to slow down: every process pauses `ms`. */
  pause(ms: number): Promise<void>;
  /**
   * A task slot, before creating a task; `onWait` is called once if it has to wait. The slot is
   * bound to the task once created, or given back if the creation failed.
   */
  taskSlot(signal?: AbortSignal, maxWaitMs?: number, onWait?: () => void): Promise<TaskSlot>;
  /** A poll saw the task still running: its slot lives on. */
  renewTask(taskId: string): Promise<void>;
  /** A poll saw the task final: its slot is free. */
  releaseTask(taskId: string): Promise<void>;
}

export interface TaskSlot {
  bind(taskId: string): Promise<void>;
  release(): Promise<void>;
}

interface Lease {
  id: string;
  pid: number;
  until: number;
  task?: string;
}

interface GateState {
  tokens: number;
  at: number;
  pausedUntil: number;
  strikes: number;
  lastStrike: number;
  requests: Lease[];
  tasks: Lease[];
}

/** The file name of an account: base URL + credential, hashed together. */
export function gateKey(baseUrl: string, credential: string): string {
  return createHash('sha256').update(`${baseUrl}\n${credential}`).digest('hex').slice(0, 32);
}

const LOCK_STALE_MS = 5_000;

export function createAccountGate(options: AccountGateOptions): AccountGate {
  const maxInFlight = options.maxInFlight ?? 4;
  const rate = options.ratePerSecond ?? 8;
  const burst = options.burst ?? 8;
  const maxTasks = options.maxTasks ?? 4;
  const requestLeaseMs = options.requestLeaseMs ?? 180_000;
  const taskLeaseMs = options.taskLeaseMs ?? 120_000;
  const random = options.random ?? Math.random;
  const key = gateKey(options.baseUrl, options.credential);
  const file = join(options.dir, `${key}.json`);
  const lockDir = join(options.dir, `${key}.lock`);
  let broken = false;

  const fresh = (): GateState => ({
    tokens: burst,
    at: Date.now(),
    pausedUntil: 0,
    strikes: 0,
    lastStrike: 0,
    requests: [],
    tasks: [],
  });

  async function lock(): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        mkdirSync(lockDir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          mkdirSync(options.dir, { recursive: true, mode: 0o700 });
          continue;
        }
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // A holder that died mid-update leaves the lock behind: older than a few seconds is stale.
      const info = statSync(lockDir, { throwIfNoEntry: false });
      if (info && Date.now() - info.mtimeMs > LOCK_STALE_MS) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      // Real time on purpose: the lock is held for a moment, whatever clock the run uses; a crowd
      // backs off so that waiters do not spin while the holder waits for a CPU.
      const pause = Math.min(50, 2 * 1.5 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, pause / 2 + random() * pause));
    }
  }

  function load(): GateState {
    try {
      return { ...fresh(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<GateState>) };
    } catch {
      return fresh();
    }
  }

  /** The state as it is now, read without the lock (files are replaced whole, by rename). */
  async function peek(): Promise<GateState | undefined> {
    if (broken) return undefined;
    const state = load();
    expire(state, Date.now());
    return state;
  }

  /** Runs `change` on the state under the lock; undefined when the gate is off. */
  async function update<T>(change: (state: GateState, now: number) => T): Promise<T | undefined> {
    if (broken) return undefined;
    try {
      await lock();
      try {
        const state = load();
        // The bucket's refill is computed from `at` on every read: only other changes are written.
        const before = JSON.stringify({ ...state, tokens: 0, at: 0 });
        const now = Date.now();
        expire(state, now);
        const result = change(state, now);
        if (JSON.stringify({ ...state, tokens: 0, at: 0 }) !== before) {
          const temporary = `${file}.${process.pid}.tmp`;
          writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
          renameSync(temporary, file);
        }
        return result;
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
    } catch (error) {
      broken = true;
      options.onTrouble?.(
        `cannot coordinate with other runs through ${options.dir} (${(error as Error).message}); going on alone`,
      );
      return undefined;
    }
  }

  function expire(state: GateState, now: number): void {
    const alive = (lease: Lease): boolean => lease.until > now && isProcessAlive(lease.pid);
    state.requests = state.requests.filter(alive);
    state.tasks = state.tasks.filter(alive);
    // Tokens refill continuously up to the burst.
    state.tokens = Math.min(burst, state.tokens + ((now - state.at) * rate) / 1000);
    state.at = now;
  }

  /** Sleeps `ms` plus a little jitter, so that waiting processes do not all wake at once. */
  async function nap(
    ms: number,
    signal: AbortSignal | undefined,
    started: number,
    maxWaitMs: number | undefined,
    what: string,
  ) {
    const jittered = Math.ceil(ms + random() * Math.min(250, ms / 2 + 20));
    if (maxWaitMs !== undefined && Date.now() + jittered - started > maxWaitMs) {
      throw new TimeoutError(`--timeout reached while waiting for ${what}`);
    }
    await options.sleep(jittered, signal);
  }

  return {
    async request(signal, maxWaitMs) {
      const started = Date.now();
      const id = randomUUID();
      const waitFor = (state: GateState, now: number): number => {
        if (state.pausedUntil > now) return state.pausedUntil - now;
        if (state.requests.length >= maxInFlight) return 50;
        if (state.tokens < 1) return Math.ceil(((1 - state.tokens) * 1000) / rate);
        return 0;
      };
      for (;;) {
        const seen = await peek();
        const early = seen ? waitFor(seen, Date.now()) : 0;
        if (early > 0) {
          await nap(Math.min(early, MAX_PACING_MS), signal, started, maxWaitMs, 'a request slot of the account');
          continue;
        }
        const wait = await update((state, now) => {
          const needed = waitFor(state, now);
          if (needed > 0) return needed;
          state.tokens -= 1;
          state.requests.push({ id, pid: process.pid, until: now + requestLeaseMs });
          return 0;
        });
        if (wait === undefined || wait === 0) {
          return async () => {
            if (wait === undefined) return;
            await update((state) => {
              state.requests = state.requests.filter((lease) => lease.id !== id);
            });
          };
        }
        await nap(Math.min(wait, MAX_PACING_MS), signal, started, maxWaitMs, 'a request slot of the account');
      }
    },
    async strike(ms) {
      const pause = await update((state, now) => {
        // Repeated refusals within half a minute double the pause: 1 s, 2 s, 4 s … up to a minute.
        state.strikes = now - state.lastStrike < 30_000 ? state.strikes + 1 : 1;
        state.lastStrike = now;
        const grown = Math.min(MAX_PACING_MS, Math.max(ms, 1000 * 2 ** (state.strikes - 1)));
        state.pausedUntil = Math.max(state.pausedUntil, now + grown);
        return grown;
      });
      return pause ?? ms;
    },
    async pause(ms) {
      await update((state, now) => {
        state.pausedUntil = Math.max(state.pausedUntil, now + Math.min(ms, MAX_PACING_MS));
      });
    },
    async taskSlot(signal, maxWaitMs, onWait) {
      const started = Date.now();
      const id = randomUUID();
      let told = false;
      for (;;) {
        const seen = await peek();
        const got =
          seen && seen.tasks.length >= maxTasks
            ? false
            : await update((state, now) => {
                if (state.tasks.length >= maxTasks) return false;
                state.tasks.push({ id, pid: process.pid, until: now + taskLeaseMs });
                return true;
              });
        if (got !== false) {
          const change = (fn: (lease: Lease, now: number) => void): Promise<unknown> =>
            got === undefined
              ? Promise.resolve()
              : update((state, now) => {
                  const lease = state.tasks.find((l) => l.id === id);
                  if (lease) fn(lease, now);
                });
          return {
            bind: async (taskId) => {
              await change((lease, now) => {
                lease.task = taskId;
                lease.until = now + taskLeaseMs;
              });
            },
            release: async () => {
              await change((lease) => {
                lease.until = 0;
              });
            },
          };
        }
        if (!told) {
          told = true;
          onWait?.();
        }
        await nap(750 + random() * 750, signal, started, maxWaitMs, 'a free task slot of the account');
      }
    },
    async renewTask(taskId) {
      // Renewed when half its life is gone: a poll every few seconds need not write each time.
      const seen = await peek();
      const lease = seen?.tasks.find((l) => l.task === taskId);
      if (!lease || lease.until - Date.now() > taskLeaseMs / 2) return;
      await update((state, now) => {
        for (const lease of state.tasks) if (lease.task === taskId) lease.until = now + taskLeaseMs;
      });
    },
    async releaseTask(taskId) {
      if (!(await peek())?.tasks.some((l) => l.task === taskId)) return;
      await update((state) => {
        state.tasks = state.tasks.filter((lease) => lease.task !== taskId);
      });
    },
  };
}
