/** The progress line: fits the terminal, drops the bar before the numbers, no speed before it means something. */
import { describe, expect, it } from 'vitest';
import { formatBytes, renderProgressLine } from '../../src/ui/progress.js';
import { describeSummary } from '../../src/ui/summary.js';

const base = { label: 'download', value: 50 * 2 ** 20, total: 224 * 2 ** 20, show: formatBytes };

describe('renderProgressLine', () => {
  it('draws a bar on a wide terminal and keeps speed and ETA', () => {
    const line = renderProgressLine({ ...base, columns: 120, speed: { rate: '19 MiB/s', eta: '9s' } });
    expect(line).toBe('download  █████░░░░░░░░░░░░░░░░░░░  22% 50 MiB / 224 MiB 19 MiB/s ETA 9s');
  });

  it.each([60, 69, 40])('below 70 columns (%i) drops the bar and keeps every number that fits', (columns) => {
    const line = renderProgressLine({ ...base, columns, speed: { rate: '19 MiB/s', eta: '9s' } });
    expect(line).not.toMatch(/[█░]/);
    expect(line.length).toBeLessThan(columns);
    if (columns >= 60) expect(line).toBe('download   22% 50 MiB / 224 MiB 19 MiB/s ETA 9s');
  });

  it('between 70 and 100 columns the bar shrinks so that the line fits', () => {
    for (const columns of [70, 80, 90]) {
      const line = renderProgressLine({ ...base, columns, speed: { rate: '19 MiB/s', eta: '1m05s' } });
      expect(line.length).toBeLessThan(columns);
      expect(line).toMatch(/█/);
    }
  });

  it("a note (the conversion's count during a download) follows the numbers only where it fits whole", () => {
    const note = '512,000 records converted';
    const speed = { rate: '19 MiB/s', eta: '9s' };
    expect(renderProgressLine({ ...base, columns: 120, speed, note })).toBe(
      'download  █████░░░░░░░░░░░░░░░░░░░  22% 50 MiB / 224 MiB 19 MiB/s ETA 9s · 512,000 records converted',
    );
    // Narrower, the bar gives the note room…
    const at100 = renderProgressLine({ ...base, columns: 100, speed, note });
    expect(at100).toMatch(/^download {2}█+░+ {2}22% 50 MiB \/ 224 MiB 19 MiB\/s ETA 9s · 512,000 records converted$/);
    expect(at100.length).toBeLessThan(100);
    // …but where the note would cost the bar or a number, it goes.
    for (const columns of [80, 60, 30]) {
      expect(renderProgressLine({ ...base, columns, speed, note })).toBe(
        renderProgressLine({ ...base, columns, speed }),
      );
    }
  });

  it('an unknown total: no bar, no percent, the amount alone', () => {
    expect(renderProgressLine({ ...base, total: undefined, columns: 120, speed: {} })).toBe('download  50 MiB');
  });
});

describe('describeSummary', () => {
  const summary = {
    taskId: 'x',
    reused: false,
    state: 'DONE',
    records: 1000,
    rows: 3000,
    resultBytes: 1_177_558,
    outputBytes: 121_932,
    path: '/tmp/stock.csv',
    format: 'csv',
    durationMs: 3420,
  };
  it('rows, records, duration and sizes', () => {
    expect(describeSummary(summary, 'stock.csv')).toBe(
      'wrote 3,000 rows (1,000 records) to stock.csv in 3.4s (119 KiB csv, from a 1.1 MiB result)',
    );
    expect(
      describeSummary({ ...summary, rows: 1, records: 1, resultBytes: null, durationMs: 65_000 }, 'd.ndjson'),
    ).toBe('wrote 1 record to d.ndjson in 1m 05s (119 KiB csv)');
  });
});
