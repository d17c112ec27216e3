/**
 * run(argv, deps) → exit code. The only top-level catch, and the only place where errors become
 * exit codes and the one-line messages of the contract (README.md "Exit codes").
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CommanderError } from 'commander';
import { createProgram } from './cli/program.js';
import type { CliDeps } from './cli/context.js';
import { ExitCode, MsAsyncError, UsageError, exitCodeOf } from './errors.js';
import { decideTerminalMode, processIo, type Io } from './ui/io.js';
import { formatErrorLines, errorToJson } from './ui/errors.js';

export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  // A copy: `--trace` puts its recorder on the deps of this run only.
  const runDeps: CliDeps = { ...deps };
  const program = createProgram(runDeps);
  const code = await runProgram(program, argv, runDeps);
  if (!runDeps.trace) return code;
  // Written whatever happened: the trace of a failure or a Ctrl-C is the useful one.
  const { saveTrace } = await import('./cli/trace.js');
  const failure = await saveTrace(runDeps.trace, program.opts<{ trace?: string }>().trace ?? '');
  if (failure === undefined) return code;
  reportError(deps.io, failure, { json: false, color: decideTerminalMode(deps.io, program.opts()).color });
  return code === ExitCode.ok ? exitCodeOf(failure) : code;
}

async function runProgram(
  program: ReturnType<typeof createProgram>,
  argv: readonly string[],
  deps: CliDeps,
): Promise<number> {
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    // The reader of our stdout went away (`ms-async … --out - | head`): that ends the run, quietly.
    if (isBrokenPipe(error) || isBrokenPipe(deps.signal.reason)) return ExitCode.ok;
    if (error instanceof CommanderError) {
      // Commander already printed help, the version, or its own usage message (with our prefix).
      if (error.exitCode === 0) return ExitCode.ok;
      if (argv.includes('--json') && error.code !== 'commander.help') {
        const message = error.message.replace(/^error: /, '');
        deps.io.stdout.write(
          `${JSON.stringify(errorToJson(new UsageError(message, { details: { commanderCode: error.code } })))}\n`,
        );
      }
      return ExitCode.usage;
    }
    const opts = program.opts<{ json?: boolean; color?: boolean; quiet?: boolean }>();
    reportError(deps.io, error, { json: opts.json === true, color: decideTerminalMode(deps.io, opts).color });
    return exitCodeOf(error);
  }
}

function isBrokenPipe(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

function reportError(io: Io, error: unknown, options: { json: boolean; color: boolean }): void {
  for (const line of formatErrorLines(error, options.color)) io.stderr.write(`${line}\n`);
  const written = error instanceof MsAsyncError && error.jsonWritten;
  if (options.json && !written) io.stdout.write(`${JSON.stringify(errorToJson(error))}\n`);
}

/** Entry point used by bin/ms-async.js: real streams, real clock, Ctrl-C wired to an AbortSignal. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    // A second Ctrl-C means "now": do not wait for clean-up to finish.
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort(new InterruptSignal());
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Without a listener an EPIPE on stdout would crash the process with a stack trace. It stays
  // on after run() returns: the error of a last write arrives after that.
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') controller.abort(error);
  };
  process.stdout.on('error', onStdoutError);
  try {
    return await run(argv, {
      io: processIo(),
      now: Date.now,
      sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
      signal: controller.signal,
      configDir: process.env.MS_ASYNC_CONFIG_DIR,
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/**
 * The abort reason on Ctrl-C and SIGTERM. Nothing tests for this class: everything below treats an
 * aborted run signal as an interrupt (exit 130); run() first checks the one other abort, a closed
 * stdout pipe (EPIPE), which ends the run with 0. Tests abort with it to stand for Ctrl-C.
 */
export class InterruptSignal extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptSignal';
  }
}

export { MsAsyncError };
