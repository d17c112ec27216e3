/**
 * The one place that decides colour and interactivity (docs/ARCHITECTURE.md). Everything that writes to the
 * terminal takes an `Io`; tests pass one built on in-memory streams with the TTY switches they need.
 */
import type { Readable, Writable } from 'node:stream';

export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface TerminalMode {
  /** Spinners and progress bars may be drawn on stderr. */
  interactive: boolean;
  /** ANSI colour may be used on stderr. */
  color: boolean;
  /** Only errors are printed on stderr. */
  quiet: boolean;
  /** Each request is logged on stderr. */
  verbose: boolean;
}

export interface TerminalFlags {
  color?: boolean | undefined; // commander's --color / --no-color
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
  json?: boolean | undefined;
}

/**
 * Interactive: stderr is a TTY, TERM is not dumb, CI is unset, and none of --quiet, --json, -v.
 * Colour: --no-color/--color, then NO_COLOR/FORCE_COLOR, then whether stderr is a TTY.
 */
export function decideTerminalMode(io: Io, flags: TerminalFlags): TerminalMode {
  const env = io.env;
  const stderrTty = io.stderr.isTTY === true;
  const dumb = env.TERM === 'dumb';
  const quiet = flags.quiet === true;
  // -v interleaves request logs with everything else: plain lines read better than a spinner.
  const interactive = stderrTty && !dumb && !env.CI && !quiet && flags.json !== true && flags.verbose !== true;
  let color: boolean;
  if (flags.color === false) color = false;
  else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') color = false;
  else if (colorForced(env)) color = true;
  else color = stderrTty && !dumb;
  return { interactive, color, quiet, verbose: flags.verbose === true && !quiet };
}

/**
 * FORCE_COLOR as Node and chalk read it: set to anything but `0` or `false` forces colour — the
 * empty string included (Node's docs list `''` with `1` and `true`), unlike an empty NO_COLOR.
 */
function colorForced(env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  return force !== undefined && force !== '0' && force !== 'false';
}

/** Colour for data on stdout (tables): colour is on, and stdout is a terminal or colour is forced. */
export function decideStdoutColor(io: Io, mode: TerminalMode): boolean {
  return mode.color && (io.stdout.isTTY === true || colorForced(io.env));
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
