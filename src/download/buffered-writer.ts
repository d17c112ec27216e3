/**
 * Socket chunks → disk through two fixed buffers taking turns: chunks are copied into one while
 * the other is being written, and the source is paused only when both are full. Measured on a
 * 100 MB result: awaiting a file write per socket chunk (64 KiB) took 3 s and 77 MB of RSS, these
 * 1 MiB buffers 0.9 s and 45 MB (curl: 1 s, 11 MB): fewer, bigger writes, and the socket's chunks
 * die young instead of piling up as garbage while writes are pending.
 */
export const WRITE_BUFFER = 1 << 20;

export class BufferedWriter {
  private readonly bufs: Buffer[];
  private turn = 0;
  private used = 0;
  private writing: Promise<void> | null = null;
  private failure: unknown;

  /** `write` puts bytes on disk (and wherever else); the buffer is reused once it resolves. */
  constructor(
    private readonly write: (bytes: Buffer) => Promise<void>,
    size = WRITE_BUFFER,
  ) {
    this.bufs = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  }

  /**
   * Copies as much of chunk[from…] as fits without waiting; returns how far it got. Less than
   * the whole chunk means: pause the source, `await drain()`, then call again with the rest.
   */
  add(chunk: Buffer, from = 0): number {
    if (this.failure !== undefined) throw this.failure;
    const size = this.bufs[0]!.length;
    let off = from;
    while (off < chunk.length) {
      if (this.used === size) {
        if (this.writing) return off;
        this.flushCurrent();
      }
      const take = Math.min(chunk.length - off, size - this.used);
      chunk.copy(this.bufs[this.turn]!, this.used, off, off + take);
      this.used += take;
      off += take;
    }
    if (this.used === size && !this.writing) this.flushCurrent();
    return off;
  }

  /** Waits for the write in flight (throws its failure). */
  async drain(): Promise<void> {
    if (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Everything added so far on disk: the end of the body, or a cut (its bytes are kept). */
  async flush(): Promise<void> {
    await this.drain();
    if (this.used > 0) this.flushCurrent();
    await this.drain();
  }

  private flushCurrent(): void {
    const bytes = this.bufs[this.turn]!.subarray(0, this.used);
    this.turn ^= 1;
    this.used = 0;
    this.writing = this.write(bytes).then(
      () => {
        this.writing = null;
      },
      (error: unknown) => {
        this.failure ??= error;
        this.writing = null;
      },
    );
  }
}
