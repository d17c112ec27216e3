/**
 * createProgram(deps): the commander tree. Importing it has no side effects, and it loads no heavy
 * module: each command imports its core (got, ora, stream-json …) only when it runs, so that
 * `--help` and `--version` start fast.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import type { CliDeps } from './context.js';
import { recordTypedOptions } from './command-line.js';
import { configureHelpEverywhere } from './help.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerList } from './commands/list.js';
import { registerCancel } from './commands/cancel.js';
import { registerFetch } from './commands/fetch.js';
import { registerExport } from './commands/export.js';
import { registerWebhook } from './commands/webhook.js';
import { registerReports } from './commands/reports.js';
import { registerLogin } from './commands/login.js';
import { registerConfig } from './commands/config.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerConvert } from './commands/convert.js';
import { registerCompletion } from './commands/completion.js';
import { registerCache } from './commands/cache.js';
import { registerBatch } from './commands/batch.js';
import { registerDoctor } from './commands/doctor.js';

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };
export const VERSION: string = packageJson.version;

export function createProgram(deps: CliDeps): Command {
  const program = new Command('ms-async')
    .description('Export MoySklad reports through the JSON API asynchronous exchange.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--base-url <url>', 'API base URL (env MS_BASE_URL)')
    .option('--token <token>', 'bearer token (prefer MS_TOKEN or `ms-async login`: flags show in ps)')
    .option('--profile <name>', 'stored profile to use (env MS_PROFILE)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .option('-v, --verbose', 'log each request (method, URL, status, time) to stderr')
    .option('--no-color', 'never use colour (NO_COLOR is honoured too)')
    .option(
      '--precise-money',
      'money unrounded, fractions of a kopeck kept (X-Lognex-Precision; `config set precise-money true`)',
    )
    .option('--trace <file>', 'write every request and answer of the run to <file> (HAR 1.2, secrets replaced by ***)')
    .showSuggestionAfterError()
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ ms-async export stock-bystore --out stock.csv --sandbox   # try it without an account
  $ ms-async login                                            # store a token
  $ ms-async doctor                                           # check credentials, API, limits, clock, queue
  $ ms-async export stock-bystore --out stock.csv
  $ ms-async export profit-byproduct -p momentFrom="2026-11-01 00:00:00" --out profit.ndjson
  $ ms-async reports                                          # what can be exported

Exit codes: 0 ok, 1 bug, 2 usage, 3 auth, 4 API error, 5 task ERROR/CANCEL, 6 timeout,
7 network, 8 result gone, 9 local file, 130 interrupted.`,
  );

  for (const register of [
    registerExport,
    registerBatch,
    registerFetch,
    registerStart,
    registerStatus,
    registerList,
    registerCancel,
    registerWebhook,
    registerReports,
    registerConvert,
    registerCache,
    registerLogin,
    registerDoctor,
    registerConfig,
    registerSandbox,
    registerCompletion,
  ]) {
    register(program, deps);
  }
  program.hook('preAction', async () => {
    const file = program.opts<{ trace?: string }>().trace;
    if (file === undefined || deps.trace) return;
    const { startTrace } = await import('./trace.js');
    deps.trace = await startTrace(file, { version: VERSION, now: deps.now });
  });
  // Every command, whoever added it, gets the same help, output routing and exit override.
  configureHelpEverywhere(program, deps.io);
  recordTypedOptions(program);
  return program;
}
