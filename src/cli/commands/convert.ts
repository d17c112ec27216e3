import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { printJson } from '../session.js';
import { createLog } from '../../ui/log.js';
import { createTransferProgress } from '../transfer-progress.js';
import { addOutputOptions, csvOptionsFrom, type OutputFlags } from '../output-options.js';

interface ConvertFlags extends OutputFlags {
  report?: string;
}

export function registerConvert(program: Command, deps: CliDeps): void {
  const command = program
    .command('convert')
    .summary('convert a result file already on disk (e.g. fetched with curl) to CSV/NDJSON/JSON/XLSX')
    .description(
      'Convert an async task result file already on disk to CSV, NDJSON, JSON or XLSX, with the same\n' +
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
      const { reportFromArgument } = await import('../../reports/request.js');
      const { createSummaryTracker } = await import('../../core/summary.js');
      const { describeSummary } = await import('../../ui/summary.js');
      const { checkColumns, assertJsonHasStdout } = await import('../transfer-checks.js');
      const csv = csvOptionsFrom(flags);
      checkColumns(
        flags.report,
        flags.report === undefined ? undefined : reportFromArgument(flags.report),
        csv.columns,
      );
      if (flags.out === '-') assertJsonHasStdout(ctx, undefined);
      const progress = await createTransferProgress(ctx);
      const tracker = createSummaryTracker({
        path: flags.out === '-' ? undefined : resolve(flags.out ?? ''),
        format: flags.format ?? '',
        now: deps.now,
      });
      try {
        const result = await convertLocalFile({
          input,
          report: flags.report,
          out: flags.out,
          format: flags.format,
          csv,
          stdout: deps.io.stdout,
          signal: deps.signal,
          onConvertProgress: progress.onConvertProgress,
          onWarning: (line) => createLog(deps.io, ctx.mode).warn(line),
        });
        progress.stop();
        const bytes = result.path === undefined ? null : (await stat(result.path)).size;
        tracker.converted({ ...result, bytes: (await stat(input)).size }, bytes);
        const summary = { ...tracker.snapshot(), path: result.path ?? null, format: result.format };
        if (ctx.globals.json) printJson(ctx, summary);
        if (result.path !== undefined) createLog(deps.io, ctx.mode).info(describeSummary(summary, flags.out ?? '-'));
      } finally {
        progress.stop();
      }
    });
}
