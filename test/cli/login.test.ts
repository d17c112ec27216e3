import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createTestDeps, type TestDepsOptions } from '../helpers/test-io.js';
import { run } from '../../src/main.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const TOKEN = 'tok-LOGIN-5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const t = useCliSandbox(TOKEN, 'login');
const cli = (argv: string[], options: TestDepsOptions = {}) => t.cli(argv, { env: {}, ...options });

describe('ms-async login / logout', () => {
  it('reads the token from stdin when not a TTY, checks it with GET /context/employee, stores it 0600', async () => {
    const r = await cli(['login', '--base-url', t.sb.baseUrl], { stdin: `${TOKEN}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/logged in.*profile "default"/);
    expect(t.sb.requests.map((q) => `${q.method} ${new URL(q.url).pathname}`)).toEqual([
      'GET /api/remap/1.2/context/employee',
    ]);

    const path = (await cli(['config', 'path'])).stdout.trim();
    expect(path.startsWith(t.configDir)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toContain(t.sb.baseUrl);

    // The stored profile now works with no flags or environment at all.
    const started = await cli(['start', 'stock-all']);
    expect(started.code).toBe(0);

    expect((await cli(['config', 'get', 'token'])).stdout).toBe(`${TOKEN.slice(0, 4)}…(${TOKEN.length} chars)\n`);
    expect((await cli(['config', 'list'])).stdout).toBe(
      `default.base-url=${t.sb.baseUrl}\ndefault.token=${TOKEN.slice(0, 4)}…(${TOKEN.length} chars)\n`,
    );

    const out = await cli(['logout']);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/removed/);
    expect((await cli(['start', 'stock-all'])).code).toBe(3);
  });

  it('a hidden prompt on a TTY: nothing echoed', async () => {
    const { deps, out } = createTestDeps({
      configDir: t.configDir,
      stdinTTY: true,
      stderrTTY: true,
      env: { MS_BASE_URL: t.sb.baseUrl },
    });
    const pending = run(['login', '--profile', 'shop2'], deps);
    await new Promise((r) => setTimeout(r, 50));
    out.type(`${TOKEN}\r`);
    expect(await pending).toBe(0);
    t.outputs.push(out.all());
    expect(out.stderr()).toContain('MoySklad token (input hidden): \n');
    const listed = await cli(['--profile', 'shop2', 'config', 'get', 'base-url']);
    expect(listed.stdout).toBe(`${t.sb.baseUrl}\n`);
  });

  it('a refused token → exit 3 and nothing stored', async () => {
    const r = await cli(['login', '--base-url', t.sb.baseUrl], { stdin: 'wrong-token-value\n' });
    expect(r.code).toBe(3);
    expect((await cli(['config', 'list'])).stdout).toBe('');
  });

  it('an empty stdin → exit 2', async () => {
    expect((await cli(['login', '--base-url', t.sb.baseUrl], { stdin: '\n' })).code).toBe(2);
  });
});

describe('ms-async config', () => {
  it('set / get / list --json per profile; unknown keys → exit 2', async () => {
    expect((await cli(['config', 'set', 'base-url', 'https://example.com/api/remap/1.2'])).code).toBe(0);
    expect((await cli(['--profile', 'b', 'config', 'set', 'token', TOKEN])).code).toBe(0);
    expect((await cli(['config', 'get', 'base-url'])).stdout).toBe('https://example.com/api/remap/1.2\n');
    const json = JSON.parse((await cli(['--json', 'config', 'list'])).stdout) as Record<string, Record<string, string>>;
    expect(json).toEqual({
      default: { 'base-url': 'https://example.com/api/remap/1.2' },
      b: { token: `${TOKEN.slice(0, 4)}…(${TOKEN.length} chars)` },
    });
    expect((await cli(['config', 'get', 'password'])).code).toBe(2);
    expect((await cli(['config', 'set', 'base-url', 'nope'])).code).toBe(2);
  });

  it('MS_PROFILE picks the profile, the flag beats it', async () => {
    await cli(['--profile', 'x', 'config', 'set', 'base-url', 'https://x.example/api']);
    expect((await cli(['config', 'get', 'base-url'], { env: { MS_PROFILE: 'x' } })).stdout).toBe(
      'https://x.example/api\n',
    );
    expect(
      (await cli(['--profile', 'default', 'config', 'get', 'base-url'], { env: { MS_PROFILE: 'x' } })).stdout,
    ).toBe('');
  });
});

describe('refused credentials name their source (issue 11)', () => {
  const s = useCliSandbox('tok-SOURCES-0011223344556677889900aabbccddee', 'sources', {
    login: 'admin@shop',
    password: 'right',
  });
  const run = (argv: string[], env: NodeJS.ProcessEnv, stdin?: string) =>
    s.cli(argv, { env: { MS_BASE_URL: s.sb.baseUrl, ...env }, ...(stdin === undefined ? {} : { stdin }) });

  it.each([
    [{ MS_TOKEN: 'wrong-1' }, [], /refused the credentials from MS_TOKEN/, /MS_TOKEN is set/],
    [{ MOYSKLAD_TOKEN: 'wrong-2' }, [], /from MOYSKLAD_TOKEN/, /MOYSKLAD_TOKEN is set/],
    [{ MS_TOKEN: 'wrong-3' }, ['--token', 'wrong-4'], /from --token/, /given with --token/],
    [{ MS_LOGIN: 'admin@shop', MS_PASSWORD: 'nope' }, [], /from Basic login admin@shop/, /MS_LOGIN and MS_PASSWORD/],
  ])('%j %j → exit 3, the source named, the API message once', async (env, flags, message, hint) => {
    const r = await run([...flags, 'start', 'stock-all'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(new RegExp(`hint: .*${hint.source}`));
    const apiMessages = r.stderr.split('\n').filter((l) => /API error 1056/.test(l));
    expect(apiMessages).toHaveLength(1);
    const [api] = apiMessages;
    const said = api?.replace(/^\s*API error 1056: /, '') ?? '';
    expect(r.stderr.split(said).length - 1).toBe(1);
  });

  it('a stored profile refused says which profile; MOYSKLAD_TOKEN is used after MS_TOKEN', async () => {
    await run(['--profile', 'shop2', 'config', 'set', 'token', 'stale-token'], {});
    const r = await run(['--profile', 'shop2', 'start', 'stock-all'], {});
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/from profile "shop2"/);
    expect(r.stderr).toMatch(/ms-async login --profile shop2/);
    const ok = await run(['start', 'stock-all'], { MOYSKLAD_TOKEN: 'tok-SOURCES-0011223344556677889900aabbccddee' });
    expect(ok.code).toBe(0);
  });

  it('a failing login does not tell the user to run login', async () => {
    const r = await run(['login'], {}, 'not-the-token\n');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the token typed for login/);
    expect(r.stderr).not.toMatch(/run `ms-async login`/);
  });
});

describe('a base URL carrying credentials', () => {
  it('is refused (exit 2) on every command, never printed, never preferred over MS_TOKEN', async () => {
    const base = t.sb.baseUrl.replace('http://', 'http://shop:s3cr3t-pw@');
    for (const argv of [
      ['--json', 'status', '00000000-0000-4000-8000-000000000000'],
      ['-v', 'list'],
    ]) {
      const r = await cli(argv, { env: { MS_BASE_URL: base, MS_TOKEN: TOKEN } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/carries a user name or password/);
      expect(r.stdout + r.stderr).not.toContain('s3cr3t-pw');
    }
    const before = t.sb.requests.length;
    const flag = await cli(['--base-url', base, 'list'], { env: { MS_TOKEN: TOKEN } });
    expect(flag.code).toBe(2);
    expect(t.sb.requests.length).toBe(before);
  });
});
