import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { commandContext, type CliDeps } from '../context.js';
import { collectParam, sandboxRows } from '../options.js';
import { addOutputOptions, type OutputFlags } from '../output-options.js';
import { timeoutOption } from './start.js';

interface ExportFlags extends OutputFlags {
  param: Array<[string, string]>;
  timeout: number;
  reuse?: boolean;
  period?: string;
  split?: string;
  cancelOnInterrupt?: boolean;
  sandbox?: boolean;
  sandboxRows?: number;
}

export function registerExport(program: Command, deps: CliDeps): void {
  const command = program
    .command('export')
    .description('start a report task, wait for it, download and convert the result: the one command for cron')
    .usage('<report> --out <file> [-p <key=value>]... [--format <format>] [--timeout <duration>] [--reuse]')
    .argument('<report>', 'catalogue alias (see `ms-async reports`) or an API path beginning with /')
    .option('-p, --param <key=value>', 'query parameter, repeatable (filter, momentFrom, groupBy …)', collectParam, [])
    .option(
      '--period <period>',
      'momentFrom/momentTo in Moscow time: 2026-11, 2026-11-01..2026-11-30, last-month, this-year …',
    )
    .addOption(
      new Option(
        '--split <unit>',
        'with --period: one task per slice, merged into one output tagged period.from/period.to',
      ).choices(['day', 'week', 'month', 'quarter']),
    )
    .addOption(timeoutOption('how long to wait for the queue and the task; 0 = no limit'))
    .option(
      '--reuse',
      'follow an identical running task, or download an identical DONE one, instead of starting another',
    )
    .option('--cancel-on-interrupt', 'on Ctrl-C while waiting, cancel the task instead of leaving it running')
    .option('--sandbox', 'export from a local sandbox started for this run (no account needed)')
    .addOption(
      new Option('--sandbox-rows <n>', 'with --sandbox: how many rows its report has (at most 5,000,000)')
        .argParser(sandboxRows)
        .default(1000),
    );
  addOutputOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async export stock-bystore --out stock.csv --sandbox      # try it without an account
  $ ms-async export stock-bystore --out stock.csv --excel
  $ ms-async export stock-all -p filter="stockMode=positiveOnly" --out stock.ndjson --reuse
  $ ms-async export profit-byproduct --period last-month --out profit.csv
  $ ms-async export profit-byproduct --period 2026-01..2026-12 --split month --out profit-2026.csv
  $ ms-async export sales-plotseries -p momentFrom="2026-11-01 00:00:00" -p momentTo="2026-11-30 23:59:59" -p interval=day --out sales.csv
  $ ms-async export counterparty --out - --format ndjson | jq -r .name`,
    )
    .action(async (report: string, flags: ExportFlags, cmd: Command) => {
      // It has a default, so only its source tells whether it was typed.
      if (cmd.getOptionValueSource('sandboxRows') === 'cli' && !flags.sandbox) {
        throw new UsageError('--sandbox-rows only sizes the report of --sandbox', {
          hint: 'add --sandbox, or drop --sandbox-rows',
        });
      }
      const { runTransfer } = await import('../run-transfer.js');
      await runTransfer(commandContext(cmd, deps), { kind: 'export', report, ...flags });
    });
}
