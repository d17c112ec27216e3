/**
 * `ms-async sandbox`: runs the local stand-in of MoySklad's async API until Ctrl-C/SIGTERM
 * (README.md "The sandbox"). Prints its base URL on one line of stdout when ready.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { collectValue, parseDuration, sandboxRows, wholeNumber } from '../options.js';
// Type-only: the sandbox itself is imported when the command runs.
import type { Faults, SandboxOptions } from '../../sandbox/index.js';
import { FAULT_HELP, parseFaultSpec } from '../../sandbox/faults.js';
import { UsageError } from '../../errors.js';

export interface SandboxCommandOptions {
  host: string;
  port: number;
  storagePort: number;
  rows: number;
  seed: number;
  stores: number;
  pendingMs: number;
  processingMs: number;
  linkTtl?: number;
  resultTtl?: number;
  login?: string;
  password?: string;
  pretty?: boolean;
  metaLast?: boolean;
  fieldForms?: boolean;
  storageGzip?: boolean;
  storageRange: boolean;
  dataDir?: string;
  fault: string[];
  replay?: string;
  result?: string;
}

function durationMs(value: string): number {
  return parseDuration(value);
}

/** Turns the repeatable --fault specs into one Partial<Faults> (later specs win). */
export function parseFaults(specs: readonly string[]): Partial<Faults> {
  const faults: Partial<Faults> = {};
  for (const spec of specs) {
    try {
      Object.assign(faults, parseFaultSpec(spec));
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  }
  return faults;
}

/** Commander collector for --fault: checks each spec as it is given, so commander reports a bad one. */
function collectFault(value: string, previous: string[] = []): string[] {
  parseFaults([value]);
  return collectValue(value, previous);
}

/** Commander options → sandbox options (pure, for tests). */
export function toSandboxOptions(opts: SandboxCommandOptions, token: string | undefined): Partial<SandboxOptions> {
  const result: Partial<SandboxOptions> = {
    host: opts.host,
    port: opts.port,
    storagePort: opts.storagePort,
    rows: opts.rows,
    seed: opts.seed,
    stores: opts.stores,
    pendingMs: opts.pendingMs,
    processingMs: opts.processingMs,
    pretty: opts.pretty === true,
    metaLast: opts.metaLast === true,
    fieldForms: opts.fieldForms !== false,
    storage: { gzip: opts.storageGzip === true, range: opts.storageRange, contentLength: true },
    faults: { ...parseFaults(opts.fault) } as Faults,
  };
  if (token) result.token = token;
  if (opts.login !== undefined) result.login = opts.login;
  if (opts.password !== undefined) result.password = opts.password;
  if (opts.linkTtl !== undefined) result.linkTtlMs = opts.linkTtl;
  if (opts.resultTtl !== undefined) result.resultTtlMs = opts.resultTtl;
  if (opts.dataDir !== undefined) result.dataDir = opts.dataDir;
  return result;
}

export function registerSandbox(program: Command, deps: CliDeps): void {
  program
    .command('sandbox')
    .summary('run a local stand-in of the MoySklad async API')
    .description(
      'Run a local, loopback-only stand-in of the MoySklad async API (gzip, tokens, tasks, limits,\n' +
        'results behind a 302 to a separate storage origin, webhooks, faults). Prints its base URL\n' +
        'on one line, then serves until Ctrl-C. Accepts any non-empty token unless the global\n' +
        '--token fixes one, and any non-empty Basic login:password unless --login/--password do.',
    )
    .usage('[--port <n>] [--rows <n>] [--seed <n>] [--fault <spec>]…')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--port <n>', 'API port (0 = any free port)', wholeNumber, 0)
    .option('--storage-port <n>', 'storage origin port (0 = any free port)', wholeNumber, 0)
    .option('--rows <n>', 'records in each generated result (at most 5,000,000)', sandboxRows, 1000)
    .option('--seed <n>', 'seed of the generated data (same seed, same data)', wholeNumber, 1)
    .option('--stores <n>', 'stores in the account (stockByStore elements)', wholeNumber, 3)
    .option('--pending-ms <n>', 'how long a task stays PENDING', wholeNumber, 1000)
    .option('--processing-ms <n>', 'how long a task stays PROCESSING', wholeNumber, 2000)
    .option('--link-ttl <duration>', 'storage link lifetime (default 5m)', durationMs)
    .option('--result-ttl <duration>', 'result lifetime after DONE, i.e. deletionDate (default 1h)', durationMs)
    .option('--login <login>', 'accept only this Basic login')
    .option('--password <password>', 'accept only this Basic password')
    .option('--pretty', 'pretty-print result files')
    .option('--meta-last', 'write meta after rows in result files')
    .option('--no-field-forms', "generate the shapes of the docs' tables, not the forms real bodies take")
    .option('--storage-gzip', 'serve result files with Content-Encoding: gzip')
    .option('--no-storage-range', 'ignore Range requests on the storage origin')
    .option('--data-dir <dir>', 'keep result files here (default: a temporary directory)')
    .option('--fault <spec>', 'switch a fault on (repeatable; see below)', collectFault, [])
    .option('--replay <file>', 'answer as a --trace file recorded, in order, instead of simulating')
    .option('--result <file>', 'with --replay: the body of recorded result downloads (traces hold none)')
    .addHelpText(
      'after',
      `
${FAULT_HELP}

Faults can also be switched while it runs (sandbox-only, no auth):
  curl -X PUT <base-url>/__sandbox/faults -d '{"status429":{"at":1,"count":2}}'
  curl <base-url>/__sandbox/faults
  curl -X POST <base-url>/__sandbox/clock -d '{"advanceMs":3600000}'

Examples:
  $ ms-async sandbox
  $ ms-async sandbox --port 8080 --rows 1000000 --seed 7
  $ ms-async sandbox --token secret --fault status429=2+1 --fault truncate=once
  $ ms-async sandbox --pending-ms 100 --processing-ms 300 --fault task=API_ERROR_AUTH
  $ ms-async sandbox --replay trace.har --result stock.json   # a user's trace as a test
  $ curl --compressed -H "Authorization: Bearer any" "$(ms-async sandbox | head -1)/report/stock/bystore?async=true"`,
    )
    .action(async (opts: SandboxCommandOptions, command: Command) => {
      const { globals, mode } = commandContext(command, deps);
      if (opts.replay !== undefined) {
        await serveReplay(opts, deps, mode.quiet);
        return;
      }
      if (opts.result !== undefined) throw new UsageError('--result goes with --replay');
      const options = toSandboxOptions(opts, globals.token);
      const { startSandbox } = await import('../../sandbox/index.js');
      const sandbox = await startSandbox(options);
      try {
        deps.io.stdout.write(`${sandbox.baseUrl}\n`);
        if (deps.io.stderr.isTTY === true && !mode.quiet) {
          deps.io.stderr.write(
            `storage origin: ${sandbox.storageUrl}\n` +
              `try: curl --compressed -H "Authorization: Bearer any" "${sandbox.baseUrl}/report/stock/bystore?async=true" -i\n` +
              'Ctrl-C stops it.\n',
          );
        }
        await waitForAbort(deps.signal);
      } finally {
        await sandbox.close();
      }
    });
}

async function serveReplay(opts: SandboxCommandOptions, deps: CliDeps, quiet: boolean): Promise<void> {
  const { loadHar, startReplay } = await import('../../sandbox/replay.js');
  let replay: Awaited<ReturnType<typeof startReplay>>;
  try {
    const har = await loadHar(opts.replay ?? '');
    replay = await startReplay({ har, host: opts.host, port: opts.port, resultFile: opts.result });
  } catch (error) {
    throw new UsageError(`--replay: ${(error as Error).message}`);
  }
  try {
    deps.io.stdout.write(`${replay.baseUrl}\n`);
    if (deps.io.stderr.isTTY === true && !quiet) deps.io.stderr.write(`replaying ${opts.replay}; Ctrl-C stops it.\n`);
    await waitForAbort(deps.signal);
  } finally {
    await replay.close();
    if (replay.unmatched.length > 0 && !quiet) {
      deps.io.stderr.write(`not in the trace (answered 404): ${[...new Set(replay.unmatched)].join(', ')}\n`);
    }
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
