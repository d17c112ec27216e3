/**
 * cli-progress adapters for the download (bytes) and conversion (records) bars. They exist only
 * when the terminal is interactive; otherwise `createProgressBar` returns null and nothing is drawn
 * (UI objects are null when disabled). cli-progress is imported lazily.
 */
import type { Writable } from 'node:stream';
import type { TerminalMode } from './io.js';
import { formatCount } from '../count.js';

export interface ProgressBar {
  /** `note`: a few words after the numbers (kept until the next update), dropped when narrow. */
  update(value: number, total: number | undefined, note?: string): void;
  stop(): void;
}

export type ProgressUnit = 'bytes' | 'records';

export async function createProgressBar(
  mode: TerminalMode,
  stream: Writable,
  label: string,
  unit: ProgressUnit,
  now: () => number = Date.now,
): Promise<ProgressBar | null> {
  if (!mode.interactive) return null;
  const { default: cliProgress } = await import('cli-progress');
  const show = unit === 'bytes' ? formatBytes : formatCount;
  const speed = createSpeed(now);
  let note: string | undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: (_options, params) => {
        const columns = (stream as { columns?: number }).columns ?? 80;
        const total = params.total > 0 ? params.total : undefined;
        return renderProgressLine({
          label,
          value: params.value,
          total,
          columns,
          show,
          speed: speed.read(params.value, params.total, unit),
          ...(note ? { note } : {}),
        });
      },
      hideCursor: true,
      clearOnComplete: false,
      fps: 8,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, newNote) {
      note = newNote;
      if (!started) {
        speed.start(value);
        bar.start(total ?? 0, value);
        started = true;
      } else if (total !== undefined && total !== bar.getTotal()) {
        bar.setTotal(total);
      }
      bar.update(value);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Speed and ETA, shown only once they mean something (README.md, "Progress"). */
interface Speed {
  start(value: number): void;
  read(value: number, total: number, unit: ProgressUnit): { rate?: string; eta?: string };
}

/** A second of data before a speed, two before an ETA: the first samples read `0 B/s` or `ETA 1s`. */
const RATE_AFTER_MS = 1000;
const ETA_AFTER_MS = 2000;

function createSpeed(now: () => number): Speed {
  let startedAt = 0;
  let startValue = 0;
  return {
    start(value) {
      startedAt = now();
      startValue = value;
    },
    read(value, total, unit) {
      const elapsed = now() - startedAt;
      const moved = value - startValue;
      if (elapsed < RATE_AFTER_MS || moved <= 0) return {};
      // The average since the bar started: steady, unlike the last tick's jumpy rate.
      const perSecond = (moved * 1000) / elapsed;
      const rate = unit === 'bytes' ? `${formatBytes(perSecond)}/s` : `${formatCount(Math.round(perSecond))}/s`;
      const remaining = total > 0 ? Math.max(0, total - value) : undefined;
      if (elapsed < ETA_AFTER_MS || remaining === undefined || remaining === 0) return { rate };
      return { rate, eta: formatSeconds(remaining / perSecond) };
    },
  };
}

export interface ProgressLine {
  label: string;
  value: number;
  total: number | undefined;
  /** Terminal width: the bar shrinks, and below BAR_MIN_COLUMNS goes, so that the numbers stay. */
  columns: number;
  show: (n: number) => string;
  speed: { rate?: string; eta?: string };
  /** After the numbers, separated by ` · `; the first thing dropped when the line is too narrow. */
  note?: string;
}

const BAR_MIN_COLUMNS = 70;
const BAR_MAX = 24;

/** One progress line that fits `columns` (pure, tested). */
export function renderProgressLine(p: ProgressLine): string {
  if (p.note !== undefined) {
    const withNote = renderProgressLine({ ...p, note: undefined, columns: p.columns - p.note.length - 3 });
    const plain = renderProgressLine({ ...p, note: undefined });
    // The note only where it fits beside everything the line shows without it (the bar may be
    // shorter, but there).
    const bar = /[█░]+ /;
    const keeps = withNote.replace(bar, '') === plain.replace(bar, '') && bar.test(withNote) === bar.test(plain);
    return keeps ? `${withNote} · ${p.note}` : plain;
  }
  const known = p.total !== undefined && p.total > 0;
  const fraction = known ? Math.min(1, p.value / (p.total ?? 1)) : 0;
  const amount = known ? `${p.show(p.value)} / ${p.show(p.total ?? 0)}` : p.show(p.value);
  const percent = known ? `${Math.floor(fraction * 100)}%`.padStart(4) : '';
  const numbers = [percent, amount, p.speed.rate, p.speed.eta ? `ETA ${p.speed.eta}` : undefined]
    .filter((s): s is string => s !== undefined && s !== '')
    .join(' ');
  const head = p.label.padEnd(9);
  const room = p.columns - 1 - head.length - 1 - numbers.length - 1;
  const width = known && p.columns >= BAR_MIN_COLUMNS ? Math.min(BAR_MAX, room) : 0;
  if (width < 8) return `${head} ${numbers}`.slice(0, Math.max(0, p.columns - 1));
  const filled = Math.round(fraction * width);
  return `${head} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${numbers}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
