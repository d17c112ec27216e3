import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { printJson, printLines } from '../session.js';

export function registerReports(program: Command, deps: CliDeps): void {
  program
    .command('reports')
    .description('list the async-capable reports: alias, API path, required parameters, CSV rule')
    .usage('[--json]')
    .addHelpText(
      'after',
      `
Example:
  $ ms-async reports
  $ ms-async start money-plotseries -p momentFrom=2026-11-01 -p momentTo=2026-11-30 -p interval=day`,
    )
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { listReports } = await import('../../core/reports.js');
      const { renderReportsTable } = await import('../../ui/format.js');
      const { REPORTS } = await import('../../reports/catalog.js');
      if (ctx.globals.json) printJson(ctx, listReports());
      else printLines(ctx, renderReportsTable(REPORTS));
    });
}
