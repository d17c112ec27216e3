/**
 * What every command gets: the process's streams, the clock, and the interrupt signal. Injected so
 * that tests run commands in-process with in-memory streams and short clocks (docs/ARCHITECTURE.md).
 */
import type { Command } from 'commander';
import { decideTerminalMode, type Io, type TerminalMode } from '../ui/io.js';
import type { TraceRecorder } from '../trace/recorder.js';

export interface CliDeps {
  io: Io;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborted on Ctrl-C; long waits listen to it. */
  signal: AbortSignal;
  /** Where conf keeps its file; tests point it at a temporary directory. */
  configDir?: string | undefined;
  /** Set by `--trace <file>` before the command runs; src/main.ts writes it when the run ends. */
  trace?: TraceRecorder | undefined;
}

/** The global flags of the contract, as commander hands them to every command. */
export interface GlobalOptions {
  baseUrl?: string;
  token?: string;
  profile?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  preciseMoney?: boolean;
  trace?: string;
}

export interface CommandContext {
  deps: CliDeps;
  globals: GlobalOptions;
  mode: TerminalMode;
  /** The command being run, for hints that rebuild its command line (src/cli/command-line.ts). */
  command: Command;
}

/** The globals and terminal mode for a command's action (`this` or the last action argument). */
export function commandContext(command: Command, deps: CliDeps): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  return { deps, globals, mode: decideTerminalMode(deps.io, globals), command };
}
