import { describe, expect, it } from 'vitest';
import { finalStateError, pollTask } from '../../src/poller/poll.js';
import type { AsyncTask } from '../../src/api/types.js';
import { ApiError, AuthError, InterruptedError, TaskFailedError, TimeoutError } from '../../src/errors.js';

/** A fake clock whose sleep advances it; getTask answers a scripted sequence of states. */
function harness(states: string[]) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const reads: number[] = [];
  const getTask = async (): Promise<AsyncTask> => {
    reads.push(clock);
    const state = states.length > 1 ? states.shift()! : states[0]!;
    return { id: 't1', state, request: 'https://h/api/remap/1.2/report/stock/all?async=true' };
  };
  const sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    sleeps.push(ms);
    clock += ms;
  };
  return { getTask, sleep, now: () => clock, sleeps, reads };
}

describe('pollTask', () => {
  it('reads at once, then backs off ~1 s ×1.6 up to ~10 s with jitter, until a final state', async () => {
    const h = harness([
      'PENDING',
      'PENDING',
      'PROCESSING',
      'PROCESSING',
      'PROCESSING',
      'PROCESSING',
      'PROCESSING',
      'PROCESSING',
      'DONE',
    ]);
    const updates: string[] = [];
    const task = await pollTask(h.getTask, {
      timeoutMs: 0,
      sleep: h.sleep,
      now: h.now,
      random: () => 0.5,
      onUpdate: (t, ms) => updates.push(`${t.state}@${ms}`),
    });
    expect(task.state).toBe('DONE');
    expect(h.sleeps).toEqual([1000, 1600, 2560, 4096, 6554, 10000, 10000, 10000]);
    expect(updates[0]).toBe('PENDING@0');
    expect(updates.at(-1)).toBe(`DONE@${h.sleeps.reduce((a, b) => a + b)}`);
  });

  it('jitter keeps each pause within 75–125% of nominal', async () => {
    const low = harness(['PENDING', 'DONE']);
    await pollTask(low.getTask, { timeoutMs: 0, sleep: low.sleep, now: low.now, random: () => 0 });
    const high = harness(['PENDING', 'DONE']);
    await pollTask(high.getTask, { timeoutMs: 0, sleep: high.sleep, now: high.now, random: () => 0.9999 });
    expect(low.sleeps).toEqual([750]);
    expect(high.sleeps).toEqual([1250]);
  });

  it.each(['ERROR', 'CANCEL', 'API_ERROR'])('returns the %s task (finalStateError decides the exit)', async (state) => {
    const h = harness(['PROCESSING', state]);
    expect((await pollTask(h.getTask, { timeoutMs: 0, sleep: h.sleep, now: h.now })).state).toBe(state);
  });

  it('times out with TimeoutError carrying the resume hint, never sleeping past the deadline', async () => {
    const h = harness(['PROCESSING']);
    const attempt = pollTask(h.getTask, {
      timeoutMs: 5000,
      sleep: h.sleep,
      now: h.now,
      random: () => 0.5,
      resumeHint: 'ms-async status t1 --wait',
    });
    await expect(attempt).rejects.toBeInstanceOf(TimeoutError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 6, hint: 'ms-async status t1 --wait' });
    expect(h.sleeps.reduce((a, b) => a + b)).toBe(5000);
  });

  it('an abort becomes InterruptedError (130) with the hint', async () => {
    const h = harness(['PROCESSING']);
    const controller = new AbortController();
    let reads = 0;
    const attempt = pollTask(
      async () => {
        reads += 1;
        if (reads === 3) controller.abort(new Error('sigint'));
        return h.getTask();
      },
      { timeoutMs: 0, sleep: h.sleep, now: h.now, signal: controller.signal, resumeHint: 'resume!' },
    );
    await expect(attempt).rejects.toBeInstanceOf(InterruptedError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 130, hint: 'resume!' });
  });
});

describe('finalStateError', () => {
  const task = (state: string, errors?: AsyncTask['errors']): AsyncTask => ({
    id: 't',
    state,
    request: 'u',
    ...(errors ? { errors } : {}),
  });
  it("maps states to the contract's exit codes, with the task attached for --json", () => {
    expect(finalStateError(task('DONE'))).toBeUndefined();
    expect(finalStateError(task('PROCESSING'))).toBeUndefined();
    expect(finalStateError(task('ERROR'))).toBeInstanceOf(TaskFailedError);
    expect(finalStateError(task('CANCEL'))?.exitCode).toBe(5);
    const api = finalStateError(task('API_ERROR', [{ error: 'momentTo missing', code: 39000 }]));
    expect(api).toBeInstanceOf(ApiError);
    expect(api?.apiErrors).toEqual([{ error: 'momentTo missing', code: 39000 }]);
    expect(api?.details).toMatchObject({ task: { id: 't' } });
    const auth = finalStateError(task('API_ERROR', [{ error: 'no rights', code: 1016 }]));
    expect(auth).toBeInstanceOf(AuthError);
    expect(auth?.exitCode).toBe(3);
  });
});
