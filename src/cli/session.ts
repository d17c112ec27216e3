/** The API session of a command: the client from globals + env + stored profile, `-v` logs on stderr. */
import type { Session } from '../core/session.js';
import { decideStdoutColor } from '../ui/io.js';
import { createLog } from '../ui/log.js';
import type { CommandContext } from './context.js';

export async function openSession(ctx: CommandContext): Promise<Session> {
  const log = createLog(ctx.deps.io, ctx.mode);
  // Loaded here, not at start-up: it brings in got (`--help` and `--version` stay fast).
  const { createSession } = await import('../core/session.js');
  return createSession({
    globals: ctx.globals,
    env: ctx.deps.io.env,
    configDir: ctx.deps.configDir,
    now: ctx.deps.now,
    sleep: ctx.deps.sleep,
    onLog: ctx.mode.verbose ? (line) => log.verbose(line) : undefined,
    onTaskSlotWait: () =>
      log.info('other ms-async runs of this account hold its 4 task slots; waiting for one to free up…'),
    trace: ctx.deps.trace,
  });
}

/** Colour for tables on stdout: only when colour is on and stdout itself is a terminal (or forced). */
export function stdoutColor(ctx: CommandContext): boolean {
  return decideStdoutColor(ctx.deps.io, ctx.mode);
}

/** One JSON document on stdout. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.deps.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(ctx: CommandContext, lines: readonly string[]): void {
  for (const line of lines) ctx.deps.io.stdout.write(`${line}\n`);
}
