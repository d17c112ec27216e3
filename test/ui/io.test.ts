import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decideTerminalMode, type Io, type TerminalFlags } from '../../src/ui/io.js';

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
    ['--no-color beats FORCE_COLOR', io(false, { FORCE_COLOR: '1' }), { color: false }, { interactive: false, color: false }],
  ];
  it.each(cases)('%s', (_name, target, flags, want) => {
    const mode = decideTerminalMode(target, flags);
    expect({ interactive: mode.interactive, color: mode.color }).toEqual(want);
  });

  it('-q wins over -v: nothing but errors', () => {
    expect(decideTerminalMode(io(true), { quiet: true, verbose: true })).toMatchObject({ quiet: true, verbose: false });
  });
});
