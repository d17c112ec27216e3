/**
 * `--trace <file>` and `sandbox --replay`: the trace of a sandbox export holds no secret, is a
 * HAR 1.2 log, and replayed gives the same output byte for byte.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReplay } from '../../src/sandbox/replay.js';
import { harProblems, type Har } from '../../src/trace/har.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/test-io.js';

const TOKEN = 'tok-trace-5f0c2a9e1b7d4c3a8e6f';
const LOGIN = 'admin@shop-trace';
const PASSWORD = 'pa55-Word-trace-7731';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-trace-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readHar(path: string): Promise<{ text: string; har: Har }> {
  const text = await readFile(path, 'utf8');
  return { text, har: JSON.parse(text) as Har };
}

describe('--trace', () => {
  const t = useCliSandbox(TOKEN, 'trace', { login: LOGIN, password: PASSWORD, rows: 30 });

  it('records every API and storage request of an export, with no secret in the file', async () => {
    const trace = join(dir, 'run.har');
    const r = await t.cli(['export', 'stock-bystore', '--out', join(dir, 'a.csv'), '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    const { text, har } = await readHar(trace);
    expect(harProblems(har)).toEqual([]);
    expect(har.log.version).toBe('1.2');
    expect(har.log._baseUrl).toBe(t.sb.baseUrl);
    expect(text).not.toContain(TOKEN);
    const urls = har.log.entries.map((e) => `${e.request.method} ${e.response.status} ${e.request.url}`);
    expect(urls[0]).toMatch(/^GET 202 .*\/report\/stock\/bystore\?async=true$/);
    expect(urls.some((u) => /^GET 302 .*\/async\/[^/]+\/result$/.test(u))).toBe(true);
    const download = har.log.entries.find((e) => e.request.url.startsWith(t.sb.storageUrl));
    expect(download?.response.status).toBe(200);
    expect(download?.request.url).toContain('temp_url_sig=***');
    expect(download?.response.content.text).toBeUndefined();
    expect(download?.response.content.comment).toBe('result body left out');
    expect(download?.response.content.size).toBeGreaterThan(1000);
    // The sandbox's real signatures are 40 hex digits: none may be left anywhere.
    expect(text).not.toMatch(/temp_url_sig=[0-9a-f]{40}/);
    const api = har.log.entries.filter((e) => e.request.url.startsWith(t.sb.baseUrl));
    for (const entry of api) {
      expect(entry.request.headers).toContainEqual({ name: 'authorization', value: 'Bearer ***' });
      expect(entry.response.headers.length).toBeGreaterThan(0);
    }
    const task = api.find((e) => e.response.status === 200);
    expect(JSON.parse(task?.response.content.text ?? '{}')).toHaveProperty('state');
    expect(task?.timings.wait).toBeGreaterThanOrEqual(0);
  });

  it('leaves out the password and its base64 with Basic credentials', async () => {
    const trace = join(dir, 'basic.har');
    const env = { MS_BASE_URL: t.sb.baseUrl, MS_LOGIN: LOGIN, MS_PASSWORD: PASSWORD };
    const r = await t.cli(['export', 'stock-all', '--out', join(dir, 'b.ndjson'), '--trace', trace], { env });
    expect(r.code, r.stderr).toBe(0);
    const { text, har } = await readHar(trace);
    expect(harProblems(har)).toEqual([]);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`${LOGIN}:${PASSWORD}`).toString('base64'));
    expect(har.log.entries[0]?.request.headers).toContainEqual({ name: 'authorization', value: 'Basic ***' });
  });

  it('is written when the run fails: the refused request is in it', async () => {
    const trace = join(dir, 'refused.har');
    const env = { MS_BASE_URL: t.sb.baseUrl, MS_TOKEN: 'tok-wrong-0000000000000000' };
    const r = await t.cli(['start', 'stock-all', '--trace', trace], { env });
    expect(r.code).toBe(3);
    const { text, har } = await readHar(trace);
    expect(har.log.entries.map((e) => e.response.status)).toEqual([401]);
    expect(text).not.toContain('tok-wrong-0000000000000000');
  });

  it('refuses a trace file in a folder that does not exist, before any request', async () => {
    const r = await t.cli(['start', 'stock-all', '--trace', join(dir, 'no', 'such', 'x.har')]);
    expect(r.code).toBe(2);
    expect(t.sb.requests).toHaveLength(0);
  });

  it('replayed by the sandbox gives the same output file byte for byte', async () => {
    const trace = join(dir, 'run.har');
    const first = join(dir, 'first.csv');
    const r = await t.cli(['export', 'stock-bystore', '--out', first, '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    const { har } = await readHar(trace);
    // The result body is not in the trace: keep it aside as a user would send it with the trace.
    const taskId = /\/async\/([^/?]+)\/result/.exec(har.log.entries.map((e) => e.request.url).join(' '))?.[1] ?? '';
    const result = join(dir, 'result.json');
    expect((await t.cli(['fetch', taskId, '--out', result])).code).toBe(0);

    const replay = await startReplay({ har, resultFile: result });
    try {
      const second = join(dir, 'second.csv');
      const env = { MS_BASE_URL: replay.baseUrl, MS_TOKEN: 'tok-replay-any' };
      const again = await runCli(['export', 'stock-bystore', '--out', second], { env, configDir: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(replay.unmatched).toEqual([]);
      expect(Buffer.compare(await readFile(second), await readFile(first))).toBe(0);
      expect(again.stderr).toContain(`task ${taskId} created`);
    } finally {
      await replay.close();
    }
  });
});

describe('--trace while a task waits', () => {
  // Tasks stay PENDING for a minute: the run is surely still waiting when Ctrl-C comes.
  const t = useCliSandbox(TOKEN, 'trace-wait', { pendingMs: 60_000 });

  it('is written on Ctrl-C, with what was sent so far', async () => {
    const trace = join(dir, 'interrupted.har');
    const controller = new AbortController();
    const r = await t.cli(['export', 'stock-all', '--out', join(dir, 'c.csv'), '--trace', trace], {
      signal: controller.signal,
      onSleep: (_ms, count) => {
        if (count === 2) controller.abort(new Error('interrupted'));
      },
    });
    expect(r.code).toBe(130);
    const { har } = await readHar(trace);
    expect(harProblems(har)).toEqual([]);
    expect(har.log.entries[0]?.response.status).toBe(202);
    expect(har.log.entries.slice(1).every((e) => /\/async\/[^/]+$/.test(e.request.url))).toBe(true);
  });
});

describe('sandbox --replay', () => {
  it('refuses a file that is not HAR with exit 2', async () => {
    const bad = join(dir, 'bad.har');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, '{"log":{"entries":[{}]}}'));
    const r = await runCli(['sandbox', '--replay', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a usable HAR 1.2 file');
  });
});
