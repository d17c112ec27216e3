import { describe, expect, it } from 'vitest';
import { createBatchView } from '../../src/cli/batch-view.js';
import { decideTerminalMode } from '../../src/ui/io.js';
import { createTestIo } from '../helpers/test-io.js';

const JOBS = [
  { index: 1, report: 'stock-bystore', out: 'out/stock.csv' },
  {
    index: 2,
    report: 'profit-byproduct',
    out: 'out/a-rather-long-name-for-a-profit-report-output-file-of-the-night.csv',
  },
];

describe('the batch view', () => {
  it('on a terminal: one line per job, redrawn in place, never wider than the terminal', () => {
    const out = createTestIo({ stderrTTY: true, env: { TERM: 'xterm' } });
    (out.io.stderr as { columns?: number }).columns = 60;
    let now = 0;
    const view = createBatchView(out.io, decideTerminalMode(out.io, {}), JOBS, () => now);
    now = 12_000;
    view.update(0, { state: 'PROCESSING' });
    view.update(1, { state: 'downloading', progress: '1.2 MiB of 4 MiB' });
    view.stop();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the cursor movement is what this test looks for
    const frames = out.stderr().split(/\u001b\[2A/);
    expect(frames).toHaveLength(2); // the first frame, then one that moved up over both lines
    const last = (frames[1] ?? '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI codes
      .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
      .split('\n')
      .filter(Boolean);
    expect(last).toHaveLength(2);
    expect(last[0]).toBe('[1] stock-bystore → out/stock.csv  PROCESSING  12s');
    expect(last[1]?.length).toBeLessThanOrEqual(59);
    expect(last[1]?.endsWith('…')).toBe(true);
    expect(out.stdout()).toBe('');
  });

  it('elsewhere: a plain line per state change, no ANSI; -q: nothing', () => {
    const out = createTestIo({ env: {} });
    let now = 0;
    const view = createBatchView(out.io, decideTerminalMode(out.io, {}), JOBS, () => now);
    view.update(0, { state: 'PENDING' });
    view.update(0, { state: 'PENDING', progress: 'ignored' });
    now = 3000;
    view.update(1, { state: 'failed', note: 'the API rejected the request' });
    view.stop();
    expect(out.stderr()).toBe(
      '[1] stock-bystore → out/stock.csv: PENDING (0ms)\n' +
        `[2] profit-byproduct → ${JOBS[1]?.out}: FAILED (3s): the API rejected the request\n`,
    );
    const quiet = createTestIo({ env: {} });
    const q = createBatchView(quiet.io, decideTerminalMode(quiet.io, { quiet: true }), JOBS, () => 0);
    q.update(0, { state: 'failed' });
    expect(quiet.stderr()).toBe('');
  });
});
