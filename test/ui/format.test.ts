import { describe, expect, it } from 'vitest';
import {
  formatDeletion,
  formatDuration,
  renderReportsTable,
  renderTaskDetails,
  renderTaskTable,
  shortenRequest,
} from '../../src/ui/format.js';
import { REPORTS } from '../../src/reports/catalog.js';

const NOW = Date.UTC(2026, 2, 5, 11, 25, 0); // 14:25 MSK

describe('format', () => {
  it('durations and time until deletion', () => {
    expect([500, 12_000, 245_000, 4_020_000].map(formatDuration)).toEqual(['500ms', '12s', '4m 05s', '1h 07m']);
    expect(formatDeletion('2026-03-05 15:12:44.508', NOW)).toBe('in 47m');
    expect(formatDeletion('2026-03-05 14:00:00', NOW)).toBe('expired');
    expect(formatDeletion(undefined, NOW)).toBe('-');
  });
  it('shortens a request: no API root, no async=true, decoded', () => {
    expect(
      shortenRequest('https://api.moysklad.ru/api/remap/1.2/report/stock/bystore?filter=stockMode%3Dall&async=true'),
    ).toBe('/report/stock/bystore?filter=stockMode=all');
  });
  it('task table, no ANSI when colour is off', () => {
    const lines = renderTaskTable(
      [
        {
          id: 'a1',
          state: 'DONE',
          request: 'https://h/api/remap/1.2/report/stock/all?async=true',
          deletionDate: '2026-03-05 15:12:44.508',
        },
        {
          id: 'b22',
          state: 'PROCESSING',
          request: 'https://h/api/remap/1.2/report/profit/byproduct?momentFrom=2026-03-01%2000:00:00&async=true',
        },
      ],
      { now: NOW, color: false },
    );
    expect(lines).toMatchInlineSnapshot(`
      [
        "ID   STATE       DELETED  REQUEST",
        "a1   DONE        in 47m   /report/stock/all",
        "b22  PROCESSING  -        /report/profit/byproduct?momentFrom=2026-03-01 00:00:00",
      ]
    `);
    const coloured = renderTaskTable([{ id: 'a1', state: 'DONE', request: '' }], { now: NOW, color: true });
    expect(coloured[1]).toContain('\u001b[32mDONE\u001b[39m');
  });
  it('task details', () => {
    expect(
      renderTaskDetails(
        {
          id: 't',
          state: 'API_ERROR',
          request: 'https://h/api/remap/1.2/report/sales/plotseries?interval=day&async=true',
          errors: [{ error: 'momentTo missing', code: 39000 }],
        },
        { now: NOW, color: false },
      ),
    ).toMatchInlineSnapshot(`
        [
          "id:       t",
          "state:    API_ERROR",
          "request:  /report/sales/plotseries?interval=day",
          "error:    39000 momentTo missing",
        ]
      `);
  });
  it('reports table has a row per catalogue entry', () => {
    const lines = renderReportsTable(REPORTS);
    expect(lines).toHaveLength(REPORTS.length + 1);
    expect(lines.find((l) => l.startsWith('stock-bystore'))).toMatch(/stockByStore/);
    expect(lines.find((l) => l.startsWith('money-plotseries'))).toMatch(/momentFrom,momentTo,interval\s+series\[\]/);
  });
});
