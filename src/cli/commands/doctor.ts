import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { printJson, printLines } from '../session.js';

export function registerDoctor(program: Command, deps: CliDeps): void {
  program
    .command('doctor')
    .description('check the set-up: credentials, the API, the token, rate limits, the clock, the async queue')
    .usage('[--profile <name>] [--base-url <url>] [--json]')
    .addHelpText(
      'after',
      `
One line per check. Exit 0 when the API answers and accepts the credentials, 3 when they are
missing or refused, 7 when the API cannot be reached. The token itself is never printed.

Examples:
  $ ms-async doctor
  $ MS_TOKEN=… ms-async doctor --json`,
    )
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { runDoctor } = await import('../../core/doctor.js');
      const { renderDoctorLines } = await import('../../ui/format.js');
      const { createLog } = await import('../../ui/log.js');
      const { errorToJson } = await import('../../ui/errors.js');
      const log = createLog(deps.io, ctx.mode);
      const report = await runDoctor({
        globals: ctx.globals,
        env: deps.io.env,
        configDir: deps.configDir,
        now: deps.now,
        sleep: deps.sleep,
        signal: deps.signal,
        onLog: ctx.mode.verbose ? (line) => log.verbose(line) : undefined,
        trace: deps.trace,
      });
      if (ctx.globals.json) {
        printJson(ctx, {
          ok: report.ok,
          checks: report.checks,
          ...(report.failure ? errorToJson(report.failure) : {}),
        });
        // The document above already says what failed: src/main.ts adds no second one.
        if (report.failure) report.failure.jsonWritten = true;
      } else {
        printLines(ctx, renderDoctorLines(report.checks, { symbols: deps.io.stdout.isTTY === true }));
      }
      if (report.failure) throw report.failure;
    });
}
