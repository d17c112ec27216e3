/**
 * A file that a download is still writing, as its reader sees it: how many bytes are on disk and
 * final, whether the download finished (checked complete), or why it failed. The converter waits
 * on it instead of treating "no more bytes yet" as the end of the file, so it consumes the bytes
 * as they reach the disk and pauses while a cut transfer resumes.
 *
 * A converter in a worker thread (core/convert-thread.ts) reads the same state from shared memory
 * (share() here, SharedGrowingInput there): one atomic store per write, no message per chunk.
 */
export class GrowingFile {
  /** Bytes on disk that the reader may read. */
  size = 0;
  complete = false;
  failure: unknown = undefined;
  private waiters: Array<() => void> = [];
  private shared: SharedState | undefined;
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

  /** The state as a worker reads it (SharedGrowingInput), kept up to date from now on. */
  share(): SharedArrayBuffer {
    this.shared ??= new SharedState(new SharedArrayBuffer(SHARED_BYTES));
    this.shared.publish(this.size, this.complete ? COMPLETE : this.failure === undefined ? GROWING : FAILED);
    return this.shared.buffer;
  }

  open(path: string): void {
    this.readyPath?.(path);
  }

  grow(size: number): void {
    this.size = size;
    this.shared?.publish(size, GROWING);
    this.wake();
  }

  /** Starting over (the object changed before anything was read): only legal before open(). */
  reset(): void {
    this.size = 0;
    this.shared?.publish(0, GROWING);
  }

  finish(size: number): void {
    this.size = size;
    this.complete = true;
    this.shared?.publish(size, COMPLETE);
    this.wake();
  }

  fail(error: unknown): void {
    if (this.complete) return;
    this.failure ??= error;
    this.shared?.publish(this.size, FAILED);
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

// The shared state: [0] a sequence number bumped on every change (what readers wait on), [1] the
// state below; then the size as a 64-bit integer (results pass 2 GiB).
const SEQ = 0;
const STATE = 1;
const GROWING = 0;
const COMPLETE = 1;
const FAILED = 2;
const SHARED_BYTES = 16;

class SharedState {
  readonly flags: Int32Array;
  readonly size: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.flags = new Int32Array(buffer, 0, 2);
    this.size = new BigInt64Array(buffer, 8, 1);
  }

  publish(size: number, state: number): void {
    Atomics.store(this.size, 0, BigInt(size));
    Atomics.store(this.flags, STATE, state);
    Atomics.add(this.flags, SEQ, 1);
    Atomics.notify(this.flags, SEQ);
  }
}

/**
 * Atomics.waitAsync: in Node 20 (V8 11.3), in TypeScript only with the ES2024 library, which would
 * also let through what Node 20 lacks (tsconfig.json keeps ES2023).
 */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<unknown> | string };
  }
).waitAsync;

/** The download failed: the thread that runs it knows why (the reader only learns that it did). */
export class DownloadFailedError extends Error {}

/** A GrowingFile as a worker thread sees it, through the buffer of GrowingFile.share(). */
export class SharedGrowingInput {
  private readonly state: SharedState;

  constructor(buffer: SharedArrayBuffer) {
    this.state = new SharedState(buffer);
  }

  async waitFor(size: number, signal?: AbortSignal): Promise<void> {
    const { flags } = this.state;
    const wake = (): void => void Atomics.notify(flags, SEQ);
    signal?.addEventListener('abort', wake, { once: true });
    try {
      for (;;) {
        const seq = Atomics.load(flags, SEQ);
        const state = Atomics.load(flags, STATE);
        if (state === FAILED) throw new DownloadFailedError('the download failed');
        if (state === COMPLETE || Number(Atomics.load(this.state.size, 0)) >= size) return;
        signal?.throwIfAborted();
        const wait = waitAsync(flags, SEQ, seq);
        if (wait.async) await wait.value;
      }
    } finally {
      signal?.removeEventListener('abort', wake);
    }
  }
}
