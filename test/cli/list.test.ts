import { describe, expect, it } from 'vitest';
import type { TestDepsOptions } from '../helpers/test-io.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-LIST-c0ffee00c0ffee00c0ffee00c0ffee00';
const t = useCliSandbox(TOKEN, 'list', { queueLimit: 10 });
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, options);

describe('ms-async list', () => {
  it('a table of the tasks; --json an array; --state and --request filter', async () => {
    const a = (await cli(['start', 'stock-all'])).stdout.trim();
    await cli(['status', a, '--wait'], { realCapMs: 15 });
    t.sb.setFaults({ pendingMs: 600_000 });
    const b = (await cli(['start', 'profit-byproduct', '-p', 'momentFrom=2026-11-01 00:00:00'])).stdout.trim();

    const piped = await cli(['list']);
    expect(piped.code).toBe(0);
    const rows = piped.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows[0]).toEqual(['ID', 'STATE', 'DELETED', 'REQUEST']);
    expect(rows.find((r) => r[0] === a)).toEqual([
      a,
      'DONE',
      expect.stringMatching(/^in (59m|1h 00m)$/),
      '/report/stock/all',
    ]);
    expect(piped.stdout).not.toMatch(/ {2}/);

    const table = await cli(['list'], { stdoutTTY: true });
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +DELETED +REQUEST$/);
    expect(lines.find((l) => l.startsWith(a))).toMatch(/DONE +in (59m|1h 00m) +\/report\/stock\/all$/);
    expect(lines.find((l) => l.startsWith(b))).toMatch(
      /PENDING +- +\/report\/profit\/byproduct\?momentFrom=2026-11-01 00:00:00$/,
    );
    expect(table.stdout).not.toContain('\u001b[');

    const json = JSON.parse((await cli(['--json', 'list'])).stdout) as Array<{ id: string }>;
    expect(json.map((t) => t.id).sort()).toEqual([a, b].sort());
    const done = JSON.parse((await cli(['--json', 'list', '--state', 'done'])).stdout) as Array<{ id: string }>;
    expect(done.map((t) => t.id)).toEqual([a]);
    const byText = JSON.parse((await cli(['--json', 'list', '--request', 'Profit/ByProduct'])).stdout) as Array<{
      id: string;
    }>;
    expect(byText.map((t) => t.id)).toEqual([b]);
    const many = JSON.parse(
      (await cli(['--json', 'list', '--state', 'DONE', '--state', 'PENDING', '--all'])).stdout,
    ) as unknown[];
    expect(many).toHaveLength(2);
    expect(t.sb.requests.some((q) => decodeURIComponent(q.url).includes('filter=state=DONE;state=PENDING'))).toBe(true);
  });

  it('states are coloured only when colour is on and stdout is a terminal', async () => {
    await cli(['start', 'stock-all']);
    const plainTty = await cli(['list'], { stdoutTTY: true, env: { ...t.env(), NO_COLOR: '1' } });
    expect(plainTty.stdout).not.toContain('\u001b[');
    const coloured = await cli(['list'], { stdoutTTY: true, stderrTTY: true });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ANSI escape is what this test looks for
    expect(coloured.stdout).toMatch(/\u001b\[\d+m(PENDING|PROCESSING|DONE)/);
  });

  it('no tasks → a line on stderr, nothing on stdout; a bad state → exit 2', async () => {
    const empty = await cli(['list']);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect(empty.stderr).toMatch(/no tasks/);
    const bad = await cli(['list', '--state', 'FINISHED']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a task state/);
  });
});
