/**
 * The parts of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) that ms-async writes
 * and reads, and a check of the fields the spec requires (a trace a user sends may be edited).
 */

export interface HarHeader {
  name: string;
  value: string;
}

export interface HarTimings {
  blocked?: number;
  dns?: number;
  connect?: number;
  ssl?: number;
  send: number;
  wait: number;
  receive: number;
}

export interface HarContent {
  size: number;
  mimeType: string;
  text?: string;
  encoding?: string;
  comment?: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: unknown[];
    headers: HarHeader[];
    queryString: HarHeader[];
    headersSize: number;
    bodySize: number;
    postData?: { mimeType: string; text?: string };
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: unknown[];
    headers: HarHeader[];
    content: HarContent;
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, unknown>;
  timings: HarTimings;
  comment?: string;
}

export interface Har {
  log: {
    version: string;
    creator: { name: string; version: string };
    pages?: unknown[];
    entries: HarEntry[];
    comment?: string;
    /** ms-async's own field (HAR allows `_`-prefixed ones): the API base URL of the run. */
    _baseUrl?: string;
  };
}

/** Problems with a parsed HAR's required fields; an empty list means it is a usable HAR 1.2 log. */
export function harProblems(value: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const need = (obj: Record<string, unknown>, where: string, fields: Record<string, string>): void => {
    for (const [field, type] of Object.entries(fields)) {
      const v = obj[field];
      const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? isObject(v) : typeof v === type;
      if (!ok)
        problems.push(`${where}.${field} is not ${type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`}`);
    }
  };
  if (!isObject(value) || !isObject(value.log)) return ['not a HAR file: no "log" object'];
  const log = value.log;
  need(log, 'log', { version: 'string', creator: 'object', entries: 'array' });
  if (isObject(log.creator)) need(log.creator, 'log.creator', { name: 'string', version: 'string' });
  const entries = Array.isArray(log.entries) ? log.entries : [];
  entries.forEach((entry: unknown, i: number) => {
    const at = `log.entries[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at} is not an object`);
      return;
    }
    need(entry, at, {
      startedDateTime: 'string',
      time: 'number',
      request: 'object',
      response: 'object',
      cache: 'object',
      timings: 'object',
    });
    if (typeof entry.startedDateTime === 'string' && Number.isNaN(Date.parse(entry.startedDateTime))) {
      problems.push(`${at}.startedDateTime is not an ISO 8601 date`);
    }
    if (isObject(entry.request)) {
      need(entry.request, `${at}.request`, {
        method: 'string',
        url: 'string',
        httpVersion: 'string',
        cookies: 'array',
        headers: 'array',
        queryString: 'array',
        headersSize: 'number',
        bodySize: 'number',
      });
    }
    if (isObject(entry.response)) {
      need(entry.response, `${at}.response`, {
        status: 'number',
        statusText: 'string',
        httpVersion: 'string',
        cookies: 'array',
        headers: 'array',
        content: 'object',
        redirectURL: 'string',
        headersSize: 'number',
        bodySize: 'number',
      });
      if (isObject(entry.response.content))
        need(entry.response.content, `${at}.response.content`, { size: 'number', mimeType: 'string' });
    }
    if (isObject(entry.timings))
      need(entry.timings, `${at}.timings`, { send: 'number', wait: 'number', receive: 'number' });
  });
  return problems;
}
