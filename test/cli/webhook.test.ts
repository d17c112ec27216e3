import { describe, expect, it } from 'vitest';
import type { TestDepsOptions } from '../helpers/test-io.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-HOOK-1234567890abcdef1234567890abcdef';
const t = useCliSandbox(TOKEN, 'hook');
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, options);

describe('ms-async webhook', () => {
  it('add, list, remove', async () => {
    const added = await cli(['--json', 'webhook', 'add', '--url', 'https://example.com/hook']);
    expect(added.code).toBe(0);
    const hook = JSON.parse(added.stdout) as { id: string; entityType: string; action: string };
    expect(hook).toMatchObject({ entityType: 'async', action: 'PROCESSED' });
    const post = t.sb.requests.find((q) => q.method === 'POST');
    expect(post?.url).toBe(`${t.sb.baseUrl}/entity/webhook`);

    const update = await cli(['webhook', 'add', '--url', 'https://example.com/hook', '--action', 'UPDATE']);
    expect(update.code).toBe(0);
    expect(update.stdout).toMatch(/^ID +ACTION +ENABLED +URL\n\S+ +UPDATE +yes +https:\/\/example.com\/hook\n$/);

    const list = await cli(['webhook', 'list']);
    expect(list.stdout.trim().split('\n')).toHaveLength(3);
    const listed = JSON.parse((await cli(['--json', 'webhook', 'list'])).stdout) as Array<{ id: string }>;
    expect(listed.map((h) => h.id)).toContain(hook.id);

    const removed = await cli(['webhook', 'remove', hook.id]);
    expect(removed).toMatchObject({ code: 0, stdout: '' });
    expect(removed.stderr).toContain(`webhook ${hook.id} removed`);
    expect(JSON.parse((await cli(['--json', 'webhook', 'list'])).stdout)).toHaveLength(1);
  });

  it('API errors surface: a duplicate → exit 4 with 30003', async () => {
    await cli(['webhook', 'add', '--url', 'https://example.com/dup']);
    const dup = await cli(['webhook', 'add', '--url', 'https://example.com/dup']);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toMatch(/API error 30003/);
  });

  it('bad input → exit 2 before any request', async () => {
    expect((await cli(['webhook', 'add', '--url', 'https://e.com/h', '--action', 'DELETE'])).code).toBe(2);
    expect((await cli(['webhook', 'add', '--url', 'not a url'])).code).toBe(2);
    expect((await cli(['webhook', 'add'])).code).toBe(2);
    expect(t.sb.requests).toHaveLength(0);
  });
});
