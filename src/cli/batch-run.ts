/**
 * `ms-async batch <file>`: check every job before anything is sent, then run them all at once
 * within each account's limits, show one line per job, and end with the first failed job's exit
 * code in file order (README "Batch").
 */
import type { AccountPool } from '../core/accounts.js';
import type { JobOutcome } from '../core/batch.js';
import type { ExportSummary } from '../core/export.js';
import type { SliceSummary } from '../core/split-export.js';
import type { ExportSummaryJson } from '../core/summary.js';
import type { ExportPlan } from '../core/export-plan.js';
import type { OutputTarget } from '../core/output.js';
import type { CsvOptions } from '../convert/index.js';
import { resolveCacheDir } from '../download/cache.js';
import { BatchError, InterruptedError, UsageError, exitCodeOf, type MsAsyncError } from '../errors.js';
import { errorToJson } from '../ui/errors.js';
import { createLog } from '../ui/log.js';
import type { BatchJob } from './batch-jobs.js';
import { createBatchView, downloadProgress, recordProgress } from './batch-view.js';
import type { CommandContext } from './context.js';
import { printJson } from './session.js';
import { csvOptionsFrom, type OutputFlags } from './output-options.js';
import { TASKS_PER_ACCOUNT } from './split-run.js';
import { formatCount } from '../count.js';

export interface BatchFlags {
  failFast?: boolean;
  dryRun?: boolean;
  /** From the command line only when given there (they sit under the file's own values). */
  commandLine: Record<string, unknown>;
}

/** Our task slots one split job may hold while other jobs share its account. */
const SLOTS_PER_SPLIT_JOB = 2;

/** Downloads and conversions at once: they take a core each, and this machine may have two. */
const TRANSFERS_AT_ONCE = 2;

interface PreparedJob {
  job: BatchJob;
  plan: ExportPlan;
  target: OutputTarget;
  csv: Partial<CsvOptions>;
  timeoutMs: number;
}

export async function runBatch(ctx: CommandContext, file: string, flags: BatchFlags): Promise<void> {
  const { readJobFile } = await import('./batch-jobs.js');
  const { jobs, problems } = await readJobFile(file, { commandLine: flags.commandLine });
  const prepared = await prepareJobs(ctx, jobs, problems);
  const { createAccountPool } = await import('../core/accounts.js');
  const log = createLog(ctx.deps.io, ctx.mode);
  const pool = createAccountPool(
    {
      globals: ctx.globals,
      env: ctx.deps.io.env,
      configDir: ctx.deps.configDir,
      now: ctx.deps.now,
      sleep: ctx.deps.sleep,
      onLog: ctx.mode.verbose ? (line) => log.verbose(line) : undefined,
    },
    TASKS_PER_ACCOUNT,
  );
  // Credentials of every account are checked before the first request, too.
  const connections = await Promise.all(prepared.map((p) => pool.connection(p.job.profile)));
  if (flags.dryRun) {
    printDryRun(
      ctx,
      prepared,
      connections.map((c) => c.baseUrl),
    );
    return;
  }
  await runPrepared(ctx, prepared, pool, flags.failFast === true);
}

/**
 * The checks `export` makes before its first request, for every job: each check runs even when an
 * earlier one (or the file's own, in `problems`) failed, so that one run lists every problem.
 */
async function prepareJobs(
  ctx: CommandContext,
  jobs: readonly BatchJob[],
  fileProblems: readonly string[],
): Promise<PreparedJob[]> {
  const [
    { planExport },
    { resolveOutputTarget, refuseColumnsWithoutCsv },
    { resolveCsvOptions },
    { jobFileError },
    { checkColumns },
  ] = await Promise.all([
    import('../core/export-plan.js'),
    import('../core/output.js'),
    import('../convert/csv.js'),
    import('./batch-jobs.js'),
    import('./transfer-checks.js'),
  ]);
  const problems: string[] = [...fileProblems];
  const prepared: PreparedJob[] = [];
  for (const job of jobs) {
    const f = job.flags;
    const failures: string[] = [];
    const check = async <T>(field: string, work: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        const { name, message } = fieldOf(error.message, field);
        failures.push(`job ${job.index} (${job.report}): field "${name}": ${message}`);
        return undefined;
      }
    };
    const csv = csvOptionsFrom(f as OutputFlags);
    await check('columns', () => resolveCsvOptions(csv));
    const period = f.period as string | undefined;
    const split = f.split as string | undefined;
    // An empty report was named by the file check already; the report alone first, so that a bad
    // period is told apart from an unknown report.
    const bare = job.report
      ? await check('report', () => planExport({ report: job.report, params: f.param, now: ctx.deps.now() }))
      : undefined;
    const plan =
      bare && (period !== undefined || split !== undefined)
        ? await check(split !== undefined && period === undefined ? 'split' : 'period', () =>
            planExport({ report: job.report, params: f.param, period, split, now: ctx.deps.now() }),
          )
        : bare;
    if (bare) await check('columns', () => checkColumns(job.report, bare.spec, csv.columns));
    const target = await check('out', () => resolveOutputTarget(f.out, f.format as string | undefined));
    if (target) await check('columns', () => refuseColumnsWithoutCsv(target, csv));
    problems.push(...failures);
    if (plan && target && failures.length === 0) {
      prepared.push({ job, plan, target, csv, timeoutMs: Number(f.timeout ?? 0) });
    }
  }
  if (problems.length > 0) throw jobFileError(problems);
  return prepared;
}

/** A message that starts with the flag it is about (`--split needs …`) names the job's field. */
function fieldOf(message: string, fallback: string): { name: string; message: string } {
  const flag = /^--([a-z][a-z-]*)(:?)\s/.exec(message);
  if (!flag?.[1]) return { name: fallback, message };
  const name = flag[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { name, message: flag[2] ? message.slice(flag[0].length) : message };
}

function requestsOf(plan: ExportPlan): string[] {
  return plan.slices ? plan.slices.map((s) => s.pathAndQuery) : [plan.pathAndQuery];
}

function withAsync(pathAndQuery: string): string {
  return `${pathAndQuery}${pathAndQuery.includes('?') ? '&' : '?'}async=true`;
}

/** `--dry-run`: the requests each job would make (stdout: it is the command's answer), nothing sent. */
function printDryRun(ctx: CommandContext, prepared: readonly PreparedJob[], baseUrls: readonly string[]): void {
  const entries = prepared.map((p, i) => ({
    index: p.job.index,
    report: p.job.report,
    out: p.job.outArgument,
    path: p.target.path ?? null,
    format: p.target.format,
    requests: requestsOf(p.plan).map((r) => `GET ${baseUrls[i]}${withAsync(r)}`),
  }));
  if (ctx.globals.json) {
    printJson(ctx, entries);
    return;
  }
  for (const entry of entries) {
    ctx.deps.io.stdout.write(`job ${entry.index} ${entry.report} → ${entry.out} (${entry.format})\n`);
    for (const request of entry.requests) ctx.deps.io.stdout.write(`  ${request}\n`);
  }
}

async function runPrepared(
  ctx: CommandContext,
  prepared: readonly PreparedJob[],
  pool: AccountPool,
  failFast: boolean,
): Promise<void> {
  const [
    { runJobs },
    { exportReport, resumeCommand },
    { exportSplit },
    { createCoreTaskSteps },
    { createSemaphore, nestSemaphores },
    { exportSummaryJson },
  ] = await Promise.all([
    import('../core/batch.js'),
    import('../core/export.js'),
    import('../core/split-export.js'),
    import('../core/task-steps.js'),
    import('../core/semaphore.js'),
    import('../core/summary.js'),
  ]);
  const { deps } = ctx;
  const log = createLog(deps.io, ctx.mode);
  const view = createBatchView(
    deps.io,
    ctx.mode,
    prepared.map((p) => ({ index: p.job.index, report: p.job.report, out: p.job.outArgument })),
    deps.now,
  );
  const transfers = createSemaphore(TRANSFERS_AT_ONCE);
  const taskOf = new Map<number, string>();
  const jobsPerProfile = new Map<string | undefined, number>();
  for (const p of prepared) jobsPerProfile.set(p.job.profile, (jobsPerProfile.get(p.job.profile) ?? 0) + 1);
  // Said after the last frame: a line written mid-run would tear the in-place job lines.
  const warnings: string[] = [];

  const run = (p: PreparedJob, i: number) => async (signal: AbortSignal) => {
    const started = deps.now();
    const account = await pool.account(p.job.profile);
    const outArgument = p.target.path ?? p.job.outArgument;
    // A split job's slices are many tasks: its line says "running" and counts slices instead.
    const split = p.plan.slices !== undefined;
    // Beside other jobs of its account, a split job holds at most 2 of the 4 slots (no starving).
    const slots =
      split && (jobsPerProfile.get(p.job.profile) ?? 1) > 1
        ? nestSemaphores(createSemaphore(SLOTS_PER_SPLIT_JOB), account.taskSlots)
        : account.taskSlots;
    const stepsFor = (stepSignal: AbortSignal) =>
      createCoreTaskSteps(account.client, {
        timeoutMs: p.timeoutMs,
        sleep: deps.sleep,
        now: deps.now,
        signal: stepSignal,
        taskSlots: slots,
        resumeHint: (id) => resumeCommand(id, outArgument),
        onSlotWait: () => view.update(i, { state: 'waiting', note: 'for one of our 4 task slots' }),
        onQueueFull: () =>
          view.update(i, { state: 'queue full', note: "tasks of others fill the account's queue (61002)" }),
        onUpdate: (_id, task) => view.update(i, { state: split ? 'running' : task.state, note: undefined }),
      });
    const fetchPart = {
      target: p.target,
      report: p.plan.spec,
      csv: p.csv,
      stdout: deps.io.stdout,
      cacheDir: resolveCacheDir(deps.io.env),
      sleep: deps.sleep,
      signal,
      onDownloadProgress: (d: { transferred: number; total: number | undefined }) =>
        view.update(i, { state: 'downloading', progress: downloadProgress(d.transferred, d.total) }),
      onConvertProgress: (c: { records: number; total?: number }) =>
        view.update(i, { state: 'converting', progress: recordProgress(c.records, c.total) }),
      onLog: ctx.mode.verbose ? (line: string) => log.verbose(`job ${p.job.index}: ${line}`) : undefined,
      onWarning: (line: string) => warnings.push(`job ${p.job.index} (${p.job.report}): ${line}`),
      cancelOnInterrupt: p.job.flags.cancelOnInterrupt === true,
      outArgument,
      transferGate: <T>(work: () => Promise<T>) => transfers.run(work, signal),
      reuse: p.job.flags.reuse === true,
    };
    let summary: ExportSummary & { slices?: SliceSummary[] };
    if (p.plan.slices) {
      let done = 0;
      const total = p.plan.slices.length;
      summary = await exportSplit({
        ...fetchPart,
        slices: p.plan.slices,
        stepsFor,
        onSliceTask: (_slice, task) => taskOf.set(i, task.id),
        onSliceDone: () => view.update(i, { progress: `${(done += 1)}/${total} slices` }),
      });
    } else {
      summary = await exportReport(stepsFor(signal), {
        ...fetchPart,
        pathAndQuery: p.plan.pathAndQuery,
        onTaskStarted: (task) => {
          taskOf.set(i, task.id);
          view.update(i, { state: task.reused ? 'reused' : 'PENDING', note: `task ${task.id}` });
        },
      });
    }
    const json = await exportSummaryJson(summary, { format: p.target.format, durationMs: deps.now() - started });
    view.update(i, { state: 'written', progress: undefined, note: `${formatCount(json.rows)} rows` });
    return json;
  };

  let outcomes: Array<JobOutcome<ExportSummaryJson>>;
  try {
    outcomes = await runJobs(prepared.map(run), {
      signal: deps.signal,
      failFast,
      onOutcome: (i, outcome) => {
        if (outcome.status === 'done') return;
        const interrupted = outcome.error instanceof InterruptedError;
        view.update(i, {
          state: outcome.status === 'stopped' ? 'stopped' : interrupted ? 'interrupted' : 'failed',
          progress: undefined,
          note: outcome.status === 'stopped' ? 'by --fail-fast' : messageOf(outcome.error),
        });
      },
    });
  } finally {
    view.stop();
    for (const line of warnings) log.warn(line);
  }

  if (ctx.globals.json) {
    printJson(
      ctx,
      outcomes.map((outcome, i) => {
        const p = prepared[i] as PreparedJob;
        const head = { index: p.job.index, report: p.job.report, out: p.job.outArgument };
        if (outcome.status === 'done') return { ...head, ...outcome.value };
        return { ...head, ...errorToJson(outcome.error), ...(outcome.status === 'stopped' ? { stopped: true } : {}) };
      }),
    );
  }
  const failed = outcomes.flatMap((o, i) => (o.status === 'failed' ? [{ i, error: o.error }] : []));
  const stopped = outcomes.filter((o) => o.status === 'stopped').length;
  const done = outcomes.length - failed.length - stopped;
  const ended = deps.signal.aborted ? 'interrupted' : 'failed';
  log.info(
    `batch: ${done} of ${outcomes.length} jobs done${failed.length ? `, ${failed.length} ${ended}` : ''}` +
      `${stopped ? `, ${stopped} stopped` : ''}`,
  );
  if (deps.signal.aborted) {
    const hints = outcomes.flatMap((o, i) => {
      if (o.status === 'done') return [];
      const p = prepared[i] as PreparedJob;
      const task = taskOf.get(i);
      // A split job's slices are picked up again by the batch itself, with --reuse.
      const hint = p.plan.slices
        ? task && "its slices' tasks go on running; run the batch again with --reuse to pick them up"
        : (o.error as MsAsyncError | undefined)?.hint;
      const what =
        hint ?? (task ? `task ${task} goes on running on the server` : 'no task was created; run the batch again');
      return [`job ${p.job.index} (${p.job.report}): ${what}`];
    });
    throw new BatchError('interrupted; tasks already created go on running on the server', 130, {
      hint: hints.length ? `\n    ${hints.join('\n    ')}` : undefined,
    });
  }
  const first = failed[0];
  if (first) {
    const p = prepared[first.i] as PreparedJob;
    throw new BatchError(
      `${failed.length} of ${outcomes.length} jobs failed; the first in the file: job ${p.job.index} (${p.job.report}): ${messageOf(first.error)}`,
      exitCodeOf(first.error),
      { hint: (first.error as MsAsyncError | undefined)?.hint },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
