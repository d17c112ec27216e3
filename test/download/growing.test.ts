/**
 * The growing file's state as a converter in a worker thread reads it: shared memory written by
 * the download's GrowingFile, read by SharedGrowingInput (here both on one thread: the Atomics
 * calls are the same, and a test needs no compiled worker script).
 */
import { describe, expect, it } from 'vitest';
import { DownloadFailedError, GrowingFile, SharedGrowingInput } from '../../src/download/growing.js';

/** Whether `promise` settled by the time the tasks queued so far have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('SharedGrowingInput', () => {
  it('waits until the download has written the bytes asked for, then resolves', async () => {
    const file = new GrowingFile();
    const input = new SharedGrowingInput(file.share());
    const wait = input.waitFor(3_000_000_000); // past 2 GiB: the size is 64-bit
    file.grow(2_999_999_999);
    expect(await settled(wait)).toBe(false);
    file.grow(3_000_000_000);
    expect(await settled(wait)).toBe(true);
    await expect(input.waitFor(10)).resolves.toBeUndefined();
  });

  it('resolves short of the size asked for once the download finished', async () => {
    const file = new GrowingFile();
    const input = new SharedGrowingInput(file.share());
    const wait = input.waitFor(1 << 20);
    file.grow(100);
    expect(await settled(wait)).toBe(false);
    file.finish(200);
    await expect(wait).resolves.toBeUndefined();
  });

  it('sees the state the file had before it was shared', async () => {
    const file = new GrowingFile();
    file.finish(5);
    await expect(new SharedGrowingInput(file.share()).waitFor(1 << 20)).resolves.toBeUndefined();
  });

  it('rejects when the download fails, even with bytes enough on disk', async () => {
    const file = new GrowingFile();
    const input = new SharedGrowingInput(file.share());
    const wait = input.waitFor(1 << 20);
    file.grow(1 << 21);
    file.fail(new Error('cut'));
    // Bytes of a failed download are not to be converted (GrowingFile.waitFor alike).
    await expect(wait).rejects.toBeInstanceOf(DownloadFailedError);
    await expect(input.waitFor(10)).rejects.toBeInstanceOf(DownloadFailedError);
  });

  it('a waiting reader learns of the failure', async () => {
    const file = new GrowingFile();
    const input = new SharedGrowingInput(file.share());
    const wait = input.waitFor(1 << 20);
    expect(await settled(wait)).toBe(false);
    file.fail(new Error('cut'));
    await expect(wait).rejects.toBeInstanceOf(DownloadFailedError);
  });

  it('an abort wakes a waiting reader and rejects with the abort', async () => {
    const file = new GrowingFile();
    const input = new SharedGrowingInput(file.share());
    const abort = new AbortController();
    const wait = input.waitFor(1 << 20, abort.signal);
    expect(await settled(wait)).toBe(false);
    abort.abort(new Error('stop'));
    await expect(wait).rejects.toThrow('stop');
  });
});
