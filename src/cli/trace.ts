/** `--trace <file>`: the recorder of a run, checked before anything is sent and saved at its end. */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { TraceRecorder } from '../trace/recorder.js';

export async function startTrace(
  file: string,
  options: { version: string; now: () => number },
): Promise<TraceRecorder> {
  const path = resolve(file);
  // A missing folder is a usage error now, not a lost trace after a long wait.
  const folder = await stat(dirname(path)).catch(() => undefined);
  if (!folder?.isDirectory()) throw new UsageError(`--trace: the folder of ${file} does not exist`);
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new UsageError(`--trace: ${file} is a folder`);
  return new TraceRecorder({ version: options.version, now: options.now });
}

/** Writes the trace; a failure to write is returned (the run's own outcome comes first). */
export async function saveTrace(recorder: TraceRecorder, file: string): Promise<Error | undefined> {
  try {
    await recorder.write(resolve(file));
    return undefined;
  } catch (error) {
    return new UsageError(`cannot write the trace to ${file}: ${(error as Error).message}`);
  }
}
