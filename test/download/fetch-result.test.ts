/**
 * fetchResult against the sandbox and small hostile servers of our own: conversion while the bytes
 * arrive, resume from the cache (plain and gzip), a changed object, disk errors and bombs, stalls,
 * and links that are not http(s).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchResult, type FetchResultOptions } from '../../src/core/fetch-result.js';
import { resolveOutputTarget } from '../../src/core/output.js';
import { BadResultError, LocalFileError, NetworkError } from '../../src/errors.js';
import { findReportByAlias } from '../../src/reports/catalog.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { sandboxRequest, startTestSandbox, waitForTask } from '../helpers/start-sandbox.js';

const report = findReportByAlias('stock-bystore');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-async-fetch-result-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A DONE stock-by-store task on `sb`, and a function asking /result for a fresh link. */
async function doneTask(sb: Sandbox): Promise<{ taskId: string; getResultLink: () => Promise<string> }> {
  const created = await sandboxRequest(sb, '/report/stock/bystore?async=true');
  const statusUrl = String(created.headers['content-location']);
  await waitForTask(sb, statusUrl, undefined, 20_000);
  const taskId = statusUrl.split('/').pop()!;
  return {
    taskId,
    getResultLink: async () => String((await sandboxRequest(sb, `/async/${taskId}/result`)).headers.location),
  };
}

let runs = 0;
async function fetchInto(
  task: { taskId: string; getResultLink: () => Promise<string> },
  cacheDir: string,
  extra: Partial<FetchResultOptions> = {},
  out = join(dir, `out-${++runs}.csv`),
) {
  const target = await resolveOutputTarget(out, undefined);
  const sleeps: number[] = [];
  const summary = await fetchResult({
    taskId: task.taskId,
    getResultLink: task.getResultLink,
    target,
    report,
    csv: {},
    stdout: new PassThrough(),
    cacheDir,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { summary, out, sleeps };
}

function storageServed(sb: Sandbox): { bytes: number; ranges: Array<string | undefined> } {
  const storage = sb.requests.filter((r) => r.origin === 'storage');
  return { bytes: storage.reduce((n, r) => n + (r.bodyBytes ?? 0), 0), ranges: storage.map((r) => r.headers.range) };
}

// gzip shrinks the result ~35 times: more rows, so that a cut lands after many socket reads.
describe.each([
  ['plain', false, 3000],
  ['gzip', true, 20000],
] as const)('the %s result', (_name, gzip, rows) => {
  let sb: Sandbox;
  let task: { taskId: string; getResultLink: () => Promise<string> };
  let reference: string;
  let size: number;
  beforeAll(async () => {
    sb = await startTestSandbox({ rows, storage: { gzip, range: true, contentLength: true } });
    task = await doneTask(sb);
    const r = await fetchInto(task, join(dir, `ref-${gzip}`));
    reference = await readFile(r.out, 'utf8');
    size = r.summary.bytes;
  });
  afterAll(async () => {
    await sb.close();
  });

  it('converts while the bytes arrive: records are out before the download ends', async () => {
    sb.setFaults({ storageBytesPerSecond: Math.ceil(size / 1.5) });
    let downloaded = 0;
    let recordsBeforeEnd = 0;
    try {
      const r = await fetchInto(task, join(dir, `overlap-${gzip}`), {
        onDownloadProgress: (p) => {
          downloaded = p.transferred;
        },
        onConvertProgress: (p) => {
          if (downloaded < size) recordsBeforeEnd = Math.max(recordsBeforeEnd, p.records);
        },
      });
      expect(await readFile(r.out, 'utf8')).toBe(reference);
    } finally {
      sb.setFaults({ storageBytesPerSecond: null });
    }
    expect(recordsBeforeEnd).toBeGreaterThan(100);
  });

  it('resumes from the bytes a killed run kept in the cache, and removes them once converted', async () => {
    const cacheDir = join(dir, `resume-${gzip}`);
    // A run cut after a third of the bytes, then stopped for good (as if killed): the cut fault
    // drops the connection, and one attempt only.
    sb.setFaults({ cutDownloadAfterBytes: Math.floor(size / 3) });
    await expect(fetchInto(task, cacheDir, { maxAttempts: 1 })).rejects.toThrow(NetworkError);
    const kept = (await stat(join(cacheDir, 'results', `${task.taskId}.raw`))).size;
    expect(kept).toBeGreaterThan(0);
    sb.requests.length = 0;
    const r = await fetchInto(task, cacheDir);
    expect(await readFile(r.out, 'utf8')).toBe(reference);
    expect(r.summary.resumedFrom).toBe(kept);
    expect(storageServed(sb)).toEqual({ bytes: size - kept, ranges: [`bytes=${kept}-`] });
    expect(await readdir(join(cacheDir, 'results'))).toEqual([]);
  });

  it('a kept partial of another object version is not used: the whole object is fetched', async () => {
    const cacheDir = join(dir, `changed-${gzip}`);
    await mkdir(join(cacheDir, 'results'), { recursive: true });
    await writeFile(join(cacheDir, 'results', `${task.taskId}.raw`), 'x'.repeat(1000));
    await writeFile(
      join(cacheDir, 'results', `${task.taskId}.json`),
      JSON.stringify({
        taskId: task.taskId,
        object: 'http://old',
        size,
        etag: '"an-older-version"',
        encoding: gzip ? 'gzip' : 'identity',
        expiresAt: Date.now() + 60_000,
        updatedAt: Date.now(),
      }),
    );
    sb.requests.length = 0;
    const r = await fetchInto(task, cacheDir);
    expect(await readFile(r.out, 'utf8')).toBe(reference);
    const served = storageServed(sb);
    expect(served.ranges[0]).toBe('bytes=1000-');
    expect(served.bytes).toBe(size); // If-Range made the storage send it whole, once
  });
});

describe('local faults and hostile storage', () => {
  let sb: Sandbox;
  let task: { taskId: string; getResultLink: () => Promise<string> };
  beforeAll(async () => {
    sb = await startTestSandbox({ rows: 3000, storage: { gzip: true, range: true, contentLength: true } });
    task = await doneTask(sb);
  });
  afterAll(async () => {
    await sb.close();
  });

  it('a full disk (ENOSPC) is a local I/O error at once: no retries, no "check the connection"', async () => {
    const cacheDir = join(dir, 'enospc');
    await mkdir(join(cacheDir, 'results'), { recursive: true });
    // The kept-bytes file is /dev/full: every write fails with ENOSPC.
    await symlink('/dev/full', join(cacheDir, 'results', `${task.taskId}.raw`));
    await writeFile(
      join(cacheDir, 'results', `${task.taskId}.json`),
      JSON.stringify({
        taskId: task.taskId,
        object: 'x',
        encoding: 'gzip',
        expiresAt: Date.now() + 60_000,
        updatedAt: Date.now(),
      }),
    );
    sb.requests.length = 0;
    const failure = await fetchInto(task, cacheDir).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LocalFileError);
    expect((failure as Error).message).toMatch(/disk is full.*ENOSPC/);
    expect(sb.requests.filter((r) => r.origin === 'storage')).toHaveLength(1);
  });

  it('a result that decodes past the free disk space ends with a clear error (gzip bomb)', async () => {
    const failure = await fetchInto(task, join(dir, 'bomb'), {
      // 500 kB of room beyond the safety margin (the gzip bytes fit); the result decodes to well over that.
      freeSpace: async () => (16 << 20) + 500_000,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LocalFileError);
    expect((failure as Error).message).toMatch(/decodes to more than the free disk space/);
  });

  it('a result bigger than the free disk space is refused before its body is read', async () => {
    const plain = await startTestSandbox({ rows: 3000 });
    try {
      const t = await doneTask(plain);
      const failure = await fetchInto(t, join(dir, 'nospace'), { freeSpace: async () => 1000 }).catch(
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(LocalFileError);
      expect((failure as Error).message).toMatch(/not enough disk space/);
      expect(
        plain.requests
          .filter((r) => r.origin === 'storage')
          .map((r) => r.bodyBytes ?? 0)
          .reduce((a, b) => a + b, 0),
      ).toBeLessThan(1_000_000);
    } finally {
      await plain.close();
    }
  });

  it('a file:// link is refused at once, not retried', async () => {
    let asked = 0;
    const failure = await fetchInto(
      {
        taskId: task.taskId,
        getResultLink: async () => {
          asked += 1;
          return 'file:///etc/passwd';
        },
      },
      join(dir, 'file-link'),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NetworkError);
    expect((failure as Error).message).toMatch(/scheme "file:"/);
    expect(asked).toBe(1);
  });
});

/** A storage stand-in that misbehaves per request. */
async function hostile(
  handler: http.RequestListener,
): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/batch/x/apiasynctaskresult/y?temp_url_sig=s`,
    hits: () => hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('storage deadlines', () => {
  const timers: NodeJS.Timeout[] = [];
  afterAll(() => timers.forEach(clearInterval));

  it('a body trickling a byte at a time counts as stalled; the download gives up after its attempts', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100000', 'Content-Type': 'application/json' });
      res.write('{');
      const t = setInterval(() => res.write(' '), 50);
      timers.push(t);
      res.on('close', () => clearInterval(t));
    });
    try {
      const started = Date.now();
      const failure = await fetchInto(
        { taskId: 'trickle', getResultLink: async () => server.url },
        join(dir, 'trickle'),
        {
          storageDeadlines: { idleMs: 300, stallBytes: 1024 },
        },
      ).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(NetworkError);
      expect((failure as Error).message).toMatch(/stalled/);
      expect(server.hits()).toBe(6);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await server.close();
    }
  });

  it('an answer whose headers never come is given up after the header deadline', async () => {
    const server = await hostile(() => {
      /* never answers */
    });
    try {
      const failure = await fetchInto(
        { taskId: 'silent', getResultLink: async () => server.url },
        join(dir, 'silent'),
        {
          storageDeadlines: { headersMs: 200 },
        },
      ).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(NetworkError);
      expect(server.hits()).toBe(6);
    } finally {
      await server.close();
    }
  });

  it('a cut-short result is downloaded once more, then is exit 7 with nothing kept', async () => {
    const body = '{"meta":{"size":2},"rows":[{"a":1},';
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(body.length), 'Content-Type': 'application/json' });
      res.end(body);
    });
    try {
      const cacheDir = join(dir, 'cut-short');
      const failure = await fetchInto({ taskId: 'cut', getResultLink: async () => server.url }, cacheDir).catch(
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(BadResultError);
      expect(server.hits()).toBe(2);
      expect(await readdir(join(cacheDir, 'results'))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
