/**
 * Odd task objects and inputs end in clear errors with the contract's exit codes, never a stack
 * trace (exit 1, "this is a bug"): issue 14 items 6 and 9, played by a hostile server of our own.
 */
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { sendJson, startHostileServer, taskObject, type HostileServer } from '../helpers/hostile-server.js';
import { runCli } from '../helpers/test-io.js';

const TOKEN = 'tok-ODD-5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f';
const ID = '5d2b7e40-1c9a-11f0-0a80-0b4c00000012';
const servers: HostileServer[] = [];
const outputs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const text of outputs.splice(0)) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toMatch(/this is a bug|undefined|\[object Object\]|at .*\.js:\d+/);
  }
});

/** An API that answers every task read with `task` (merged into a task object) and `/async` with `list`. */
async function api(
  task: Record<string, unknown>,
  more?: (req: http.IncomingMessage, res: http.ServerResponse, base: string) => boolean,
) {
  const server = await startHostileServer((req, res) => {
    const base = `http://127.0.0.1:${server.port}/api/remap/1.2`;
    if (more?.(req, res, base)) return;
    sendJson(res, 200, taskObject(base, ID, task));
  });
  servers.push(server);
  return server;
}

async function cli(server: HostileServer, argv: string[], env: Record<string, string> = {}) {
  const run = await runCli(argv, {
    env: { MS_BASE_URL: `${server.url}/api/remap/1.2`, MS_TOKEN: TOKEN, ...env },
    realCapMs: 5,
  });
  outputs.push(run.stdout + run.stderr);
  return run;
}

describe('task states', () => {
  it('`done` in lower case is DONE', async () => {
    const server = await api({ state: 'done' });
    const run = await cli(server, ['status', ID, '--wait', '--timeout', '5s']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/state: +DONE/);
  });

  it('an unknown state (DONE_ERRORS) is exit 4 at once, naming it — not polled until --timeout', async () => {
    const server = await api({ state: 'DONE_ERRORS' });
    const run = await cli(server, ['status', ID, '--wait', '--timeout', '10m']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('is in state "DONE_ERRORS", which ms-async does not know');
    expect(server.requests).toHaveLength(1);
  });
});

describe('odd errors of an API_ERROR task', () => {
  it.each([
    ['errors: [null]', [null], 4, /the API rejected the request/],
    ['an entry without text', [{ code: 1016 }], 3, /the API gave no description for code 1016/],
    ['an object where the text should be', [{ error: { ru: 'x' }, code: 1040 }], 4, /no description for code 1040/],
    ['an object instead of a list', { error: 'Плохой параметр', code: 1040 }, 4, /Плохой параметр/],
  ])('%s: a clear message and the right exit code', async (_name, errors, code, message) => {
    const server = await api({ state: 'API_ERROR', errors });
    const run = await cli(server, ['status', ID, '--wait']);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });
});

describe('odd fields', () => {
  it('`list`: a numeric deletionDate is shown as a date; meta.size below the rows is not "the first 100 of 3"', async () => {
    const when = Date.UTC(2030, 0, 2, 12, 0, 0);
    const server = await api({}, (req, res, base) => {
      if (!req.url?.startsWith('/api/remap/1.2/async?')) return false;
      const rows = Array.from({ length: 100 }, (_, i) =>
        taskObject(base, `${ID.slice(0, -3)}${String(i).padStart(3, '0')}`, {
          state: 'DONE',
          deletionDate: when,
          resultUrl: `${base}/async/x/result`,
        }),
      );
      sendJson(res, 200, { meta: { size: 3, limit: 100, offset: 0 }, rows });
      return true;
    });
    const run = await cli(server, ['list', '--json']);
    expect(run.code).toBe(0);
    const tasks = JSON.parse(run.stdout) as Array<{ deletionDate: string }>;
    expect(tasks).toHaveLength(100);
    expect(tasks[0]?.deletionDate).toBe('2030-01-02 15:00:00.000');
    expect(run.stderr).not.toContain('of 3 tasks');
  });

  it('`export --reuse` with a numeric deletionDate reuses the task and downloads its result', async () => {
    const later = Date.now() + 3_600_000;
    const server = await api({}, (req, res, base) => {
      const request = `${base}/entity/counterparty?async=true`;
      if (req.url?.startsWith('/api/remap/1.2/async?')) {
        sendJson(res, 200, {
          meta: { size: 1 },
          rows: [taskObject(base, ID, { state: 'DONE', request, deletionDate: later })],
        });
      } else if (req.url === `/api/remap/1.2/async/${ID}`) {
        sendJson(res, 200, taskObject(base, ID, { state: 'DONE', request, deletionDate: later }));
      } else if (req.url === `/api/remap/1.2/async/${ID}/result`) {
        res.writeHead(302, { location: `${base.replace('/api/remap/1.2', '')}/storage/result.json` });
        res.end();
      } else if (req.url === '/storage/result.json') {
        sendJson(res, 200, { meta: { size: 1 }, rows: [{ id: 'c1', name: 'Ромашка' }] });
      } else {
        sendJson(res, 500, { errors: [{ error: 'unexpected', code: 1999 }] });
      }
      return true;
    });
    const run = await cli(server, ['export', 'counterparty', '--reuse', '--out', '-', '--format', 'ndjson']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":"c1","name":"Ромашка"}\n');
    expect(server.requests.some((r) => r.url.includes('async=true'))).toBe(false);
  });

  it('`fetch` of a task whose request is "http://[" converts without a catalogue entry, no stack trace', async () => {
    const server = await api({}, (req, res, base) => {
      if (req.url === `/api/remap/1.2/async/${ID}`) {
        sendJson(
          res,
          200,
          taskObject(base, ID, { state: 'DONE', request: 'http://[', deletionDate: '2099-01-01 00:00:00' }),
        );
      } else if (req.url === `/api/remap/1.2/async/${ID}/result`) {
        res.writeHead(302, { location: `${base.replace('/api/remap/1.2', '')}/storage/r.json` });
        res.end();
      } else if (req.url === '/storage/r.json') {
        sendJson(res, 200, { rows: [{ id: 'r1' }] });
      } else return false;
      return true;
    });
    const run = await cli(server, ['fetch', ID, '--out', '-', '--format', 'ndjson']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":"r1"}\n');
  });
});

describe('a token no HTTP header can carry', () => {
  it.each([
    ['a line break inside', 'abc\r\ndef', 'a line break'],
    ['Cyrillic', 'токен123', 'a character outside ASCII'],
  ])('%s: exit 2 before any request, not exit 7 "the task may have been created"', async (_name, token, what) => {
    const server = await api({});
    const run = await runCli(['export', 'stock-all', '--out', '-', '--format', 'ndjson'], {
      env: { MS_BASE_URL: `${server.url}/api/remap/1.2`, MS_TOKEN: token },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the token (from MS_TOKEN) contains ${what}`);
    expect(run.stderr).not.toContain('may have been created');
    expect(run.stderr).not.toContain(token);
    expect(server.requests).toHaveLength(0);
  });
});
