import { Option, type Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { collectParam, parseTimeout, DEFAULT_TIMEOUT } from '../options.js';
import { openSession, printJson } from '../session.js';
import { QUEUE_FULL_LINE } from '../task-steps.js';

export interface StartOptions {
  param: Array<[string, string]>;
  timeout: number;
}

export function registerStart(program: Command, deps: CliDeps): void {
  program
    .command('start')
    .description('create an async task for a report and print its id')
    .usage('<report> [-p <key=value>]... [--timeout <duration>]')
    .argument('<report>', 'catalogue alias (see `ms-async reports`) or an API path beginning with /')
    .option('-p, --param <key=value>', 'query parameter, repeatable (filter, momentFrom, groupBy …)', collectParam, [])
    .addOption(timeoutOption("how long to wait for a free slot when the account's queue is full (61002); 0 = no limit"))
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async start stock-bystore -p filter="stockMode=all"
  $ ms-async start /report/profit/byproduct?momentFrom=2026-11-01%2000:00:00 --json`,
    )
    .action(async (report: string, opts: StartOptions, command: Command) => {
      const ctx = commandContext(command, deps);
      const { buildReportRequest } = await import('../../reports/request.js');
      const { pathAndQuery } = buildReportRequest(report, opts.param); // exit 2 before any request
      const { startTask } = await import('../../core/start.js');
      const { createLog } = await import('../../ui/log.js');
      const log = createLog(deps.io, ctx.mode);
      const { client } = await openSession(ctx);
      const task = await startTask(client, pathAndQuery, {
        timeoutMs: opts.timeout,
        sleep: deps.sleep,
        now: deps.now,
        signal: deps.signal,
        onQueueFull: () => log.info(QUEUE_FULL_LINE),
      });
      if (ctx.globals.json) printJson(ctx, { ...task, state: 'PENDING' });
      else {
        deps.io.stdout.write(`${task.id}\n`);
        log.info(`task created; follow it with: ms-async status ${task.id} --wait`);
      }
    });
}

/** `--timeout <duration>` parsed to milliseconds, default 30m. */
export function timeoutOption(description: string): Option {
  return new Option('--timeout <duration>', `${description} (90s, 15m, 2h)`)
    .argParser(parseTimeout)
    .default(parseTimeout(DEFAULT_TIMEOUT), DEFAULT_TIMEOUT);
}
