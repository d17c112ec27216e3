/** Plain lines on stderr that respect the terminal mode: `-q` silences, `-v` adds request logs. */
import type { Io, TerminalMode } from './io.js';

export interface Log {
  /** A status line (not under -q). */
  info(line: string): void;
  /** A request log line (only under -v). */
  verbose(line: string): void;
  /** Something that went through but deserves a look (not under -q: that prints errors only). */
  warn(line: string): void;
}

export function createLog(io: Io, mode: TerminalMode): Log {
  return {
    info(line) {
      if (!mode.quiet) io.stderr.write(`${line}\n`);
    },
    verbose(line) {
      if (mode.verbose) io.stderr.write(`${line}\n`);
    },
    warn(line) {
      if (!mode.quiet) io.stderr.write(`ms-async: warning: ${line}\n`);
    },
  };
}
