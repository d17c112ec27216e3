/**
 * The ora adapter: a spinner on stderr when the terminal is interactive, a no-op object
 * otherwise (ora is imported only when it will draw). `createTaskWatcher` turns poller updates
 * into the spinner's text on a TTY, or into one plain line per state change elsewhere.
 */
import type { AsyncTask } from '../api/types.js';
import type { Io, TerminalMode } from './io.js';
import { formatDuration, palette } from './format.js';

export interface Spinner {
  readonly active: boolean;
  update(text: string): void;
  /** Stops and clears the spinner; prints `finalLine` (if any) in its place. */
  stop(finalLine?: string): void;
}

const NOOP: Spinner = { active: false, update() {}, stop() {} };

export async function createSpinner(io: Io, mode: TerminalMode, text = ''): Promise<Spinner> {
  if (!mode.interactive) return NOOP;
  const { default: ora } = await import('ora');
  const spinner = ora({
    text,
    stream: io.stderr as NodeJS.WriteStream,
    isEnabled: true,
    discardStdin: false,
    color: mode.color ? 'cyan' : false,
  }).start();
  return {
    active: true,
    update(next) {
      spinner.text = next;
    },
    stop(finalLine) {
      spinner.stop();
      if (finalLine) io.stderr.write(`${finalLine}\n`);
    },
  };
}

export interface TaskWatcher {
  onUpdate(task: AsyncTask, elapsedMs: number): void;
  stop(): void;
}

/**
 * Spinner text `PROCESSING · 12s` on a TTY, its elapsed time ticking every second between polls
 * (which come up to 10 s apart); `task <id>: PROCESSING (12s)` lines otherwise.
 */
export async function createTaskWatcher(
  io: Io,
  mode: TerminalMode,
  taskId: string,
  now: () => number = Date.now,
): Promise<TaskWatcher> {
  const spinner = await createSpinner(io, mode, `task ${taskId}: waiting`);
  const { state: paint } = palette(mode.color);
  const startedAt = now();
  let last: string | undefined;
  let offset = 0;
  const render = (): void => {
    if (!last) return;
    const tail = `: ${paint(last)} · ${formatDuration(now() - startedAt + offset)}`;
    // A line wider than the terminal wraps and ora redraws it badly: shorten the id (printed in full above).
    const columns = (io.stderr as { columns?: number }).columns ?? 80;
    const plainLength = `task ${taskId}: ${last} · 00m 00s`.length + 2;
    spinner.update(`task ${plainLength <= columns ? taskId : `${taskId.slice(0, 8)}…`}${tail}`);
  };
  const ticker = spinner.active ? setInterval(render, 1000) : undefined;
  ticker?.unref();
  return {
    onUpdate(task, elapsed) {
      // The poller's clock started a moment before ours: keep its reading, tick from there.
      offset = elapsed - (now() - startedAt);
      if (spinner.active) {
        last = task.state;
        render();
      } else if (!mode.quiet && task.state !== last) {
        io.stderr.write(`task ${taskId}: ${paint(task.state)} (${formatDuration(elapsed)})\n`);
      }
      last = task.state;
    },
    stop() {
      if (ticker) clearInterval(ticker);
      spinner.stop(last ? `task ${taskId}: ${paint(last)} (${formatDuration(now() - startedAt + offset)})` : undefined);
    },
  };
}
