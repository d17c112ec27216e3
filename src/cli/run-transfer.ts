/**
 * The action shared by `fetch` and `export`: check every input before anything is sent, open the
 * session (or a sandbox for `export --sandbox`), wire the spinner and bars, run the core, and say
 * in one line what was written.
 */
import { stat } from 'node:fs/promises';
import type { CommandContext } from './context.js';
import { csvOptionsFrom, type OutputFlags } from './output-options.js';
import { openSession } from './session.js';
import { createTaskSteps } from './task-steps.js';
import { createTransferProgress } from './transfer-progress.js';
import { createLog } from '../ui/log.js';
import { formatBytes } from '../ui/progress.js';
import type { ReportSpec } from '../reports/catalog.js';

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
    { reportFromRequestUrl },
    { exportReport, fetchTask, resumeCommand },
    { reportFromArgument },
  ] = await Promise.all([
    import('../core/output.js'),
    import('../core/export-plan.js'),
    import('../reports/request.js'),
    import('../core/export.js'),
    import('../core/convert-local.js'),
  ]);
  // Everything the user typed is checked before the first request (exit 2, nothing sent).
  const csv = csvOptionsFrom(request);
  (await import('../convert/index.js')).resolveCsvOptions(csv); // a bad --delimiter or --columns is exit 2 now, not after the wait
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
  const target = await resolveOutputTarget(request.out, request.format);
  refuseColumnsWithoutCsv(target, csv);
  const outArgument = request.out ?? '-';

  const sandbox = request.kind === 'export' && request.sandbox ? await startLocalSandbox(request.sandboxRows) : undefined;
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
      resumeHint: (id) => resumeCommand(id, outArgument),
    });
    if (request.kind === 'fetch' && spec === undefined) {
      // The task's request says which report it was, and so where its records are.
      const task = await client.getTask(request.taskId, { signal: ctx.deps.signal });
      spec = reportFromRequestUrl(task.request);
    }
    const fetchPart = {
      target,
      report: spec,
      csv,
      stdout: ctx.deps.io.stdout,
      sleep: ctx.deps.sleep,
      signal: ctx.deps.signal,
      onDownloadProgress: progress.onDownloadProgress,
      onConvertProgress: progress.onConvertProgress,
      onLog: ctx.mode.verbose ? (line: string) => log.verbose(line) : undefined,
      onWarning: (line: string) => log.warn(line),
      cancelOnInterrupt: request.cancelOnInterrupt === true,
      outArgument,
      onCancelled: (id: string) => log.info(`task ${id} cancelled`),
      trace: ctx.deps.trace,
    };
    const split = request.kind === 'export' && built?.slices
      ? { ...fetchPart, slices: built.slices, reuse: request.reuse === true, timeoutMs: request.timeout }
      : undefined;
    const summary = split
      ? await (await import('./split-run.js')).runSplit(sessionCtx, client, split)
      : request.kind === 'export'
        ? await exportReport(steps, {
            ...fetchPart,
            pathAndQuery: built?.pathAndQuery ?? '',
            reuse: request.reuse === true,
            onTaskStarted: (task) =>
              log.info(task.reused ? `reusing task ${task.id} (${task.state ?? 'DONE'})` : `task ${task.id} created`),
          })
        : await fetchTask(steps, { ...fetchPart, taskId: request.taskId, wait: request.wait === true });
    progress.stop();
    if (summary.path !== undefined) {
      const size = (await stat(summary.path)).size;
      log.info(
        `wrote ${summary.records.toLocaleString('en-US')} records to ${outArgument} ` +
          `(${formatBytes(size)} ${target.format}, from a ${formatBytes(summary.bytes)} result)`,
      );
    }
  } finally {
    progress.stop();
    await sandbox?.close();
  }
}

/** The sandbox of `export --sandbox`: quick task delays, so that a first export takes seconds. */
async function startLocalSandbox(rows: number | undefined) {
  const { startSandbox } = await import('../sandbox/index.js');
  return startSandbox({ rows: rows ?? 1000, pendingMs: 300, processingMs: 700 });
}
