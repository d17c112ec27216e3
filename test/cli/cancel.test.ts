import { describe, expect, it } from 'vitest';
import type { TestDepsOptions } from '../helpers/test-io.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-CANCEL-abcdefabcdefabcdefabcdefabcdef12';
const t = useCliSandbox(TOKEN, 'cancel');
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, options);

describe('ms-async cancel', () => {
  it('cancels a running task: nothing on stdout, a line on stderr, exit 0', async () => {
    t.sb.setFaults({ pendingMs: 600_000 });
    const id = (await cli(['start', 'stock-all'])).stdout.trim();
    const r = await cli(['cancel', id]);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toBe(`task ${id} cancelled\n`);
    expect((await cli(['status', id])).code).toBe(5);
  });

  it('a finished task → API error 61007, exit 4', async () => {
    const id = (await cli(['start', 'stock-all'])).stdout.trim();
    await cli(['status', id, '--wait'], { realCapMs: 15 });
    const r = await cli(['cancel', id]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/API error 61007/);
    const json = await cli(['--json', 'cancel', id]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'ERR_MS_API', exitCode: 4, httpStatus: 400 } });
  });

  it('an empty task id → exit 2 before any request (fetch, status, cancel)', async () => {
    const before = t.sb.requests.length;
    for (const argv of [
      ['cancel', ''],
      ['status', '', '--wait'],
      ['fetch', ' ', '--out', 'x.csv'],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/a task id is required/);
    }
    expect(t.sb.requests.length).toBe(before);
  });
});
