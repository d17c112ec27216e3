import { expect } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

export async function convertToText(
  path: string,
  options: ConvertOptions,
): Promise<{ text: string; bytes: Buffer; result: ConvertResult }> {
  const out = new Collect();
  const result = await convertFile(path, out, options);
  return { text: out.text(), bytes: out.bytes(), result };
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
