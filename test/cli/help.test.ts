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
