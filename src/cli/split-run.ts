/**
 * `export --period … --split …` on the terminal: the slices' tasks run at most 4 at once (the
 * account's queue, docs/api-facts.md §3.1) and are told about in plain lines on stderr — a
 * spinner per slice would fight over one line.
 */
import type { ApiClient } from '../api/client.js';
import { resumeCommand } from '../core/export.js';
import type { PlannedSlice } from '../core/export-plan.js';
import { createSemaphore } from '../core/semaphore.js';
import { exportSplit, type SplitExportOptions, type SplitExportSummary } from '../core/split-export.js';
import { createCoreTaskSteps } from '../core/task-steps.js';
import { periodParams } from '../reports/period.js';
import { createLog } from '../ui/log.js';
import type { CommandContext } from './context.js';
import { formatCount } from '../count.js';

/** Our tasks queued or running at once, per account (the API's queue holds 4). */
export const TASKS_PER_ACCOUNT = 4;

type SplitRunOptions = Omit<SplitExportOptions, 'stepsFor' | 'cancelOnInterrupt'> & {
  slices: readonly PlannedSlice[];
  timeoutMs: number;
  cancelOnInterrupt: boolean;
};

export async function runSplit(
  ctx: CommandContext,
  client: ApiClient,
  options: SplitRunOptions,
): Promise<SplitExportSummary> {
  const log = createLog(ctx.deps.io, ctx.mode);
  const slots = createSemaphore(TASKS_PER_ACCOUNT);
  const label = (i: number): string => {
    const slice = options.slices[i];
    if (!slice) return `slice ${i + 1}`;
    const { momentFrom, momentTo } = periodParams(slice.period);
    return `slice ${i + 1}/${options.slices.length} (${momentFrom.slice(0, 10)}..${momentTo.slice(0, 10)})`;
  };
  const sliceOf = new Map<string, number>();
  log.info(`${options.slices.length} slices, at most ${TASKS_PER_ACCOUNT} tasks at once`);
  return exportSplit({
    ...options,
    stepsFor: (signal) =>
      createCoreTaskSteps(client, {
        timeoutMs: options.timeoutMs,
        sleep: ctx.deps.sleep,
        now: ctx.deps.now,
        signal,
        taskSlots: slots,
        resumeHint: (id) => resumeCommand(id, options.outArgument),
        onQueueFull: () => log.info("the account's async queue is full (61002); waiting for a free slot…"),
        onUpdate: (id, task) => {
          const i = sliceOf.get(id);
          if (i !== undefined && task.state !== 'DONE') log.verbose(`${label(i)}: task ${id} ${task.state}`);
        },
      }),
    onSliceTask: (i, task) => {
      sliceOf.set(task.id, i);
      log.info(`${label(i)}: ${task.reused ? 'reusing' : 'created'} task ${task.id}`);
    },
    onSliceDone: (i, records) => log.info(`${label(i)}: ${formatCount(records)} records`),
  });
}
