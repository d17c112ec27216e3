import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { createLog } from '../../ui/log.js';
import { createTransferProgress } from '../transfer-progress.js';
import { addOutputOptions, csvOptionsFrom, type OutputFlags } from '../output-options.js';

interface ConvertFlags extends OutputFlags {
  report?: string;
}

export function registerConvert(program: Command, deps: CliDeps): void {
  const command = program
    .command('convert')
    .summary('convert a result file already on disk (e.g. fetched with curl) to CSV/NDJSON/JSON')
    .description(
      'Convert an async task result file already on disk to CSV, NDJSON or JSON, with the same\n' +
        'rules and code as fetch/export. --report names the catalogue report the file came from,\n' +
        'which says where its records are and which array CSV explodes.',
    )
    .usage('<input.json> --out <file> [--report <alias>] [--format <format>]')
    .argument('<input>', 'the result JSON file')
    .option('-r, --report <alias>', 'the report the file came from (see `ms-async reports`), or its API path');
  addOutputOptions(command)
    .addHelpText('after', '\nExample:\n  $ ms-async convert result.json --report stock-bystore --out stock.csv --excel')
    .action(async (input: string, flags: ConvertFlags, cmd: Command) => {
      const ctx = commandContext(cmd, deps);
      const { convertLocalFile } = await import('../../core/convert-local.js');
      const progress = await createTransferProgress(ctx);
      try {
        await convertLocalFile({
          input,
          report: flags.report,
          out: flags.out,
          format: flags.format,
          csv: csvOptionsFrom(flags),
          stdout: deps.io.stdout,
          signal: deps.signal,
          onConvertProgress: progress.onConvertProgress,
          onWarning: (line) => createLog(deps.io, ctx.mode).warn(line),
        });
      } finally {
        progress.stop();
      }
    });
}
