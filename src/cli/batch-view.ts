/**
 * What a batch shows on stderr while it runs. On an interactive terminal: one line per job
 * (state, elapsed time, progress) redrawn in place. Elsewhere (cron, CI, pipes, -v): a plain line
 * when a job's state changes, no ANSI codes. Under -q: nothing. stdout is never touched.
 */
import type { Io, TerminalMode } from '../ui/io.js';
import { formatDuration, palette } from '../ui/format.js';
import { formatBytes } from '../ui/progress.js';
import { formatCount } from '../count.js';

export interface JobLine {
  state: string;
  /** `12.3 MiB`, `41%`, `3/12 slices` … */
  progress?: string | undefined;
  /** A last word: `4,213 records → out/stock.csv`, or an error message. */
  note?: string | undefined;
}

export interface BatchView {
  update(index: number, patch: Partial<JobLine>): void;
  /** Draws the last frame and stops redrawing. */
  stop(): void;
}

export interface ViewJob {
  index: number;
  report: string;
  out: string;
}

const FINAL = new Set(['written', 'failed', 'stopped', 'interrupted']);

export function createBatchView(io: Io, mode: TerminalMode, jobs: readonly ViewJob[], now: () => number): BatchView {
  const started = now();
  const lines: Array<JobLine & { since: number; endedAt?: number }> = jobs.map(() => ({
    state: 'waiting',
    since: started,
  }));
  const { state: paint, dim } = palette(mode.color);
  const width = String(jobs.length).length;
  const label = (i: number): string => {
    const job = jobs[i] as ViewJob;
    return `[${String(job.index).padStart(width)}] ${job.report} → ${job.out}`;
  };
  const elapsed = (line: { endedAt?: number }): string => formatDuration((line.endedAt ?? now()) - started);

  if (!mode.interactive) {
    return {
      update(i, patch) {
        const line = lines[i];
        if (!line) return;
        const changed = patch.state !== undefined && patch.state !== line.state;
        Object.assign(line, patch);
        if (changed && FINAL.has(line.state)) line.endedAt = now();
        if (changed && !mode.quiet) {
          const note = line.note && FINAL.has(line.state) ? `: ${line.note}` : '';
          io.stderr.write(`${label(i)}: ${paint(line.state.toUpperCase())} (${elapsed(line)})${note}\n`);
        }
      },
      stop() {},
    };
  }

  let drawn = 0;
  const columns = (): number => Math.max(40, ((io.stderr as { columns?: number }).columns ?? 100) - 1);
  const draw = (): void => {
    let frame = drawn > 0 ? `\u001b[${drawn}A` : '';
    const max = columns();
    for (const [i, line] of lines.entries()) {
      const parts = [label(i), line.state.toUpperCase(), elapsed(line), line.progress ?? '', line.note ?? ''].filter(
        Boolean,
      );
      const plain = parts.join('  ');
      const cut = plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
      // Colour only the state word, after cutting, so that the cut never splits an escape code.
      const state = line.state.toUpperCase();
      const shown = cut.replace(`  ${state}  `, `  ${paint(state)}  `);
      frame += `\u001b[2K${FINAL.has(line.state) ? shown : shown.replace(label(i), dim(label(i)))}\n`;
    }
    drawn = lines.length;
    io.stderr.write(frame);
  };
  draw();
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    update(i, patch) {
      const line = lines[i];
      if (!line) return;
      const changed = patch.state !== undefined && patch.state !== line.state;
      Object.assign(line, patch);
      if (changed && FINAL.has(line.state)) line.endedAt = now();
    },
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}

/** `12.3 MiB of 40 MiB` / `1,234 of 5,000 records`. */
export function downloadProgress(transferred: number, total: number | undefined): string {
  return total ? `${formatBytes(transferred)} of ${formatBytes(total)}` : formatBytes(transferred);
}

export function recordProgress(records: number, total: number | undefined): string {
  const n = formatCount(records);
  return total ? `${n} of ${formatCount(total)} records` : `${n} records`;
}
