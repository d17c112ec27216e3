/**
 * cli-progress adapters for the download (bytes) and conversion (records) bars. They exist only
 * when the terminal is interactive; otherwise `createProgressBar` returns null and nothing is drawn
 * (UI objects are null when disabled). cli-progress is imported lazily.
 */
import type { Writable } from 'node:stream';
import type { TerminalMode } from './io.js';

export interface ProgressBar {
  update(value: number, total: number | undefined): void;
  stop(): void;
}

export type ProgressUnit = 'bytes' | 'records';

export async function createProgressBar(
  mode: TerminalMode,
  stream: Writable,
  label: string,
  unit: ProgressUnit,
): Promise<ProgressBar | null> {
  if (!mode.interactive) return null;
  const { default: cliProgress } = await import('cli-progress');
  const show = unit === 'bytes' ? formatBytes : (n: number) => n.toLocaleString('en-US');
  let rate = '';
  let lastValue = 0;
  let lastTime = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: (options, params, payload: { rate?: string }) => {
        const known = params.total > 0;
        const width = options.barsize ?? 24;
        const filled = known ? Math.round(Math.min(1, params.progress) * width) : 0;
        const barText = known ? `${'█'.repeat(filled)}${'░'.repeat(width - filled)}` : '';
        const amount = known ? `${show(params.value)} / ${show(params.total)}` : show(params.value);
        const eta = known && params.eta > 0 && Number.isFinite(params.eta) ? ` ETA ${formatSeconds(params.eta)}` : '';
        const percent = known ? ` ${Math.floor(params.progress * 100)}%` : '';
        return `${label.padEnd(9)} ${barText}${percent} ${amount}${payload.rate ? ` ${payload.rate}` : ''}${eta}`;
      },
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
      fps: 8,
      etaBuffer: 50,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total) {
      if (!started) {
        bar.start(total ?? 0, value, { rate });
        started = true;
      } else if (total !== undefined && total !== bar.getTotal()) {
        bar.setTotal(total);
      }
      const now = Date.now();
      if (now - lastTime >= 500) {
        const perSecond = ((value - lastValue) * 1000) / (now - lastTime);
        rate = unit === 'bytes' ? `${formatBytes(perSecond)}/s` : `${Math.round(perSecond).toLocaleString('en-US')}/s`;
        lastValue = value;
        lastTime = now;
      }
      bar.update(value, { rate });
    },
    stop() {
      if (started) bar.stop();
    },
  };
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
