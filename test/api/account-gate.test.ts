/**
 * The account gate's file and lock (src/api/account-gate.ts): what two processes of one account
 * share, read and written with synchronous calls. Two gates on one folder stand for two processes;
 * the gate's own sleeps are recorded, not slept.
 */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAccountGate, gateKey, type AccountGateOptions } from '../../src/api/account-gate.js';

const BASE = 'http://127.0.0.1:1/api/remap/1.2';
const CREDENTIAL = 'Bearer tok-GATE-0123456789abcdef0123456789abcdef';
let dir: string;
let naps: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-gate-'));
  naps = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function gate(options: Partial<AccountGateOptions> = {}) {
  return createAccountGate({
    dir,
    baseUrl: BASE,
    credential: CREDENTIAL,
    random: () => 0,
    // Recorded, not slept; a turn of the event loop, as a real sleep gives the other process.
    sleep: (ms) => {
      naps.push(ms);
      return new Promise((resolve) => setImmediate(resolve));
    },
    ...options,
  });
}

const stateFile = (): string => join(dir, `${gateKey(BASE, CREDENTIAL)}.json`);
const lockDir = (): string => join(dir, `${gateKey(BASE, CREDENTIAL)}.lock`);
const state = () => JSON.parse(readFileSync(stateFile(), 'utf8')) as { requests: unknown[]; tasks: unknown[] };

it('keeps a lease per request in flight in the shared file, and never the credential', async () => {
  const release = await gate().request();
  expect(state().requests).toHaveLength(1);
  expect(readFileSync(stateFile(), 'utf8')).not.toContain('tok-GATE');
  await release();
  expect(state().requests).toHaveLength(0);
  expect(existsSync(lockDir())).toBe(false);
});

it('makes a second process wait while the account has no request slot left', async () => {
  const first = await gate({ maxInFlight: 1 }).request();
  let granted = false;
  const second = gate({ maxInFlight: 1 })
    .request()
    .then((release) => {
      granted = true;
      return release;
    });
  // The waiting gate naps (50 ms a time for a slot); the other process frees its slot meanwhile.
  while (naps.length < 3) await new Promise((resolve) => setImmediate(resolve));
  expect(granted).toBe(false);
  expect(naps[0]).toBe(50);
  await first();
  await (await second)();
  expect(granted).toBe(true);
  expect(state().requests).toHaveLength(0);
});

it('takes over a lock left by a process that died while holding it (older than 5 s)', async () => {
  mkdirSync(lockDir());
  const old = new Date(Date.now() - 60_000);
  utimesSync(lockDir(), old, old);
  const release = await gate().request();
  expect(state().requests).toHaveLength(1);
  await release();
  expect(existsSync(lockDir())).toBe(false);
});

it('waits for a fresh lock, held by a live process, to go', async () => {
  mkdirSync(lockDir());
  const order: string[] = [];
  const granted = gate()
    .request()
    .then((release) => {
      order.push('granted');
      return release;
    });
  await new Promise((resolve) => setTimeout(resolve, 30));
  order.push('lock released');
  await rm(lockDir(), { recursive: true });
  await (await granted)();
  expect(order).toEqual(['lock released', 'granted']);
});

it('frees the slots of a process that is gone', async () => {
  mkdirSync(dir, { recursive: true });
  const dead = { id: 'x', pid: 2 ** 22 + 12345, until: Date.now() + 60_000 };
  writeFileSync(
    stateFile(),
    JSON.stringify({
      tokens: 8,
      at: Date.now(),
      pausedUntil: 0,
      strikes: 0,
      lastStrike: 0,
      requests: [dead, dead, dead, dead],
      tasks: [],
    }),
  );
  const release = await gate({ maxInFlight: 4 }).request();
  expect(naps).toEqual([]);
  expect(state().requests).toHaveLength(1);
  await release();
});

it('goes on alone, saying so once, when its folder cannot be used', async () => {
  const blocked = join(dir, 'not-a-folder');
  writeFileSync(blocked, '');
  const troubles: string[] = [];
  const alone = gate({ dir: join(blocked, 'accounts'), onTrouble: (line) => troubles.push(line) });
  await (await alone.request())();
  await (await alone.request())();
  expect(troubles).toHaveLength(1);
  expect(troubles[0]).toMatch(/cannot coordinate with other runs through .*; going on alone/);
});
