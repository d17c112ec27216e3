/**
 * `fetch` and `export` convert a download in a worker thread (issue 13). The main thread receives
 * the download and writes it to disk; a converter on the same thread fell behind whenever the
 * machine was busy, and on 2 cores a 1 GB fetch took up to 1.8× the download. The worker reads
 * the growing file's state from shared memory (download/growing.ts) and sends back progress,
 * warnings and its result or error (rebuilt by errors.ts errorFromRecord, so exit codes hold).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ConvertProgress, ConvertResult, CsvOptions } from '../convert/index.js';
import { errorFromRecord, type ErrorRecord } from '../errors.js';
import type { ReportSpec } from '../reports/catalog.js';
import type { ConvertToTargetOptions } from './convert-to-target.js';
import type { OutputTarget } from './output.js';

/** The worker's script, beside this module in tsc's dist/ and in the bundle (scripts/bundle.mjs). */
const WORKER_URL = new URL('./convert-worker.js', import.meta.url);
let workerScript: boolean | undefined;

/**
 * Whether the worker's script is there: not under the tests, which run the TypeScript sources
 * (those convert on the main thread, as `--out -` always does).
 */
export function canConvertInWorker(): boolean {
  workerScript ??= existsSync(fileURLToPath(WORKER_URL));
  return workerScript;
}

/** What the worker is given (a structured clone). */
export interface ConvertJob {
  inputPath: string;
  partPath: string;
  /** GrowingFile.share() of the download being converted. */
  growing: SharedArrayBuffer;
  target: OutputTarget;
  report: ReportSpec | undefined;
  csv: Partial<CsvOptions>;
  scratchDir: string | undefined;
  maxRecordsPerSheet: number | undefined;
}

export type MainMessage = { type: 'job'; job: ConvertJob } | { type: 'abort' };

export type WorkerMessage =
  | { type: 'progress'; progress: ConvertProgress }
  | { type: 'warning'; line: string }
  | { type: 'done'; result: ConvertResult }
  | { type: 'error'; error: ErrorRecord };

type WorkerConvertOptions = Pick<
  ConvertToTargetOptions,
  | 'target'
  | 'report'
  | 'csv'
  | 'signal'
  | 'scratchDir'
  | 'maxRecordsPerSheet'
  | 'onConvertStart'
  | 'onConvertProgress'
  | 'onWarning'
>;

/**
 * A worker thread for one conversion. Started before the download's first bytes, because a thread
 * takes ~0.1 s to start on a slow machine; then given the file with convert(), or stopped unused.
 */
export class ConvertWorker {
  private readonly worker = new Worker(WORKER_URL);
  private readonly exited: Promise<unknown>;
  /** Why the thread ended before convert() was called (it could not load, say). */
  private early: Error | undefined;

  constructor() {
    this.worker.on('error', (error) => {
      this.early ??= error;
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.early ??= new Error(`the conversion thread stopped unexpectedly (exit code ${code})`);
        resolve(code);
      }),
    );
  }

  /** convertToTarget (convert-to-target.ts) of a file that a download is writing. */
  async convert(
    inputPath: string,
    partPath: string,
    growing: SharedArrayBuffer,
    options: WorkerConvertOptions,
  ): Promise<ConvertResult> {
    const { worker } = this;
    const job: ConvertJob = {
      inputPath,
      partPath,
      growing,
      target: options.target,
      report: options.report,
      csv: options.csv,
      scratchDir: options.scratchDir,
      maxRecordsPerSheet: options.maxRecordsPerSheet,
    };
    options.onConvertStart?.(undefined);
    const stop = (): void => worker.postMessage({ type: 'abort' } satisfies MainMessage);
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      return await new Promise<ConvertResult>((resolve, reject) => {
        worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'progress') options.onConvertProgress?.(message.progress);
          else if (message.type === 'warning') options.onWarning?.(message.line);
          else if (message.type === 'done') resolve(message.result);
          else reject(errorFromRecord(message.error));
        });
        // Settles nothing when a message did already; else the thread died (an uncaught error of
        // its own comes first as 'error': it is `early` then).
        void this.exited.then(() => reject(this.early));
        worker.postMessage({ type: 'job', job } satisfies MainMessage);
        if (options.signal?.aborted) stop();
      });
    } finally {
      options.signal?.removeEventListener('abort', stop);
      await this.stop();
    }
  }

  /** Ends the thread: unused, or done (its conversion settled, its files closed). */
  async stop(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}
