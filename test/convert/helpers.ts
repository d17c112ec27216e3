import { expect } from 'vitest';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { convertFile, type ConvertOptions, type ConvertResult } from '../../src/convert/index.js';

/** A Writable that keeps what it is given. */
export class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Converts to memory. A CSV is converted into a file as well, both ways a file is written
 * (csv-output.ts HeaderFirst): the header out after the first read's lines (so that columns and
 * money decimals found later make it write the file again) and after all of them; each file
 * must hold the same bytes as the stream, and no spare file may stay.
 */
export async function convertToText(
  path: string,
  options: ConvertOptions,
): Promise<{ text: string; bytes: Buffer; result: ConvertResult }> {
  const out = new Collect();
  const result = await convertFile(path, out, options);
  if (options.format === 'csv' && options.outputFile === undefined) {
    // Small reads for the first: many writes, so that columns appear after the header went out.
    for (const [holdBytes, chunkSize] of [
      [1, options.chunkSize ?? 256],
      [1 << 30, options.chunkSize],
    ]) {
      const file = await convertToFileBytes(path, { ...options, holdBytes, ...(chunkSize ? { chunkSize } : {}) });
      // Compared as text only when they differ: toEqual on megabytes of Buffer takes seconds.
      if (!file.equals(out.bytes())) expect(file.toString('utf8'), `holdBytes ${holdBytes}`).toBe(out.text());
    }
  }
  return { text: out.text(), bytes: out.bytes(), result };
}

async function convertToFileBytes(path: string, options: ConvertOptions): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'ms-convert-file-'));
  try {
    const file = { path: join(dir, 'out.csv'), spare: join(dir, 'spare.csv') };
    await convertFile(path, createWriteStream(file.path, { flags: 'wx' }), { ...options, outputFile: file });
    expect(await readdir(dir)).toEqual(['out.csv']);
    return await readFile(file.path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function makeTmp(): Promise<{
  dir: string;
  file: (name: string, content?: string | Buffer) => Promise<string>;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'ms-convert-'));
  return {
    dir,
    async file(name, content) {
      const p = join(dir, name);
      if (content !== undefined) await writeFile(p, content);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** NDJSON text → records. */
export function parseLines(text: string): unknown[] {
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text === ''
    ? []
    : text
        .slice(0, -1)
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
}
