import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { timeoutOption } from './start.js';

interface BatchCommandFlags {
  failFast?: boolean;
  dryRun?: boolean;
  timeout: number;
  reuse?: boolean;
}

export function registerBatch(program: Command, deps: CliDeps): void {
  program
    .command('batch')
    .description("run the exports of a YAML or JSON job file at once, within each account's limits")
    .usage('<file> [--fail-fast] [--dry-run] [--timeout <duration>] [--reuse]')
    .argument('<file>', 'job file: { defaults: {…}, jobs: [{ report, out, … }] } (.yaml, .yml or .json)')
    .option('--fail-fast', 'stop the other jobs when one fails (default: let them finish)')
    .option('--dry-run', 'check the file and print the requests each job would make; send nothing')
    .addOption(
      timeoutOption('per job: how long to wait for the queue and the task; 0 = no limit (a job\'s own "timeout" wins)'),
    )
    .option(
      '--reuse',
      'every job follows or downloads an identical task instead of starting another (a job\'s own "reuse" wins)',
    )
    .addHelpText(
      'after',
      `
Job keys are the export options in camelCase (format, columns, excel, rubles, period, split,
timeout, reuse …) plus report, params and profile; a relative "out" is relative to the job file.

Examples:
  $ ms-async batch nightly.yaml
  $ ms-async batch nightly.yaml --dry-run
  $ ms-async --json batch nightly.yaml > summary.json`,
    )
    .action(async (file: string, flags: BatchCommandFlags, cmd: Command) => {
      const { runBatch } = await import('../batch-run.js');
      // Command-line values sit under the file's own, so only the ones actually typed count.
      const commandLine: Record<string, unknown> = {};
      if (cmd.getOptionValueSource('timeout') === 'cli') commandLine.timeout = flags.timeout;
      if (flags.reuse) commandLine.reuse = true;
      await runBatch(commandContext(cmd, deps), file, { failFast: flags.failFast, dryRun: flags.dryRun, commandLine });
    });
}
