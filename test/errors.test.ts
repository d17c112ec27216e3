/**
 * Errors crossing from the conversion's worker thread (core/convert-thread.ts): the class, and
 * with it the exit code, and what the message and hint are built from, survive the trip.
 */
import { describe, expect, it } from 'vitest';
import { localFileError } from '../src/core/local-file.js';
import {
  BadResultError,
  ExitCode,
  InterruptedError,
  LocalFileError,
  errorFromRecord,
  errorToRecord,
  exitCodeOf,
} from '../src/errors.js';

/** Through a structured clone, as postMessage does. */
const acrossThreads = (error: unknown): Error => errorFromRecord(structuredClone(errorToRecord(error)));

describe('errorToRecord / errorFromRecord', () => {
  it('keeps our error classes, their exit codes, hints and details', () => {
    const error = acrossThreads(
      new BadResultError('the result ends inside a record at byte 1234', {
        hint: 'run it again',
        details: { at: 1234 },
      }),
    );
    expect(error).toBeInstanceOf(BadResultError);
    expect(exitCodeOf(error)).toBe(ExitCode.network);
    expect(error.message).toBe('the result ends inside a record at byte 1234');
    expect((error as BadResultError).hint).toBe('run it again');
    expect((error as BadResultError).details).toEqual({ at: 1234 });
    expect(exitCodeOf(acrossThreads(new InterruptedError('interrupted')))).toBe(ExitCode.interrupted);
  });

  it('keeps a system error what localFileError needs, down its causes', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/data/out.csv.part',
    });
    const wrapped = acrossThreads(new Error('writing failed', { cause: enospc }));
    const mapped = localFileError(wrapped, 'fallback');
    expect(mapped).toBeInstanceOf(LocalFileError);
    expect(mapped?.message).toBe('cannot write /data/out.csv.part: no space left on the device (ENOSPC)');
  });

  it('an error of no class of ours stays an internal error (exit 1), with its stack', () => {
    const bug = new TypeError('x is not a function');
    const error = acrossThreads(bug);
    expect(exitCodeOf(error)).toBe(ExitCode.internal);
    expect(error.name).toBe('TypeError');
    expect(error.stack).toBe(bug.stack);
    expect(acrossThreads('thrown string').message).toBe('thrown string');
  });
});
