/**
 * export = start (or reuse) + wait + fetch + convert, and fetch = (wait +) fetch + convert.
 * The orchestration only: each step is a function handed in, so the CLI wires the client, the
 * poller and the terminal, and tests can drive it against the sandbox.
 */
import { InterruptedError } from '../errors.js';
import type { AsyncTask, CreatedTask } from '../api/types.js';
import { fetchResult, type FetchResultOptions, type FetchResultSummary } from './fetch-result.js';
import { parseMoscowTime } from '../moscow-time.js';
import { cancelAfterInterrupt } from './cancel.js';
import { pickReusableTask } from './reuse.js';

export interface TaskSteps {
  /** Tasks of the last week that may be reused (PENDING, PROCESSING, DONE). */
  listReusable: () => Promise<AsyncTask[]>;
  /** Creates the task, waiting for a free queue slot (61002) within the timeout. */
  start: (pathAndQuery: string) => Promise<CreatedTask>;
  /** Polls until a final state; DONE returns, other final states throw their error. */
  waitDone: (taskId: string) => Promise<AsyncTask>;
  cancel: (taskId: string) => Promise<void>;
  getResultLink: (taskId: string) => Promise<string>;
  now: () => number;
}

export interface ExportEvents {
  onTaskStarted?: (task: { id: string; reused: boolean; state?: string }) => void;
  onCancelled?: (taskId: string) => void;
}

export type FetchPart = Omit<FetchResultOptions, 'taskId' | 'getResultLink'>;

export interface ExportOptions extends FetchPart, ExportEvents {
  /** Path and query of the report request, without async=true. */
  pathAndQuery: string;
  reuse: boolean;
  cancelOnInterrupt: boolean;
  /** `--out` as the user typed it, for the default hints. */
  outArgument: string;
  /** The hints; default: plain `ms-async fetch <id> … --out <out>` commands (a batch job has no command line). */
  hints?: TaskHints | undefined;
  /** Runs the download and conversion; a batch bounds how many run at once. Default: at once. */
  transferGate?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** The next command to run; the command layer builds it from what the user typed (src/cli/command-line.ts). */
export interface TaskHints {
  /** After an interrupted or timed-out wait: the command that waits again and fetches. */
  resume: (taskId: string) => string;
  /** After an interrupted download: the command that fetches the (finished) task's result. */
  fetchLater: (taskId: string) => string;
}

export interface ExportSummary extends FetchResultSummary {
  taskId: string;
  reused: boolean;
}

export async function exportReport(steps: TaskSteps, options: ExportOptions): Promise<ExportSummary> {
  let taskId: string;
  let reused = false;
  const candidate = options.reuse
    ? pickReusableTask(await steps.listReusable(), options.pathAndQuery, steps.now())
    : undefined;
  if (candidate) {
    taskId = candidate.id;
    reused = true;
    options.onTaskStarted?.({ id: taskId, reused, state: candidate.state });
  } else {
    taskId = (await steps.start(options.pathAndQuery)).id;
    options.onTaskStarted?.({ id: taskId, reused });
  }
  const done = await waitForResult(steps, taskId, options);
  const fetch = (): Promise<FetchResultSummary> =>
    fetchWithHint(steps, taskId, { ...options, deletionAt: deletionOf(done) });
  const summary = options.transferGate ? await options.transferGate(fetch) : await fetch();
  return { ...summary, taskId, reused };
}

export interface FetchTaskOptions extends FetchPart, ExportEvents {
  taskId: string;
  wait: boolean;
  cancelOnInterrupt: boolean;
  outArgument: string;
  hints?: TaskHints | undefined;
}

export async function fetchTask(steps: TaskSteps, options: FetchTaskOptions): Promise<FetchResultSummary> {
  const done = options.wait ? await waitForResult(steps, options.taskId, options) : undefined;
  return fetchWithHint(steps, options.taskId, { ...options, deletionAt: deletionOf(done) ?? options.deletionAt });
}

/** Ctrl-C during the download: the result stays on the server until its deletionDate. */
async function fetchWithHint(steps: TaskSteps, taskId: string, options: FetchPart & HintSource) {
  try {
    return await fetchResult({ ...options, taskId, getResultLink: steps.getResultLink });
  } catch (error) {
    if (error instanceof InterruptedError && !error.hint) {
      throw new InterruptedError(error.message, { hint: hintsOf(options).fetchLater(taskId) });
    }
    throw error;
  }
}

/** Waits for DONE; on Ctrl-C leaves the task running (or cancels it) and says how to resume. */
async function waitForResult(
  steps: TaskSteps,
  taskId: string,
  options: { cancelOnInterrupt: boolean } & HintSource & ExportEvents,
): Promise<AsyncTask> {
  try {
    return await steps.waitDone(taskId);
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    if (options.cancelOnInterrupt) {
      throw await cancelAfterInterrupt(() => steps.cancel(taskId), taskId, options.onCancelled);
    }
    throw new InterruptedError(`interrupted; task ${taskId} goes on running on the server`, {
      hint: hintsOf(options).resume(taskId),
    });
  }
}

/** The task's deletionDate as epoch ms, when it has a readable one. */
function deletionOf(task: AsyncTask | undefined): number | undefined {
  return parseMoscowTime(task?.deletionDate);
}

interface HintSource {
  outArgument: string;
  hints?: TaskHints | undefined;
}

function hintsOf(options: HintSource): TaskHints {
  return (
    options.hints ?? {
      resume: (taskId) => resumeCommand(taskId, options.outArgument),
      fetchLater: (taskId) => `fetch it later with: ms-async fetch ${taskId} --out ${shellQuote(options.outArgument)}`,
    }
  );
}

/** The plain resume command, for runs without a command line to rebuild (a batch job). */
export function resumeCommand(taskId: string, out: string): string {
  return `resume with: ms-async fetch ${taskId} --wait --out ${shellQuote(out)}`;
}

function shellQuote(text: string): string {
  return /^[\w./:=@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
