import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { parseTaskId } from '../options.js';
import { addOutputOptions, type OutputFlags } from '../output-options.js';
import { timeoutOption } from './start.js';

interface FetchFlags extends OutputFlags {
  wait?: boolean;
  timeout: number;
  cancelOnInterrupt?: boolean;
  report?: string;
}

export function registerFetch(program: Command, deps: CliDeps): void {
  const command = program
    .command('fetch')
    .description("download a DONE task's result and convert it (CSV, NDJSON, JSON or XLSX); --wait polls first")
    .usage('<id> --out <file> [--format <format>] [--wait] [--timeout <duration>]')
    .argument('<id>', 'task id (printed by `ms-async start`, listed by `ms-async list`)', parseTaskId)
    .option('--wait', 'poll until the task is DONE first')
    .addOption(timeoutOption('how long --wait may wait; 0 = no limit'))
    .option('--cancel-on-interrupt', 'on Ctrl-C while waiting, cancel the task instead of leaving it running')
    .option('-r, --report <alias>', "the task's report, when it cannot be read from the task's request");
  addOutputOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async fetch 5d2b7e40-1c9a-11f0-0a80-0b4c00000012 --out stock.csv
  $ ms-async fetch 5d2b7e40-1c9a-11f0-0a80-0b4c00000012 --wait --out - --format ndjson | jq .name`,
    )
    .action(async (id: string, flags: FetchFlags, cmd: Command) => {
      const { runTransfer } = await import('../run-transfer.js');
      await runTransfer(commandContext(cmd, deps), { kind: 'fetch', taskId: id, ...flags });
    });
}
