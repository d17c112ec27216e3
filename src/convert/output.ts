/**
 * Writing big chunks to the caller's Writable with backpressure: a write the stream does not take
 * at once is followed by waiting for 'drain' (or its error), so little is buffered whatever the
 * size of the result.
 *
 * Memory: Buffers live outside the V8 heap and are freed only by a GC, which V8 starts after some
 * tens of MB of external allocations; a fresh Buffer per chunk therefore adds ~30–60 MB of garbage
 * to the peak RSS (measured). So output bytes are copied into a small ring of reused Buffers when
 * the output is known to be done with a chunk once its write callback ran (files, sockets, pipes,
 * stdout); for any other Writable (a Transform keeps references) a fresh copy is written.
 */
import { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Socket } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { CopyTarget, RecordScanner } from './scan.js';

interface Slot {
  buf: Buffer;
  busy: boolean;
}

const MIN_SLOT = 1 << 20;

/** Reusable buffers handed to writes whose completion is reported by a callback. */
export class BufferRing {
  private readonly slots: Slot[] = [];
  constructor(private readonly size: number) {}

  /** A free slot of at least `bytes`, or null when all are busy. */
  acquire(bytes: number): Slot | null {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      if (slot.buf.length < bytes) slot.buf = Buffer.allocUnsafeSlow(Math.max(bytes, slot.buf.length * 2));
      return slot;
    }
    if (this.slots.length >= this.size) return null;
    const slot = { buf: Buffer.allocUnsafeSlow(Math.max(bytes, MIN_SLOT)), busy: false };
    this.slots.push(slot);
    return slot;
  }
}

/** Copies `data` into `slot` (UTF-8 for strings); returns the filled view. */
export function fill(slot: Slot, data: Buffer | string): Buffer {
  if (typeof data === 'string') {
    if (slot.buf.length < data.length * 3)
      slot.buf = Buffer.allocUnsafeSlow(Math.max(data.length * 3, slot.buf.length * 2));
    return slot.buf.subarray(0, slot.buf.write(data, 0, 'utf8'));
  }
  if (slot.buf.length < data.length) slot.buf = Buffer.allocUnsafeSlow(Math.max(data.length, slot.buf.length * 2));
  data.copy(slot.buf, 0);
  return slot.buf.subarray(0, data.length);
}

export class OutputSink {
  bytes = 0;
  private closed = false;
  private failure: unknown;
  private pendingDrain: Promise<void> | null = null;
  private readonly ring: BufferRing | null;
  private readonly onError = (err: unknown): void => {
    this.failure ??= err;
  };

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly endOutput: boolean,
  ) {
    out.on('error', this.onError);
    const handsToOs =
      out instanceof WriteStream || out instanceof Socket || out === process.stdout || out === process.stderr;
    this.ring = handsToOs ? new BufferRing(3) : null;
  }

  /**
   * Writes a copy of `data` (which the caller may overwrite right after) and waits for 'drain'
   * when the stream asks for it.
   */
  async write(data: Buffer | string): Promise<void> {
    // The previous write's 'drain' is awaited only now, so that converting the next chunk
    // overlaps with the output's I/O while still never writing past a full stream.
    if (this.pendingDrain) await this.pendingDrain;
    if (this.failure !== undefined) throw this.failure;
    if (data.length === 0) return;
    const slot = this.ring?.acquire(typeof data === 'string' ? data.length * 3 : data.length) ?? null;
    let chunk: Buffer;
    let ok: boolean;
    if (slot) {
      chunk = fill(slot, data);
      slot.busy = true;
      ok = this.out.write(chunk, () => {
        slot.busy = false;
      });
    } else {
      chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      ok = this.out.write(chunk);
    }
    this.bytes += chunk.length;
    this.noteBackpressure(ok);
  }

  /** After a write that returned false, the next write waits for 'drain' (backpressure). */
  private noteBackpressure(ok: boolean): void {
    this.pendingDrain = ok
      ? null
      : once(this.out as unknown as NodeJS.EventEmitter, 'drain').then(
          () => {
            this.pendingDrain = null;
          },
          (err: unknown) => {
            this.failure ??= err;
          },
        );
  }

  /**
   * Writes t.buf[0, t.used) and empties t, without copying when it can: t's buffer goes to the
   * stream as it is and t takes the free ring buffer it replaces (NDJSON, where the output is as
   * big as the input).
   */
  async writeTarget(t: CopyTarget): Promise<void> {
    if (t.used === 0) return;
    if (this.pendingDrain) await this.pendingDrain;
    if (this.failure !== undefined) throw this.failure;
    const slot = this.ring?.acquire(0) ?? null;
    if (slot === null) {
      await this.write(t.buf.subarray(0, t.used));
      t.used = 0;
      return;
    }
    const whole = t.buf;
    const chunk = whole.subarray(0, t.used);
    t.buf = slot.buf;
    t.used = 0;
    slot.buf = whole;
    slot.busy = true;
    const ok = this.out.write(chunk, () => {
      slot.busy = false;
    });
    this.bytes += chunk.length;
    this.noteBackpressure(ok);
  }

  /** Ends the output (unless told not to, e.g. stdout) and waits until it is flushed. Once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pendingDrain) await this.pendingDrain;
    if (this.failure !== undefined) throw this.failure;
    if (this.endOutput) {
      this.out.end();
      await finished(this.out);
    }
    this.out.off('error', this.onError);
  }

  /** On failure: stop listening (the caller destroys or removes the output). */
  release(): void {
    // Keep swallowing a late 'error' of the abandoned output (the caller destroys it).
    this.out.off('error', this.onError);
    this.out.on('error', () => undefined);
  }
}

/**
 * Reads a file in chunks into two buffers taking turns: the next read already runs (into the other
 * buffer) while the current chunk is converted, and the bytes go from the kernel straight to where
 * they are scanned. Each buffer keeps `chunkSize` bytes of room in front of its read, where the
 * previous chunk's unconsumed tail (a record cut by the chunk boundary) is put. Call settle()
 * before closing the file handle.
 */
export class PrefetchReader {
  private readonly bufs: Buffer[];
  private turn = 0;
  private pending: Promise<number> | null = null;
  private error: unknown;
  private pos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly chunkSize: number,
    private readonly growing?: GrowingInput,
    private readonly signal?: AbortSignal,
  ) {
    this.bufs = [Buffer.allocUnsafeSlow(chunkSize * 2), Buffer.allocUnsafeSlow(chunkSize * 2)];
    this.start();
  }

  private start(): void {
    const read = () => this.fh.read(this.bufs[this.turn]!, this.chunkSize, this.chunkSize, this.pos);
    // A file still being downloaded: wait for a whole chunk (or the end) instead of taking a
    // short read for the end of the file.
    const ready = this.growing ? this.growing.waitFor(this.pos + this.chunkSize, this.signal).then(read) : read();
    this.pending = ready.then(
      (r) => r.bytesRead,
      (err: unknown) => {
        this.error = err;
        return 0;
      },
    );
  }

  /**
   * The next chunk (bytesRead = 0 at end of file) preceded by prev[from, to), as one view. prev is
   * not used after this call returns.
   */
  async next(prev: Buffer, from: number, to: number): Promise<{ view: Buffer; bytesRead: number }> {
    const n = this.pending ? await this.pending : 0;
    this.pending = null;
    if (this.error !== undefined) throw this.error;
    const room = this.chunkSize;
    const cur = this.bufs[this.turn]!;
    const carry = to - from;
    let view: Buffer;
    if (carry <= room) {
      prev.copy(cur, room - carry, from, to);
      view = cur.subarray(room - carry, room + n);
    } else {
      view = Buffer.allocUnsafe(carry + n);
      prev.copy(view, 0, from, to);
      cur.copy(view, carry, room, room + n);
    }
    if (n > 0) {
      this.pos += n;
      this.turn ^= 1;
      this.start();
    }
    return { view, bytesRead: n };
  }

  async settle(): Promise<void> {
    if (this.pending) await this.pending;
    this.pending = null;
  }
}

/**
 * An input file that is still being written (a download in progress): reads wait until `size`
 * bytes are there or the file is complete; a failed download rejects the wait.
 */
export interface GrowingInput {
  waitFor(size: number, signal?: AbortSignal): Promise<void>;
}

/** What the converters do with records; one implementation per output format. */
export interface RecordWriter {
  /**
   * The fast scanner for this format, its record mode fixed (scan.ts createRecordScanner): copy
   * (NDJSON), validate (JSON), the CSV byte path, or boundaries for JSON.parse.
   */
  createScanner(recordsKeys: readonly string[]): RecordScanner;
  /** NDJSON: where the scanner copies records (minified); the output takes the buffer as it is. */
  copyTo?: CopyTarget;
  /** Records as values (stream-json engine); numbers as JsonNumber when exactNumbers. */
  values(records: unknown[]): void;
  exactNumbers?: boolean;
  /** Output produced so far, taken after each read (a view, valid until the next records). */
  take(): Buffer | string | null;
  /** Output lines so far (CSV: after explode). */
  lines: number;
}

/** Where output goes: the caller's stream, or the CSV body's temporary file. */
export interface Target {
  write(data: Buffer | string): Promise<void>;
}

/** Reads fh from `start` into one reused buffer and writes each chunk (maybe transformed). */
export async function copyFile(
  fh: FileHandle,
  sink: OutputSink,
  transform: ((chunk: Buffer) => Buffer) | null,
  signal: AbortSignal | undefined,
  start = 0,
): Promise<void> {
  const chunkSize = 1 << 20;
  const buf = Buffer.allocUnsafeSlow(chunkSize);
  for (let pos = start; ; ) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, chunkSize, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    const chunk = buf.subarray(0, bytesRead);
    await sink.write(transform ? transform(chunk) : chunk);
  }
}
