import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConfigStore } from '../../src/config/store.js';

describe('config store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ms-async-conf-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps profiles in a file readable by its owner only (0600)', async () => {
    const store = await openConfigStore({ cwd: dir });
    store.setProfile('default', { token: 'secret-token-1', baseUrl: 'https://x.example/api' });
    store.setProfile('shop.two', { token: 'secret-token-2' });
    expect(store.path.startsWith(dir)).toBe(true);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    const again = await openConfigStore({ cwd: dir });
    expect(again.profiles()).toEqual({
      default: { token: 'secret-token-1', baseUrl: 'https://x.example/api' },
      'shop.two': { token: 'secret-token-2' },
    });
    again.setProfile('default', { baseUrl: 'https://x.example/api' });
    expect(again.getProfile('default')).toEqual({ baseUrl: 'https://x.example/api' });
    again.setProfile('shop.two', {});
    expect(Object.keys(again.profiles())).toEqual(['default']);
  });
});
