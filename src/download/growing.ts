/**
 * A file that a download is still writing, as its reader sees it: how many bytes are on disk and
 * final, whether the download finished (checked complete), or why it failed. The converter waits
 * on it instead of treating "no more bytes yet" as the end of the file, so it consumes the bytes
 * as they reach the disk and pauses while a cut transfer resumes.
 */
export class GrowingFile {
  /** Bytes on disk that the reader may read. */
  size = 0;
  complete = false;
  failure: unknown = undefined;
  private waiters: Array<() => void> = [];
  private readyPath: ((path: string) => void) | undefined;
  private readyFailed: ((error: unknown) => void) | undefined;
  /** The path to read, once the first answer told whether it is the raw or a decoded file. */
  readonly ready: Promise<string>;

  constructor() {
    this.ready = new Promise<string>((resolve, reject) => {
      this.readyPath = resolve;
      this.readyFailed = reject;
    });
    // A failure before anyone waits on `ready` is reported through the download's own promise.
    this.ready.catch(() => undefined);
  }

  open(path: string): void {
    this.readyPath?.(path);
  }

  grow(size: number): void {
    this.size = size;
    this.wake();
  }

  /** Starting over (the object changed before anything was read): only legal before open(). */
  reset(): void {
    this.size = 0;
  }

  finish(size: number): void {
    this.size = size;
    this.complete = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.complete) return;
    this.failure ??= error;
    this.readyFailed?.(error);
    this.wake();
  }

  /**
   * Resolves once at least `size` bytes are on disk or the file is complete (then it may hold
   * fewer); rejects with the download's failure or on abort.
   */
  async waitFor(size: number, signal?: AbortSignal): Promise<void> {
    while (this.size < size && !this.complete) {
      if (this.failure !== undefined) throw this.failure;
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    if (this.failure !== undefined && !this.complete) throw this.failure;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
