/**
 * Runs a batch's jobs concurrently and says how each ended (issue 9). The limits live elsewhere —
 * the account's task semaphore and the API client's in-flight limiter and pacing, shared by the
 * jobs of one account — so every job starts at once and waits where a limit says so.
 * One job failing does not stop the others, unless `failFast`: then the rest are stopped and
 * reported as such, not as failures of their own.
 */
import { setMaxListeners } from 'node:events';

export type JobOutcome<T> =
  | { status: 'done'; value: T }
  | { status: 'failed'; error: unknown }
  | { status: 'stopped'; error: unknown };

export interface RunJobsOptions {
  /** The run's signal (Ctrl-C). */
  signal: AbortSignal;
  failFast: boolean;
  onOutcome?: (index: number, outcome: JobOutcome<unknown>) => void;
}

export async function runJobs<T>(
  jobs: ReadonlyArray<(signal: AbortSignal) => Promise<T>>,
  options: RunJobsOptions,
): Promise<Array<JobOutcome<T>>> {
  const stop = new AbortController();
  // Every job (slice) and each of its requests and waits listens to this one signal: not a leak.
  setMaxListeners(0, stop.signal);
  const onAbort = (): void => stop.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  let failedFast = false;
  try {
    return await Promise.all(
      jobs.map(async (job, index): Promise<JobOutcome<T>> => {
        let outcome: JobOutcome<T>;
        try {
          outcome = { status: 'done', value: await job(stop.signal) };
        } catch (error) {
          if (failedFast && !options.signal.aborted) {
            outcome = { status: 'stopped', error };
          } else {
            outcome = { status: 'failed', error };
            if (options.failFast && !stop.signal.aborted) {
              failedFast = true;
              stop.abort(error);
            }
          }
        }
        options.onOutcome?.(index, outcome);
        return outcome;
      }),
    );
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}
