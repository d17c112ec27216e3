import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFilePath, openConfigStore, readStoredProfiles } from '../../src/config/store.js';
import { LocalFileError } from '../../src/errors.js';

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

  it('is read without conf where conf writes it, and reading creates no file', async () => {
    expect(await readStoredProfiles(dir, {})).toEqual({});
    expect(await readdir(dir)).toEqual([]);
    const store = await openConfigStore({ cwd: dir });
    store.setProfile('shop.two', { token: 'secret-token-2', preciseMoney: 'true' });
    expect(configFilePath(dir, {})).toBe(store.path);
    expect(await readStoredProfiles(dir, {})).toEqual({
      'shop.two': { token: 'secret-token-2', preciseMoney: 'true' },
    });
  });

  it('finds the file by XDG_CONFIG_HOME as conf does, when no folder is given', () => {
    if (process.platform !== 'linux') return;
    expect(configFilePath(undefined, { XDG_CONFIG_HOME: '/x/conf', HOME: '/home/u' })).toBe(
      '/x/conf/ms-async/config.json',
    );
    expect(configFilePath(undefined, { HOME: '/home/u' })).toBe('/home/u/.config/ms-async/config.json');
  });

  it('a broken file is one clear error naming it (exit 9), to read and to write', async () => {
    const path = join(dir, 'config.json');
    for (const text of ['{"profiles": {', 'null', '{"profiles": [1]}']) {
      await writeFile(path, text);
      const read = await readStoredProfiles(dir, {}).catch((error: unknown) => error);
      expect(read, text).toBeInstanceOf(LocalFileError);
      expect((read as LocalFileError).message, text).toContain(path);
      expect((read as LocalFileError).hint).toMatch(/ms-async login/);
    }
    await writeFile(path, '{"profiles": {');
    const write = await openConfigStore({ cwd: dir }).catch((error: unknown) => error);
    expect(write).toBeInstanceOf(LocalFileError);
    expect((write as LocalFileError).exitCode).toBe(9);
  });
});
