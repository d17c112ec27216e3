/**
 * buildReportRequest: `<report>` + `-p k=v`… → the path and query of the API request, checked
 * before anything is sent (README.md "Command reference": limit/offset and missing required
 * parameters are exit 2). Pure.
 */
import { UsageError } from '../errors.js';
import { REPORTS, findReportByAlias, findReportByPath, type ReportSpec } from './catalog.js';

export interface ReportRequest {
  /** `/report/stock/bystore?filter=stockMode%3Dall` — without async=true. */
  pathAndQuery: string;
  /** The catalogue entry, when the report is one (raw paths may match one too). */
  spec: ReportSpec | undefined;
}

const FORBIDDEN = new Set(['limit', 'offset']);

/** The root of every URL the API hands back (docs/api-facts.md §1.1). */
const API_ROOT = '/api/remap/1.2';

/**
 * A URL path from the API, below its root: `/api/remap/1.2/report/stock/all` → `/report/stock/all`
 * (a path without the root is returned as it is). The one place that knows the root's spelling.
 */
export function pathBelowApiRoot(pathname: string): string {
  const at = pathname.indexOf(API_ROOT);
  return at >= 0 ? pathname.slice(at + API_ROOT.length) : pathname;
}

/**
 * The catalogue entry of a task's `request` URL (`…/api/remap/1.2/report/stock/bystore?…`), or
 * undefined for a report we do not know or a URL that does not parse (a server's odd value must
 * not end the run with a stack trace).
 */
export function reportFromRequestUrl(requestUrl: string): ReportSpec | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl, 'http://relative.invalid');
  } catch {
    return undefined;
  }
  return findReportByPath(pathBelowApiRoot(url.pathname));
}

/** Encodes a query component the way the API wants it: everything reserved, spaces as %20 (§1.5). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function buildReportRequest(
  report: string,
  params: ReadonlyArray<readonly [string, string]> = [],
): ReportRequest {
  let path: string;
  let spec: ReportSpec | undefined;
  const query: Array<[string, string]> = [];

  if (report.startsWith('/')) {
    const at = report.indexOf('?');
    path = (at < 0 ? report : report.slice(0, at)).replace(/\/+$/, '') || '/';
    spec = findReportByPath(path);
    if (at >= 0) {
      for (const [key, value] of new URLSearchParams(report.slice(at + 1))) query.push([key, value]);
    }
  } else {
    spec = findReportByAlias(report);
    if (!spec) {
      const near = closestAlias(report);
      throw new UsageError(`unknown report "${report}"${near ? `; did you mean "${near}"?` : ''}`, {
        hint: 'run `ms-async reports` for the list, or give an API path beginning with /',
      });
    }
    path = spec.path;
  }
  for (const [key, value] of params) query.push([key, value]);

  const withoutAsync = query.filter(([key]) => key !== 'async');
  const forbidden = withoutAsync.filter(([key]) => FORBIDDEN.has(key)).map(([key]) => key);
  if (forbidden.length > 0) {
    throw new UsageError(
      `${[...new Set(forbidden)].join(' and ')} cannot be used: the API forbids paging in async mode (error 61001); the result holds every row`,
    );
  }
  if (spec) {
    const given = new Set(withoutAsync.map(([key]) => key));
    const missing = spec.required.filter((name) => !given.has(name));
    if (missing.length > 0) {
      throw new UsageError(
        `${spec.alias} needs ${missing.map((m) => `-p ${m}=…`).join(', ')} (missing: ${missing.join(', ')})`,
        {
          hint: `example: ms-async start ${spec.alias} -p momentFrom="2026-11-01 00:00:00" -p momentTo="2026-11-30 23:59:59" -p interval=day`,
        },
      );
    }
  }
  const search = withoutAsync.map(([key, value]) => `${encodeQueryValue(key)}=${encodeQueryValue(value)}`).join('&');
  return { pathAndQuery: search ? `${path}?${search}` : path, spec };
}

/** The catalogue alias nearest to a misspelt one (edit distance), or undefined if none is close. */
export function closestAlias(text: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const { alias } of REPORTS) {
    const d = alias.startsWith(text) || alias.includes(text) ? 1 : editDistance(text.toLowerCase(), alias);
    if (d < bestDistance) {
      best = alias;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(3, Math.floor(text.length / 2)) ? best : undefined;
}

/** Levenshtein distance, for "did you mean" suggestions of aliases and columns. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A catalogue alias or an API path; undefined lets the converter find `rows[]` itself. */
export function reportFromArgument(report: string | undefined): ReportSpec | undefined {
  if (report === undefined) return undefined;
  const spec = report.startsWith('/') ? findReportByPath(report) : findReportByAlias(report);
  if (!spec && !report.startsWith('/')) {
    const near = closestAlias(report);
    throw new UsageError(`unknown report "${report}"${near ? `; did you mean "${near}"?` : ''}`, {
      hint: 'run `ms-async reports` to see the catalogue',
    });
  }
  return spec;
}
