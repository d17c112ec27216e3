import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { parseTaskId } from '../options.js';
import { openSession, printJson, printLines, stdoutColor } from '../session.js';
import { timeoutOption } from './start.js';

export interface StatusOptions {
  wait?: boolean;
  timeout: number;
  cancelOnInterrupt?: boolean;
}

export function registerStatus(program: Command, deps: CliDeps): void {
  program
    .command('status')
    .description("show a task's state; with --wait, poll until it is DONE, ERROR, CANCEL or API_ERROR")
    .usage('<id> [--wait] [--timeout <duration>] [--cancel-on-interrupt]')
    .argument('<id>', 'task id (printed by `ms-async start`, listed by `ms-async list`)', parseTaskId)
    .option('--wait', 'poll until a final state (exit code by state: DONE 0, API_ERROR 4/3, ERROR/CANCEL 5)')
    .addOption(timeoutOption('how long --wait may wait; 0 = no limit'))
    .option('--cancel-on-interrupt', 'on Ctrl-C, cancel the task instead of leaving it running')
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async status 5d2b7e40-1c9a-11f0-0a80-0b4c00000012
  $ ms-async status 5d2b7e40-1c9a-11f0-0a80-0b4c00000012 --wait --timeout 10m --json`,
    )
    .action(async (id: string, opts: StatusOptions, command: Command) => {
      const ctx = commandContext(command, deps);
      const { getTaskStatus } = await import('../../core/status.js');
      const { createTaskWatcher } = await import('../../ui/spinner.js');
      const { renderTaskDetails } = await import('../../ui/format.js');
      const { client } = await openSession(ctx);
      const watcher = opts.wait ? await createTaskWatcher(deps.io, ctx.mode, id, deps.now) : undefined;
      let result: Awaited<ReturnType<typeof getTaskStatus>>;
      try {
        result = await getTaskStatus(client, id, {
          wait: opts.wait === true,
          timeoutMs: opts.timeout,
          cancelOnInterrupt: opts.cancelOnInterrupt === true,
          sleep: deps.sleep,
          now: deps.now,
          signal: deps.signal,
          ...(watcher ? { onUpdate: watcher.onUpdate } : {}),
        });
      } finally {
        watcher?.stop();
      }
      // With --json a failed state prints only the error document (it carries the task).
      if (ctx.globals.json && !result.error) printJson(ctx, result.task);
      if (!ctx.globals.json)
        printLines(ctx, renderTaskDetails(result.task, { now: deps.now(), color: stdoutColor(ctx) }));
      if (result.error) throw result.error;
    });
}
