/**
 * What fetch/export/convert show while they move bytes and records: cli-progress bars on an
 * interactive stderr, nothing otherwise (the plain-line log of state changes is the poller's).
 */
import type { CommandContext } from './context.js';
import { createProgressBar, type ProgressBar } from '../ui/progress.js';
import { formatCount } from '../count.js';

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
  let transferComplete = false;
  // The conversion runs while the bytes arrive: until they are all in, its count rides on the
  // download's line (a bar per line would fight for the one line cli-progress redraws).
  let lastDownload: { transferred: number; total: number | undefined } | undefined;
  let records: string | undefined;
  const stopBar = (bar: ProgressBar | null, active: boolean): void => {
    if (active) bar?.stop();
  };
  return {
    onDownloadProgress: (p) => {
      if (converting) return; // the download is over (a bar per line would fight for it)
      downloading = true;
      transferComplete = p.total !== undefined && p.transferred >= p.total;
      lastDownload = p;
      download?.update(p.transferred, p.total, records);
    },
    onConvertProgress: (p) => {
      if (downloading && !transferComplete) {
        records = `${formatCount(p.records)} records converted`;
        if (lastDownload) download?.update(lastDownload.transferred, lastDownload.total, records);
        return;
      }
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
