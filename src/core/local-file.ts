/**
 * Local file failures (disk full, file too large, read-only file system, folder removed, no
 * permission) turned into one line that names the file and the cause, exit 9 (README.md
 * "Exit codes"), instead of a stack trace or a misleading network error.
 */
import { LocalFileError, MsAsyncError, InterruptedError } from '../errors.js';

const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file is larger than the file system or the process limit allows',
  EROFS: 'the file system is read-only',
  ENOENT: 'its folder no longer exists',
  ENOTDIR: 'a part of its path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an input/output error of the device',
};

const HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'free some space on that disk, or write the output elsewhere (temporary files go beside --out)',
  EDQUOT: 'free some space on that disk, or write the output elsewhere (temporary files go beside --out)',
  EFBIG: 'write the output to a file system that takes large files (or raise `ulimit -f`)',
  EROFS: 'write the output to a writable folder',
  ENOENT: 'the folder was removed while the command ran: create it and run again',
  EACCES: 'check the permissions of that folder',
  EPERM: 'check the permissions of that folder',
};

/**
 * The LocalFileError for `error` when it is (or was caused by) a file-system failure, else
 * undefined. `fallbackPath` names the file when the system error does not (a failed `write`).
 * An interrupt stays an interrupt (130) whatever it caused.
 */
export function localFileError(error: unknown, fallbackPath: string): LocalFileError | undefined {
  if (error instanceof InterruptedError || error instanceof LocalFileError) return undefined;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const errno = e as NodeJS.ErrnoException;
    const cause = errno.code === undefined ? undefined : CAUSES[errno.code];
    // A syscall marks a system error; a network failure (ENOTFOUND …) has other codes.
    if (cause === undefined || typeof errno.syscall !== 'string' || e instanceof MsAsyncError) continue;
    const path = typeof errno.path === 'string' ? errno.path : fallbackPath;
    const code = errno.code as string;
    return new LocalFileError(`cannot ${verbOf(errno.syscall)} ${path}: ${cause} (${code})`, {
      cause: error,
      ...(HINTS[code] ? { hint: HINTS[code] } : {}),
    });
  }
  return undefined;
}

function verbOf(syscall: string): string {
  if (syscall === 'read' || syscall === 'stat' || syscall === 'lstat' || syscall === 'fstat') return 'read';
  if (syscall === 'rename') return 'rename';
  if (syscall === 'open' || syscall === 'scandir') return 'open';
  return 'write';
}
