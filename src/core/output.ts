/**
 * The output side of fetch/export: choosing the format, checking `--out` before any request, and
 * the temporary-file-then-rename dance that makes the output appear complete or not at all
 * (README.md "Command reference", fetch).
 */
import { randomBytes } from 'node:crypto';
import { constants, type WriteStream } from 'node:fs';
import { access, lstat, readdir, readlink, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isProcessAlive } from '../process-alive.js';
import type { CsvOptions } from '../convert/csv-rules.js';
import { FORMATS, formatFromPath, type OutputFormat } from '../convert/formats.js';

export interface OutputTarget {
  /** Absolute path of `--out`, or undefined for stdout (`--out -`). */
  path: string | undefined;
  format: OutputFormat;
  /** Folder for temporary files: beside `--out` (same file system, so rename is atomic). */
  workDir: string;
}

/** Validates `--out` and `--format` before anything is sent (exit 2 on a bad one). */
export async function resolveOutputTarget(out: string | undefined, format: string | undefined): Promise<OutputTarget> {
  if (out === undefined || out === '') {
    throw new UsageError('--out is required: a file path, or - for stdout', { hint: 'add --out result.csv' });
  }
  const chosen = format === undefined ? undefined : parseFormat(format);
  if (out === '-') {
    return { path: undefined, format: chosen ?? 'ndjson', workDir: tmpdir() };
  }
  const path = await followSymlink(resolve(out));
  const byExtension = formatFromPath(resolve(out));
  const finalFormat = chosen ?? byExtension;
  if (!finalFormat) {
    throw new UsageError(`cannot tell the format of "${out}" from its extension`, {
      hint: `name it .csv, .ndjson, .jsonl, .json or .xlsx, or add --format ${Object.keys(FORMATS).join('|')}`,
    });
  }
  const dir = dirname(path);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new UsageError(`the folder of --out does not exist: ${dir}`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`cannot write into the folder of --out: ${dir}`);
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`--out names a folder, not a file: ${out}`);
  return { path, format: finalFormat, workDir: dir };
}

/**
 * `--columns` with NDJSON or JSON: those formats carry each record whole, so the flag would be
 * silently ignored; a script that relies on it gets exit 2 before anything is sent instead.
 */
export function refuseColumnsWithoutCsv(target: OutputTarget, csv: Partial<CsvOptions>): void {
  if (csv.columns === undefined || (target.format !== 'ndjson' && target.format !== 'json')) return;
  throw new UsageError(`--columns picks CSV columns; ${target.format} keeps every record whole`, {
    hint: 'drop --columns, or write CSV (--format csv or an --out ending in .csv)',
  });
}

/**
 * An `--out` that is a symbolic link names the file to replace: its target (the link stays, and
 * the temporary files go beside the target, so that the rename stays on one file system).
 */
async function followSymlink(path: string): Promise<string> {
  const link = await lstat(path).catch(() => undefined);
  if (!link?.isSymbolicLink()) return path;
  try {
    return await realpath(path);
  } catch {
    // A dangling link: the file it names is created.
    return resolve(dirname(path), await readlink(path));
  }
}

/**
 * The mode the output gets: the mode of the file it replaces (a 0600 export stays 0600), or what
 * a new file gets under the umask. The temporary file itself is 0600 until then.
 */
export async function finalMode(path: string): Promise<number> {
  const existing = await stat(path).catch(() => undefined);
  if (existing) return existing.mode & 0o7777;
  // process.umask() is the only way to read it; it is a read here, nothing is changed.
  return 0o666 & ~process.umask();
}

function parseFormat(format: string): OutputFormat {
  const lower = format.toLowerCase();
  if (lower === 'jsonl') return 'ndjson';
  if (lower in FORMATS) return lower as OutputFormat;
  throw new UsageError(`unknown --format "${format}"`, { hint: `use one of: ${Object.keys(FORMATS).join(', ')}` });
}

/**
 * A hidden temporary path beside the target, unique per run: `.stock.csv.4242-3f9a1c0b.part`.
 * Hidden so that a half-written file never looks like a result to a directory watcher; the pid
 * lets a later run tell a killed run's leftover (removeOrphans) from a live run's file.
 */
export function temporaryPath(target: OutputTarget, suffix: string): string {
  const name = target.path === undefined ? 'ms-async-stdout' : basename(target.path);
  return join(target.workDir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.${suffix}`);
}

/** Removes the temporary files beside `--out` that runs killed (kill -9, power loss) left behind. */
export async function removeOrphans(target: OutputTarget): Promise<void> {
  if (target.path === undefined) return;
  const name = basename(target.path);
  const names = await readdir(target.workDir).catch(() => [] as string[]);
  const prefix = `.${name}.`;
  await Promise.all(
    names.map(async (entry) => {
      if (!entry.startsWith(prefix)) return;
      const match = /^(\d+)-[0-9a-f]{8}\.part$/.exec(entry.slice(prefix.length));
      if (!match || isProcessAlive(Number(match[1]))) return;
      await rm(join(target.workDir, entry), { force: true });
    }),
  );
}

/** Removes temporary files, ignoring ones that are already gone. */
export async function removeAll(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

/**
 * Destroys a file stream and waits for it to close. A stream destroyed before its open completed
 * still creates the file, so removing the file must wait for this, or it races the open.
 */
export async function discardStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((resolve) => stream.once('close', () => resolve()).destroy());
}
