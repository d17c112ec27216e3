import { describe, expect, it } from 'vitest';
import { buildReportRequest, closestAlias, pathBelowApiRoot, reportFromRequestUrl } from '../../src/reports/request.js';
import { UsageError } from '../../src/errors.js';

describe('buildReportRequest', () => {
  it('an alias with parameters, values URL-encoded (spaces as %20)', () => {
    const r = buildReportRequest('profit-byproduct', [
      ['momentFrom', '2026-11-01 00:00:00'],
      ['filter', 'store=https://h/x;product.name~мыло'],
    ]);
    expect(r.pathAndQuery).toBe(
      '/report/profit/byproduct?momentFrom=2026-11-01%2000%3A00%3A00&filter=store%3Dhttps%3A%2F%2Fh%2Fx%3Bproduct.name~%D0%BC%D1%8B%D0%BB%D0%BE',
    );
    expect(r.spec?.alias).toBe('profit-byproduct');
  });
  it('a raw path keeps its query and matches the catalogue', () => {
    const r = buildReportRequest('/report/stock/bystore?filter=stockMode=all', [['groupBy', 'product']]);
    expect(r.pathAndQuery).toBe('/report/stock/bystore?filter=stockMode%3Dall&groupBy=product');
    expect(r.spec?.alias).toBe('stock-bystore');
    expect(buildReportRequest('/entity/unknown').spec).toBeUndefined();
  });
  it.each([[['limit', '10']], [['offset', '0']]] as const)('refuses %j', (param) => {
    expect(() => buildReportRequest('stock-all', [param])).toThrow(/async mode/);
    expect(() => buildReportRequest('/report/stock/all?limit=5')).toThrow(UsageError);
  });
  it('names missing required parameters', () => {
    expect(() => buildReportRequest('sales-plotseries', [['momentFrom', '2026-01-01']])).toThrow(/momentTo, interval/);
  });
  it('unknown alias suggests the closest', () => {
    expect(() => buildReportRequest('stock-bystor')).toThrow(/did you mean "stock-bystore"/);
    expect(closestAlias('profit')).toMatch(/^profit-/);
    expect(closestAlias('zzzzzzzzzzzzzzzzzzzzzzzzz')).toBeUndefined();
  });
  it('drops a stray async parameter', () => {
    expect(buildReportRequest('stock-all', [['async', 'true']]).pathAndQuery).toBe('/report/stock/all');
  });
});

describe('the API root, stripped in one place', () => {
  it('pathBelowApiRoot keeps what follows the root, and a path without it as it is', () => {
    expect(pathBelowApiRoot('/api/remap/1.2/report/stock/all')).toBe('/report/stock/all');
    expect(pathBelowApiRoot('/proxy/api/remap/1.2/async/abc')).toBe('/async/abc');
    expect(pathBelowApiRoot('/report/stock/all')).toBe('/report/stock/all');
  });
  it('reportFromRequestUrl finds the report of a task, and gives up quietly on an odd URL', () => {
    const url = 'https://api.moysklad.ru/api/remap/1.2/report/stock/bystore?filter=stockMode=all&async=true';
    expect(reportFromRequestUrl(url)?.alias).toBe('stock-bystore');
    expect(reportFromRequestUrl('https://api.moysklad.ru/api/remap/1.2/entity/product?async=true')).toBeUndefined();
    // A task whose `request` is not a URL used to end `fetch` with a stack trace (exit 1).
    expect(reportFromRequestUrl('http://[')).toBeUndefined();
  });
});
