import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decideStdoutColor, decideTerminalMode, type Io, type TerminalFlags } from '../../src/ui/io.js';

function io(stderrTTY: boolean, env: NodeJS.ProcessEnv = {}): Io {
  const stderr = Object.assign(new PassThrough(), { isTTY: stderrTTY });
  return { stdin: new PassThrough(), stdout: new PassThrough(), stderr, env };
}

describe('decideTerminalMode', () => {
  const cases: Array<[string, Io, TerminalFlags, { interactive: boolean; color: boolean }]> = [
    ['a terminal', io(true), {}, { interactive: true, color: true }],
    ['a pipe or file', io(false), {}, { interactive: false, color: false }],
    ['CI on a terminal', io(true, { CI: 'true' }), {}, { interactive: false, color: true }],
    ['TERM=dumb', io(true, { TERM: 'dumb' }), {}, { interactive: false, color: false }],
    ['-q', io(true), { quiet: true }, { interactive: false, color: true }],
    ['--json', io(true), { json: true }, { interactive: false, color: true }],
    ['-v', io(true), { verbose: true }, { interactive: false, color: true }],
    ['NO_COLOR', io(true, { NO_COLOR: '1' }), {}, { interactive: true, color: false }],
    ['--no-color', io(true), { color: false }, { interactive: true, color: false }],
    ['FORCE_COLOR into a pipe', io(false, { FORCE_COLOR: '1' }), {}, { interactive: false, color: true }],
    [
      'an empty FORCE_COLOR forces too, as in Node',
      io(false, { FORCE_COLOR: '' }),
      {},
      { interactive: false, color: true },
    ],
    ['FORCE_COLOR=0 does not', io(false, { FORCE_COLOR: '0' }), {}, { interactive: false, color: false }],
    [
      '--no-color beats FORCE_COLOR',
      io(false, { FORCE_COLOR: '1' }),
      { color: false },
      { interactive: false, color: false },
    ],
  ];
  it.each(cases)('%s', (_name, target, flags, want) => {
    const mode = decideTerminalMode(target, flags);
    expect({ interactive: mode.interactive, color: mode.color }).toEqual(want);
  });

  it('-q wins over -v: nothing but errors', () => {
    expect(decideTerminalMode(io(true), { quiet: true, verbose: true })).toMatchObject({ quiet: true, verbose: false });
  });
});

describe('decideStdoutColor: one FORCE_COLOR rule for stderr and stdout', () => {
  function pipes(env: NodeJS.ProcessEnv, stdoutTTY = false): Io {
    // A terminal session has both on the TTY; a cron job has both on pipes.
    const stdout = Object.assign(new PassThrough(), { isTTY: stdoutTTY });
    const stderr = Object.assign(new PassThrough(), { isTTY: stdoutTTY });
    return { stdin: new PassThrough(), stdout, stderr, env };
  }
  it.each([
    ['stdout a terminal', pipes({}, true), true],
    ['stdout a pipe', pipes({}), false],
    ['a pipe, FORCE_COLOR=1', pipes({ FORCE_COLOR: '1' }), true],
    ['a pipe, FORCE_COLOR empty', pipes({ FORCE_COLOR: '' }), true],
    ['a pipe, FORCE_COLOR=false', pipes({ FORCE_COLOR: 'false' }), false],
  ] as const)('%s', (_name, target, want) => {
    const mode = decideTerminalMode(target, {});
    expect(mode.color).toBe(want);
    expect(decideStdoutColor(target, mode)).toBe(want);
  });

  it('--no-color wins on stdout as well', () => {
    const target = pipes({ FORCE_COLOR: '' }, true);
    expect(decideStdoutColor(target, decideTerminalMode(target, { color: false }))).toBe(false);
  });
});
