import { describe, expect, it } from 'vitest';
import { createSemaphore, nestSemaphores } from '../../src/core/semaphore.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createSemaphore', () => {
  it('lets `size` holders in, the rest in arrival order; a release is given once', async () => {
    const slots = createSemaphore(2);
    const order: number[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const waiting = [3, 4].map(async (n) => {
      const release = await slots.acquire();
      order.push(n);
      return release;
    });
    await tick();
    expect(order).toEqual([]);
    expect(slots.waiting).toBe(2);
    a();
    a(); // twice: still one permit back
    await tick();
    expect(order).toEqual([3]);
    b();
    await tick();
    expect(order).toEqual([3, 4]);
    expect(slots.active).toBe(2);
    for (const release of await Promise.all(waiting)) release();
    expect(slots.active).toBe(0);
  });

  it('an aborted wait leaves the line and takes no permit', async () => {
    const slots = createSemaphore(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const wait = slots.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(wait).rejects.toThrow('stop');
    expect(slots.waiting).toBe(0);
    held();
    expect(slots.active).toBe(0);
  });

  it('nested: a job holds at most the inner size of the shared outer slots', async () => {
    const account = createSemaphore(4);
    const job = nestSemaphores(createSemaphore(2), account);
    const releases = await Promise.all([job.acquire(), job.acquire()]);
    const third = job.acquire();
    await tick();
    expect(account.active).toBe(2); // two slots left for the account's other jobs
    const other = await account.acquire();
    expect(account.active).toBe(3);
    releases[0]?.();
    const release = await third;
    expect(account.active).toBe(3);
    release();
    releases[1]?.();
    other();
    expect(account.active).toBe(0);
  });
});
