/**
 * The worker thread of convert-thread.ts: converts the download it is given, as it grows, into the
 * target, and reports back by message.
 */
import { parentPort } from 'node:worker_threads';
import { SharedGrowingInput } from '../download/growing.js';
import { errorToRecord } from '../errors.js';
import type { ConvertJob, MainMessage, WorkerMessage } from './convert-thread.js';
import { convertToTarget } from './convert-to-target.js';

const port = parentPort;
if (!port) throw new Error('convert-worker.js runs only as a worker thread');
const post = (message: WorkerMessage): void => port.postMessage(message);
const abort = new AbortController();
const job = await new Promise<ConvertJob>((resolve) => {
  port.on('message', (message: MainMessage) => {
    if (message.type === 'job') resolve(message.job);
    else abort.abort();
  });
});
try {
  const result = await convertToTarget(job.inputPath, job.partPath, {
    target: job.target,
    report: job.report,
    csv: job.csv,
    stdout: process.stdout,
    signal: abort.signal,
    growing: new SharedGrowingInput(job.growing),
    scratchDir: job.scratchDir,
    maxRecordsPerSheet: job.maxRecordsPerSheet,
    onConvertProgress: (progress) => post({ type: 'progress', progress }),
    onWarning: (line) => post({ type: 'warning', line }),
  });
  post({ type: 'done', result });
} catch (error) {
  post({ type: 'error', error: errorToRecord(error) });
}
port.close();
