/**
 * What fetch/export/convert show while they move bytes and records: cli-progress bars on an
 * interactive stderr, nothing otherwise (the plain-line log of state changes is the poller's).
 */
import type { CommandContext } from './context.js';
import { createProgressBar, type ProgressBar } from '../ui/progress.js';

export interface TransferProgress {
  onDownloadProgress: (p: { transferred: number; total: number | undefined }) => void;
  onConvertProgress: (p: { records: number; total?: number }) => void;
  /** Stops the bars; call in `finally`. */
  stop: () => void;
}

export async function createTransferProgress(ctx: CommandContext): Promise<TransferProgress> {
  const { mode, deps } = ctx;
  if (!mode.interactive) return { onDownloadProgress: () => {}, onConvertProgress: () => {}, stop: () => {} };
  const download = await createProgressBar(mode, deps.io.stderr, 'download', 'bytes', deps.now);
  const convert = await createProgressBar(mode, deps.io.stderr, 'records', 'records', deps.now);
  let downloading = false;
  let converting = false;
  const stopBar = (bar: ProgressBar | null, active: boolean): void => {
    if (active) bar?.stop();
  };
  return {
    onDownloadProgress: (p) => {
      downloading = true;
      download?.update(p.transferred, p.total);
    },
    onConvertProgress: (p) => {
      if (downloading) {
        stopBar(download, downloading);
        downloading = false;
      }
      converting = true;
      convert?.update(p.records, p.total);
    },
    stop: () => {
      stopBar(download, downloading);
      stopBar(convert, converting);
      downloading = false;
      converting = false;
    },
  };
}
