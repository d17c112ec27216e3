/**
 * The bin runs dist/bundle/ (scripts/bundle.mjs): src/ and its libraries in one set of files, and
 * the package ships nothing else. The in-process tests run src/ with the libraries from
 * node_modules; these copy the bin and the bundle where no node_modules can be found, as a user's
 * install has none, and run them through the libraries commands load on demand (conf, yaml, got,
 * stream-json, the zip writer).
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFreshBuild } from '../helpers/build-dist.js';
import { startTestSandbox } from '../helpers/start-sandbox.js';
import { readXlsx } from '../helpers/read-xlsx.js';
import type { Sandbox } from '../../src/sandbox/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'tok-BUNDLE-0123456789abcdef0123456789ab';

let pkg: string;

function runBin(args: string[], env: Record<string, string>, input = '') {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MS_') && k !== 'FORCE_COLOR'),
  );
  const child = spawn(process.execPath, [join(pkg, 'bin/ms-async.js'), ...args], {
    cwd: env.HOME,
    env: { ...clean, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += String(d);
  });
  child.stdin.end(input);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the bundled bin', () => {
  let sb: Sandbox;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    expectFreshBuild();
    sb = await startTestSandbox({ token: TOKEN, rows: 30, pendingMs: 10, processingMs: 10 });
    dir = await mkdtemp(join(tmpdir(), 'ms-async-bundle-'));
    pkg = join(dir, 'package');
    for (const part of ['bin', 'dist/bundle', 'package.json'])
      await cp(join(ROOT, part), join(pkg, part), { recursive: true });
    env = { HOME: dir, MS_ASYNC_CONFIG_DIR: join(dir, 'config'), MS_ASYNC_CACHE_DIR: join(dir, 'cache') };
  });
  afterAll(async () => {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs from a folder with no node_modules anywhere above it, and carries the licences', async () => {
    const version = await runBin(['--version'], env);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    const licences = await readFile(join(pkg, 'dist/bundle/THIRD-PARTY-LICENSES.txt'), 'utf8');
    for (const library of ['commander', 'got', 'ora', 'cli-progress', 'stream-json', 'chalk', 'conf', 'yaml'])
      expect(licences).toMatch(new RegExp(`^${library}@\\d+\\.\\d+\\.\\d+ \\((MIT|ISC|BSD-3-Clause)\\)$`, 'm'));
  });

  it("a fetch's main thread loads none of the converter: the worker does (docs/ARCHITECTURE.md)", async () => {
    const bundle = join(pkg, 'dist/bundle');
    const files = await readdir(bundle);
    // The chunks a module imports statically, and theirs: what loads with it.
    const reach = async (start: string): Promise<Set<string>> => {
      const seen = new Set<string>();
      const visit = async (name: string): Promise<void> => {
        if (seen.has(name)) return;
        seen.add(name);
        const code = await readFile(join(bundle, name), 'utf8');
        for (const m of code.matchAll(/^(?:import|export)\b[^;]*?["']\.\/([^"']+)["']/gms)) await visit(m[1]!);
      };
      await visit(start);
      return seen;
    };
    const transfer = files.find((f) => f.startsWith('run-transfer-'))!;
    const exportChunk = files.find((f) => f.startsWith('export-') && !f.startsWith('export-plan-'))!;
    const scanner = [];
    for (const f of files.filter((f) => f.endsWith('.js')))
      if ((await readFile(join(bundle, f), 'utf8')).includes('function createRecordScanner(')) scanner.push(f);
    expect(scanner).toHaveLength(1);
    for (const start of ['main.js', transfer, exportChunk]) expect([...(await reach(start))]).not.toContain(scanner[0]);
    expect([...(await reach('convert-worker.js'))]).toContain(scanner[0]);
  });

  it('logs in (conf), runs a YAML job file (yaml), writes XLSX and fetches a task (got, stream-json)', async () => {
    const login = await runBin(['login', '--base-url', sb.baseUrl], env, `${TOKEN}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'config/config.json'), 'utf8'))).toMatchObject({
      profiles: { default: { baseUrl: sb.baseUrl } },
    });

    await writeFile(
      join(dir, 'jobs.yml'),
      'jobs:\n  - report: stock-bystore\n    out: by-store.csv\n  - report: stock-all\n    out: all.xlsx\n',
    );
    const batch = await runBin(['batch', 'jobs.yml'], env);
    expect(batch.code, batch.stderr).toBe(0);
    const csv = (await readFile(join(dir, 'by-store.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv.length).toBeGreaterThan(30);
    const { sheets } = readXlsx(await readFile(join(dir, 'all.xlsx')));
    expect(sheets[0]!.rows.length).toBe(31); // the header and 30 records

    const start = await runBin(['start', 'stock-bystore'], env);
    const id = start.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const fetched = await runBin(['fetch', id, '--wait', '--out', '-', '--format', 'ndjson'], env);
    expect(fetched.code, fetched.stderr).toBe(0);
    const lines = fetched.stdout.trimEnd().split('\n');
    expect(lines.length).toBe(30); // one line per record (the CSV has a row per store)
    expect(JSON.parse(lines[0]!)).toHaveProperty('meta');
    for (const text of [login.stdout, login.stderr, batch.stderr, fetched.stderr]) expect(text).not.toContain(TOKEN);
  }, 60_000);
});
