import { InvalidArgumentError, Option, type Command } from 'commander';
import { TASK_STATES } from '../../api/types.js';
import { commandContext, type CliDeps } from '../context.js';
import { collectValue } from '../options.js';
import { openSession, printJson, printLines, stdoutColor } from '../session.js';

export interface ListCommandOptions {
  state: string[];
  request?: string;
  all?: boolean;
}

const PAGE = 100;

export function registerList(program: Command, deps: CliDeps): void {
  program
    .command('list')
    .description("list the account's async tasks of the last week")
    .usage('[--state <state>]... [--request <text>] [--all]')
    .addOption(
      new Option('--state <state>', `only tasks in this state, repeatable (${TASK_STATES.join(', ')})`)
        .argParser(parseState)
        .default([], 'any'),
    )
    .option('--request <text>', 'only tasks whose request contains this text (case-insensitive)')
    .option('--all', `fetch every task (default: the first ${PAGE})`)
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async list --state PROCESSING --state PENDING
  $ ms-async list --request stock/bystore --all --json`,
    )
    .action(async (opts: ListCommandOptions, command: Command) => {
      const ctx = commandContext(command, deps);
      const { listTaskRows } = await import('../../core/list.js');
      const { renderTaskTable } = await import('../../ui/format.js');
      const { createLog } = await import('../../ui/log.js');
      const { client } = await openSession(ctx);
      const result = await listTaskRows(client, {
        states: opts.state,
        requestContains: opts.request,
        all: opts.all === true,
        pageSize: PAGE,
        signal: deps.signal,
      });
      if (ctx.globals.json) printJson(ctx, result.tasks);
      else if (result.tasks.length === 0) createLog(deps.io, ctx.mode).info('no tasks');
      else {
        // A pipe gets tab-separated lines (gh does the same); the aligned table is for people.
        const tabs = deps.io.stdout.isTTY !== true;
        printLines(ctx, renderTaskTable(result.tasks, { now: deps.now(), color: stdoutColor(ctx), tabs }));
      }
      if (result.truncated)
        createLog(deps.io, ctx.mode).info(`showing the first ${PAGE} of ${result.total} tasks; --all shows every one`);
    });
}

function parseState(value: string, previous: string[] = []): string[] {
  const state = value.toUpperCase();
  if (!(TASK_STATES as readonly string[]).includes(state)) {
    throw new InvalidArgumentError(`"${value}" is not a task state (${TASK_STATES.join(', ')})`);
  }
  return collectValue(state, previous);
}
