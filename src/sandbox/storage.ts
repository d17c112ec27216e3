/**
 * The storage origin: a separate server standing in for the object storage behind the 302 of
 * `/async/{id}/result` (§2.7). Temp-URL links signed with HMAC and an expiry, no Authorization,
 * Content-Length, Range, optional gzip, and the download faults. Files are streamed, never read whole.
 */
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { recordHeaders } from './api.js';
import { throttle, type SandboxCore } from './core.js';

const PATH_RE = /^\/batch\/([0-9a-f-]{36})\/apiasynctaskresult\/([0-9a-f-]{36})$/;

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function handleStorage(core: SandboxCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', core.storageUrl);
  const method = (req.method ?? 'GET').toUpperCase();
  const record = {
    origin: 'storage' as const,
    method,
    url: url.toString(),
    headers: recordHeaders(req),
    status: 0,
    startedAt: Date.now(),
    endedAt: 0,
    bodyBytes: 0,
  };
  core.requests.push(record);
  res.on('finish', () => {
    record.status = res.statusCode;
  });
  res.on('close', () => {
    record.endedAt = Date.now();
  });

  if (method !== 'GET' && method !== 'HEAD')
    return xmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  const match = PATH_RE.exec(url.pathname);
  if (!match) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  const [, batch = '', objectId = ''] = match;
  const sig = url.searchParams.get('temp_url_sig') ?? '';
  const expiresText = url.searchParams.get('temp_url_expires') ?? '';
  const expires = /^\d+$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!Number.isFinite(expires) || !sameSignature(sig, core.sign(url.pathname, expires))) {
    return xmlError(res, 403, 'AccessDenied', 'Temp URL invalid.');
  }
  if (core.now() >= expires * 1000) return xmlError(res, 403, 'AccessDenied', 'Temp URL expired.');
  const object = core.objects.get(objectId);
  const task = object && object.batch === batch ? core.tasks.get(object.taskId) : undefined;
  if (!task?.file || core.now() >= (task.deletionAt ?? 0))
    return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');

  const storage = core.options.storage;
  const gzip =
    storage.gzip === true ||
    (storage.gzip === 'negotiate' && /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? '')));
  const faults = core.faults;
  if (faults.resultBody !== null) return sendBody(res, method, faults.resultBody, gzip);
  const truncate = faults.truncateResult !== 'off';
  if (method === 'GET' && faults.truncateResult === 'once') faults.truncateResult = 'off';
  const file = await core.variant(task, truncate ? (gzip ? 'trunc-gzip' : 'trunc') : gzip ? 'gzip' : 'plain');

  const headers: Record<string, string> = {
    'Content-Type': storage.contentType ?? 'application/json',
    'Content-Disposition': `attachment; filename="asynctask_${task.id}_result.json"`,
    'Last-Modified': new Date(task.doneAt ?? Date.now()).toUTCString(),
    // Object stores send an ETag per object version; one per task result and served variant here.
    ETag: `"${task.id.slice(0, 8)}-${truncate ? 't' : ''}${gzip ? 'g' : 'p'}-${file.size}"`,
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  if (storage.range) headers['Accept-Ranges'] = 'bytes';
  let start = 0;
  let end = file.size - 1;
  let status = 200;
  // If-Range (RFC 9110 §13.1.5): a validator that no longer matches means "send it whole".
  const ifRange = req.headers['if-range'];
  const rangeStillValid = ifRange === undefined || ifRange === headers.ETag || ifRange === headers['Last-Modified'];
  const range =
    storage.range && rangeStillValid ? /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? '').trim()) : null;
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
    } else {
      start = Math.max(0, file.size - Number(range[2])); // suffix range: the last N bytes
    }
    if (start >= file.size || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${file.size}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
  }
  const length = Math.max(0, end - start + 1);
  if (storage.contentLength) headers['Content-Length'] = String(length);
  res.writeHead(status, headers);
  if (method === 'HEAD' || length === 0) {
    res.end();
    return;
  }

  let cutAfter: number | null = null;
  if (faults.cutDownloadAfterBytes !== null) {
    cutAfter = faults.cutDownloadAfterBytes; // once
    faults.cutDownloadAfterBytes = null;
  }
  const source = createReadStream(file.path, { start, end });
  const bps = faults.storageBytesPerSecond ?? storage.bytesPerSecond;
  const stream: Readable = bps ? source.pipe(throttle(bps)) : source;
  let sent = 0;
  try {
    for await (const data of stream) {
      let chunk = data as Buffer;
      if (cutAfter !== null && sent + chunk.length >= cutAfter) {
        chunk = chunk.subarray(0, Math.max(0, cutAfter - sent));
        // Send what fits, then drop the connection mid-body.
        record.bodyBytes += chunk.length;
        res.write(chunk, () => res.destroy());
        source.destroy();
        return;
      }
      sent += chunk.length;
      record.bodyBytes += chunk.length;
      if (!res.write(chunk)) {
        await drainOrClose(res);
        if (res.destroyed) break;
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    source.destroy();
  }
}

/** The resultBody fault: a whole small body instead of the task's file (no Range). */
function sendBody(res: ServerResponse, method: string, text: string, gzip: boolean): void {
  const body = gzip ? gzipSync(text) : Buffer.from(text);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': String(body.length),
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/** Resolves on 'drain' or 'close', leaving no listener behind. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
