/** argv → options tables for start, status and list, with the core mocked. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/test-io.js';

const calls = vi.hoisted(() => ({
  start: [] as unknown[][],
  status: [] as unknown[][],
  list: [] as unknown[][],
  session: [] as unknown[],
}));

vi.mock('../../src/core/session.js', () => ({
  createSession: vi.fn(async (input: unknown) => {
    calls.session.push(input);
    return { client: { fake: true }, connection: {} };
  }),
}));
vi.mock('../../src/core/start.js', () => ({
  startTask: vi.fn(async (...args: unknown[]) => {
    calls.start.push(args);
    return { id: 'task-1', statusUrl: 's', resultUrl: 'r', request: 'q' };
  }),
}));
vi.mock('../../src/core/status.js', () => ({
  getTaskStatus: vi.fn(async (...args: unknown[]) => {
    calls.status.push(args);
    return { task: { id: args[1], state: 'DONE', request: '' }, error: undefined };
  }),
}));
vi.mock('../../src/core/list.js', () => ({
  listTaskRows: vi.fn(async (...args: unknown[]) => {
    calls.list.push(args);
    return { tasks: [], total: 0, truncated: false };
  }),
}));

const ID = '5d2b7e40-1c9a-11f0-0a80-0b4c00000012';

beforeEach(() => {
  calls.start = [];
  calls.status = [];
  calls.list = [];
  calls.session = [];
});

describe('argv → options', () => {
  it.each([
    [['start', 'stock-all'], '/report/stock/all', 1_800_000],
    [['start', 'stock-all', '--timeout', '90s'], '/report/stock/all', 90_000],
    [['start', 'stock-all', '--timeout', '0'], '/report/stock/all', 0],
    [['start', 'stock-all', '--timeout', '1.5'], '/report/stock/all', 1500],
    [['start', 'stock-all', '--timeout', '1s'], '/report/stock/all', 1000],
    [['start', 'stock-bystore', '-p', 'a=1', '--param', 'b=x y'], '/report/stock/bystore?a=1&b=x%20y', 1_800_000],
  ])('%j', async (argv, pathAndQuery, timeoutMs) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(calls.start[0]?.[1]).toBe(pathAndQuery);
    expect(calls.start[0]?.[2]).toMatchObject({ timeoutMs });
  });

  it.each([
    [['status', ID], { wait: false, timeoutMs: 1_800_000, cancelOnInterrupt: false }],
    [['status', ID, '--wait', '--timeout', '1h30m'], { wait: true, timeoutMs: 5_400_000, cancelOnInterrupt: false }],
    [['status', ID, '--wait', '--cancel-on-interrupt'], { wait: true, cancelOnInterrupt: true }],
  ])('%j', async (argv, expected) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(calls.status[0]?.[1]).toBe(ID);
    expect(calls.status[0]?.[2]).toMatchObject(expected);
  });

  it.each([
    [['list'], { states: [], all: false, requestContains: undefined }],
    [['list', '--state', 'done', '--state', 'Pending', '--all'], { states: ['DONE', 'PENDING'], all: true }],
    [['list', '--request', 'stock'], { requestContains: 'stock' }],
  ])('%j', async (argv, expected) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(calls.list[0]?.[1]).toMatchObject(expected);
  });

  it('global flags reach the session', async () => {
    await runCli(['--base-url', 'https://x.example/api', '--token', 't', '--profile', 'p', 'status', ID], {
      env: { MS_TOKEN: 'e' },
    });
    expect(calls.session[0]).toMatchObject({
      globals: { baseUrl: 'https://x.example/api', token: 't', profile: 'p' },
      env: { MS_TOKEN: 'e' },
    });
  });

  it.each([
    [['status']],
    [['status', ID, '--timeout', 'abc']],
    // Under a second is refused: 0.0001 used to round to 0, which means "no limit".
    [['status', ID, '--wait', '--timeout', '0.0001']],
    [['status', ID, '--wait', '--timeout', '500ms']],
    [['start', 'stock-all', '--timeout', '0.4s']],
    // An empty id would address the task list, not a task.
    [['status', '']],
    [['status', '  ']],
    [['status', 'not-a-uuid']],
    [['status', 'https://api.moysklad.ru/api/remap/1.2/async/5d2b7e40-1c9a-11f0-0a80-0b4c00000012']],
    [['list', '--state', 'nope']],
    [['start']],
  ])('%j → exit 2', async (argv) => {
    expect((await runCli(argv)).code).toBe(2);
    expect(calls.start.length + calls.status.length + calls.list.length).toBe(0);
  });
});
