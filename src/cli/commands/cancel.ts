import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { parseTaskId } from '../options.js';
import { openSession } from '../session.js';

export function registerCancel(program: Command, deps: CliDeps): void {
  program
    .command('cancel')
    .description('cancel a PENDING or PROCESSING task (a finished one is API error 61007, exit 4)')
    .usage('<id>')
    .argument('<id>', 'task id', parseTaskId)
    .addHelpText(
      'after',
      `
Example:
  $ ms-async cancel 5d2b7e40-1c9a-11f0-0a80-0b4c00000012`,
    )
    .action(async (id: string, _opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { cancelTask } = await import('../../core/cancel.js');
      const { createLog } = await import('../../ui/log.js');
      const { client } = await openSession(ctx);
      await cancelTask(client, id, { signal: deps.signal });
      createLog(deps.io, ctx.mode).info(`task ${id} cancelled`);
    });
}
