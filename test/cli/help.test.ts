/**
 * Help that reads like gh's (issue 11): global options under every command, no empty defaults,
 * lines that fit 80 columns when piped, usage lines naming only real options, commander's errors
 * with our prefix (and JSON under --json), and completions generated from the command tree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { completionScript } from '../../src/cli/completion.js';
import { wrapText } from '../../src/cli/help.js';
import { createTestDeps, runCli } from '../helpers/test-io.js';

function commandPaths(): string[][] {
  const program = createProgram(createTestDeps().deps);
  const out: string[][] = [];
  const visit = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      out.push([...path, sub.name()]);
      visit(sub, [...path, sub.name()]);
    }
  };
  visit(program, []);
  return out;
}

describe('help', () => {
  it.each(commandPaths().map((p) => [p.join(' '), p]))(
    '%s --help: globals, no empty default, ≤ 80 columns',
    async (_name, path) => {
      const r = await runCli([...path, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Global Options:[\s\S]*--profile <name>[\s\S]*--json/);
      expect(r.stdout).not.toContain('(default: [])');
      for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
      // Every flag the usage line names is one the command (or the program) has.
      const usage = r.stdout.slice(0, r.stdout.indexOf('\n\n'));
      for (const flag of usage.match(/(?<=[\s[])--?[a-z][\w-]*/g) ?? []) {
        expect(r.stdout.slice(usage.length), `${flag} in the usage of ${path.join(' ')}`).toMatch(
          new RegExp(`(^|[ ,])${flag}[ ,\\n]`, 'm'),
        );
      }
    },
  );

  it('wraps at word boundaries; an example keeps pasting with a backslash', () => {
    const text =
      '  $ ms-async export sales -p momentFrom="2026-11-01 00:00:00" -p momentTo="2026-11-30 23:59:59" --out s.csv';
    const lines = wrapText(text, 60).split('\n');
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines[0]).toMatch(/ \\$/);
    expect(lines.join(' ').replace(/ \\ +/g, ' ')).toBe(text);
  });

  it.each([[], ...commandPaths()].map((p) => [p.join(' ') || 'ms-async', p]))(
    '%s --help at 80 columns: no line broken before it is full',
    async (_name, path) => {
      const lines = (await runCli([...path, '--help'])).stdout.split('\n');
      const indent = (line: string): number => /^ */.exec(line)?.[0].length ?? 0;
      for (const [i, line] of lines.slice(0, -1).entries()) {
        const below = lines[i + 1] as string;
        // `below` continues `line`'s sentence: both flush left (not after a heading), or `below`
        // hangs deeper than `line` (a list entry's description, the usage line). An example's
        // continuation (after a backslash) and its `# comment` on a line of its own are left out.
        const flush = indent(line) === 0 && indent(below) === 0;
        const hangs = indent(below) > indent(line) && !line.endsWith(' \\');
        if (line.trim() === '' || below.trim() === '' || line.endsWith(':') || !(flush || hangs)) continue;
        if (below.trim().startsWith('# ')) continue;
        const word = below.trim().split(' ')[0] as string;
        expect(`${line} ${word}`.length, `${path.join(' ')}: ${JSON.stringify(line)} then ${word}`).toBeGreaterThan(80);
      }
    },
  );

  it('re-flows a paragraph written with hard line breaks, keeping lists and examples', async () => {
    const convert = await runCli(['convert', '--help']);
    expect(convert.stdout).toContain(
      [
        'Convert an async task result file already on disk to CSV, NDJSON, JSON or XLSX,',
        'with the same rules and code as fetch/export. --report names the catalogue',
        'report the file came from, which says where its records are and which array CSV',
        'explodes.',
      ].join('\n'),
    );
    const completion = await runCli(['completion', '--help']);
    expect(completion.stdout).toContain(
      [
        'Install:',
        '  bash  $ ms-async completion bash > \\',
        '            ~/.local/share/bash-completion/completions/ms-async',
        '  zsh   $ ms-async completion zsh > ',
      ].join('\n'),
    );
    const sandbox = await runCli(['sandbox', '--help']);
    expect(sandbox.stdout).toContain(
      [
        '  status429=N[+K][:F]     requests N..N+K answer 429: F=rate (code 1049,',
        '                          X-Lognex-Retry-After; default), parallel',
        '                          (X-Lognex-Auth: 429005, body {}), bare (no header, no',
        '                          body)',
        '  status5xx=N[+K][:S]     requests N..N+K answer status S (default 503)',
      ].join('\n'),
    );
    const text = [
      'One paragraph, broken',
      'by hand.',
      '',
      'Faults:',
      '  slow=MS    every answer waits MS ms first, so a client can be seen to wait',
      '             (and not give up)',
      '  $ ms-async sandbox --fault slow=100',
    ].join('\n');
    expect(wrapText(text, 40)).toBe(
      [
        'One paragraph, broken by hand.',
        '',
        'Faults:',
        '  slow=MS    every answer waits MS ms',
        '             first, so a client can be',
        '             seen to wait (and not give',
        '             up)',
        '  $ ms-async sandbox --fault slow=100',
      ].join('\n'),
    );
  });

  it("commander's errors: our prefix, exit 2, and JSON on stdout under --json", async () => {
    const plain = await runCli(['export', 'stock-all']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/^ms-async: error: required option '-o, --out <file>' not specified/);
    const json = await runCli(['--json', 'exprot']);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/^ms-async: error: unknown command 'exprot'/);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: 'ERR_MS_USAGE', exitCode: 2, message: expect.stringMatching(/unknown command/) },
    });
  });
});

describe('completion', () => {
  async function complete(script: string, words: string[]): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'ms-async-completion-'));
    try {
      await writeFile(join(dir, 'c.bash'), script);
      const call =
        `source ${JSON.stringify(join(dir, 'c.bash'))}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); ` +
        `COMP_CWORD=${words.length - 1}; _ms_async_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', call], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l !== '');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('bash completes subcommands, their flags, report aliases and --format choices', async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(await complete(r.stdout, ['ms-async', 'ex'])).toEqual(['export']);
    expect(await complete(r.stdout, ['ms-async', '--profile', 'p', 'webhook', 'a'])).toEqual(['add']);
    expect(await complete(r.stdout, ['ms-async', 'export', 'stock-b'])).toEqual(['stock-bystore']);
    expect(await complete(r.stdout, ['ms-async', 'export', 'x', '--format', 'nd'])).toEqual(['ndjson']);
    expect(await complete(r.stdout, ['ms-async', 'fetch', '--col'])).toEqual(['--columns']);
  });

  it('is generated from the tree: a command added later is offered without edits', async () => {
    const program = createProgram(createTestDeps().deps);
    program.command('frobnicate').option('--zzz-flag');
    const script = completionScript('bash', program, () => []);
    expect(await complete(script, ['ms-async', 'frob'])).toEqual(['frobnicate']);
    expect(await complete(script, ['ms-async', 'frobnicate', '--zzz'])).toEqual(['--zzz-flag']);
    expect(completionScript('fish', program, () => [])).toContain("-a 'frobnicate'");
    expect(completionScript('zsh', program, () => [])).toMatch(/^#compdef ms-async\nautoload -U \+X bashcompinit/);
  });
});
