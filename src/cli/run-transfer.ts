/**
 * The action shared by `fetch` and `export`: check every input before anything is sent, open the
 * session (or a sandbox for `export --sandbox`), wire the spinner and bars, run the core, and say
 * in one line what was written.
 */
import { stat } from 'node:fs/promises';
import type { CommandContext } from './context.js';
import { csvOptionsFrom, type OutputFlags } from './output-options.js';
import { openSession, printJson } from './session.js';
import { createTaskSteps } from './task-steps.js';
import { createTransferProgress } from './transfer-progress.js';
import { createLog } from '../ui/log.js';
import { describeSummary } from '../ui/summary.js';
import type { ReportSpec } from '../reports/catalog.js';
import { MsAsyncError } from '../errors.js';
import type { TaskHints } from '../core/export.js';
import type { FetchResultSummary } from '../core/fetch-result.js';
import type { SliceSummary } from '../core/split-export.js';
import { buildCommandLine } from './command-line.js';
import { assertJsonHasStdout, checkColumns } from './transfer-checks.js';
import { resolveCacheDir } from '../download/cache.js';
import { parseMoscowTime } from '../moscow-time.js';

interface CommonTransfer extends OutputFlags {
  timeout: number;
  cancelOnInterrupt?: boolean | undefined;
}

export interface FetchTransfer extends CommonTransfer {
  kind: 'fetch';
  taskId: string;
  wait?: boolean | undefined;
  report?: string | undefined;
}

export interface ExportTransfer extends CommonTransfer {
  kind: 'export';
  report: string;
  param: Array<[string, string]>;
  reuse?: boolean | undefined;
  period?: string | undefined;
  split?: string | undefined;
  sandbox?: boolean | undefined;
  sandboxRows?: number | undefined;
}

export async function runTransfer(ctx: CommandContext, request: FetchTransfer | ExportTransfer): Promise<void> {
  const [
    { refuseColumnsWithoutCsv, resolveOutputTarget },
    { planExport },
    { reportFromArgument, reportFromRequestUrl },
    { exportReport, fetchTask },
    { createSummaryTracker },
  ] = await Promise.all([
    import('../core/output.js'),
    import('../core/export-plan.js'),
    import('../reports/request.js'),
    import('../core/export.js'),
    import('../core/summary.js'),
  ]);
  // Everything the user typed is checked before the first request (exit 2, nothing sent).
  const csv = csvOptionsFrom(request);
  // A bad --delimiter or --columns is exit 2 now, not after the wait (the rules only: the converter
  // itself runs in a worker thread for a file output).
  (await import('../convert/csv-rules.js')).resolveCsvOptions(csv);
  const built =
    request.kind === 'export'
      ? planExport({
          report: request.report,
          params: request.param,
          period: request.period,
          split: request.split,
          now: ctx.deps.now(),
        })
      : undefined;
  let spec: ReportSpec | undefined = built ? built.spec : reportFromArgument(request.report);
  checkColumns(request.report, spec, csv.columns);
  const target = await resolveOutputTarget(request.out, request.format);
  refuseColumnsWithoutCsv(target, csv);
  const outArgument = request.out ?? '-';
  assertJsonHasStdout(ctx, target.path);
  const tracker = createSummaryTracker({ path: target.path, format: target.format, now: ctx.deps.now });
  const hints = transferHints(ctx, request);

  const sandbox =
    request.kind === 'export' && request.sandbox ? await startLocalSandbox(request.sandboxRows) : undefined;
  const sessionCtx: CommandContext = sandbox
    ? { ...ctx, globals: { ...ctx.globals, baseUrl: sandbox.baseUrl, token: 'sandbox', profile: undefined } }
    : ctx;
  const log = createLog(ctx.deps.io, ctx.mode);
  const progress = await createTransferProgress(ctx);
  try {
    if (sandbox) log.info(`sandbox: serving ${sandbox.baseUrl} for this run`);
    const { client } = await openSession(sessionCtx);
    const steps = await createTaskSteps(sessionCtx, client, {
      timeoutMs: request.timeout,
      resumeHint: hints.resume,
      timeoutHint: hints.resumeAfterTimeout,
      onTaskUpdate: (task) => tracker.state(task.state),
    });
    if (request.kind === 'fetch') tracker.task(request.taskId, false);
    let ahead: { firstLink?: Promise<string> | undefined; deletionAt?: number | undefined } = {};
    if (request.kind === 'fetch' && (spec === undefined || !request.wait)) {
      // The task's request says which report it was (where its records are); its deletionDate,
      // how long kept bytes are worth keeping. Without --wait the result link is asked for at the
      // same time: one round trip less before the first byte. A failing task's error is the one shown.
      const link = new AbortController();
      const signal = ctx.deps.signal ? AbortSignal.any([ctx.deps.signal, link.signal]) : link.signal;
      const taskAnswer = client.getTask(request.taskId, { signal: ctx.deps.signal });
      const firstLink = request.wait ? undefined : client.getResultLink(request.taskId, { signal });
      firstLink?.catch(() => undefined);
      const task = await taskAnswer.catch((error: unknown) => {
        link.abort();
        throw error;
      });
      tracker.state(task.state);
      spec ??= reportFromRequestUrl(task.request);
      ahead = { firstLink, deletionAt: parseMoscowTime(task.deletionDate) };
    }
    const fetchPart = {
      target,
      report: spec,
      csv,
      stdout: ctx.deps.io.stdout,
      cacheDir: resolveCacheDir(ctx.deps.io.env),
      now: ctx.deps.now,
      sleep: ctx.deps.sleep,
      signal: ctx.deps.signal,
      onDownloadProgress: progress.onDownloadProgress,
      onConvertProgress: progress.onConvertProgress,
      onLog: ctx.mode.verbose ? (line: string) => log.verbose(line) : undefined,
      onWarning: (line: string) => log.warn(line),
      cancelOnInterrupt: request.cancelOnInterrupt === true,
      outArgument,
      hints,
      onCancelled: (id: string) => {
        tracker.state('CANCEL');
        log.info(`task ${id} cancelled`);
      },
      trace: ctx.deps.trace,
    };
    const split =
      request.kind === 'export' && built?.slices
        ? { ...fetchPart, slices: built.slices, reuse: request.reuse === true, timeoutMs: request.timeout }
        : undefined;
    const result = split
      ? await (await import('./split-run.js')).runSplit(sessionCtx, client, split)
      : request.kind === 'export'
        ? await exportReport(steps, {
            ...fetchPart,
            pathAndQuery: built?.pathAndQuery ?? '',
            reuse: request.reuse === true,
            onTaskStarted: (task) => {
              tracker.task(task.id, task.reused);
              tracker.state(task.state ?? (task.reused ? 'DONE' : 'PENDING'));
              log.info(task.reused ? `reusing task ${task.id} (${task.state ?? 'DONE'})` : `task ${task.id} created`);
            },
          })
        : await fetchTask(steps, { ...fetchPart, ...ahead, taskId: request.taskId, wait: request.wait === true });
    progress.stop();
    const done: FetchResultSummary & { taskId?: string; reused?: boolean; slices?: SliceSummary[] } = result;
    if (done.taskId !== undefined) tracker.task(done.taskId, done.reused === true);
    tracker.state('DONE');
    tracker.converted(done, done.path === undefined ? null : (await stat(done.path)).size);
    const summary = { ...tracker.snapshot(), ...(done.slices ? { slices: done.slices } : {}) };
    if (ctx.globals.json) printJson(ctx, summary);
    if (result.path !== undefined) log.info(describeSummary(summary, outArgument));
  } catch (error) {
    if (error instanceof MsAsyncError && tracker.hasTask) error.summary = { ...tracker.snapshot() };
    throw error;
  } finally {
    progress.stop();
    await sandbox?.close();
  }
}

/**
 * The hints of a transfer: under `--sandbox` the task lived in a sandbox that is gone, so the only
 * useful command is the whole export again; otherwise a fetch that keeps every output flag typed.
 */
function transferHints(
  ctx: CommandContext,
  request: FetchTransfer | ExportTransfer,
): TaskHints & { resumeAfterTimeout?: (taskId: string) => string } {
  if (request.kind === 'export' && request.sandbox) {
    const again = `the task lived in this run's sandbox, which is gone; run it again: ${buildCommandLine(ctx.command, {
      words: ['export', request.report],
    })}`;
    return { resume: () => again, fetchLater: () => again };
  }
  return {
    resume: (id) => `resume with: ${buildCommandLine(ctx.command, { words: ['fetch', id], extra: ['--wait'] })}`,
    // The --timeout just reached would only be reached again: the hint waits with fetch's default.
    resumeAfterTimeout: (id) =>
      `resume with: ${buildCommandLine(ctx.command, { words: ['fetch', id], extra: ['--wait'], drop: ['--timeout'] })}`,
    fetchLater: (id) => `fetch it later with: ${buildCommandLine(ctx.command, { words: ['fetch', id] })}`,
  };
}

/** The sandbox of `export --sandbox`: quick task delays, so that a first export takes seconds. */
async function startLocalSandbox(rows: number | undefined) {
  const { startSandbox } = await import('../sandbox/index.js');
  return startSandbox({ rows: rows ?? 1000, pendingMs: 300, processingMs: 700 });
}
