/**
 * A small hostile HTTP server of our own on 127.0.0.1, port 0 (issue 14): each test hands it a
 * handler that misbehaves on purpose — redirects elsewhere, stalls, trickles, sends bombs or odd
 * task objects. It records every request (headers included, Authorization kept, so tests can
 * check that none arrived) and every TCP connection, and destroys open sockets on close so that
 * a stalled answer never keeps a test alive.
 *
 *   const api = await startHostileServer((req, res) => { res.writeHead(302, { location }); res.end(); });
 *   … api.url … api.requests … await api.close();
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface HostileRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

export type HostileHandler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

export interface HostileServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly requests: HostileRequest[];
  /** TCP connections accepted (a TLS hello sent to this plain server counts, though it is no request). */
  readonly connections: () => number;
  /** Replace the handler. */
  handle(handler: HostileHandler): void;
  close(): Promise<void>;
}

export async function startHostileServer(handler: HostileHandler = notFound): Promise<HostileServer> {
  let current = handler;
  const requests: HostileRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const index = requests.length;
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, at: Date.now() });
    current(req, res, index);
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A TLS hello or other garbage: just drop the connection.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    requests,
    connections: () => connections,
    handle(next) {
      current = next;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function notFound(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"errors":[{"error":"not found"}]}');
}

/** A JSON answer, gzip-encoded as the API sends it. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const body = gzipSync(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-encoding': 'gzip', ...headers });
  res.end(body);
}

/** A task object as the API shows it (§2.3), with `overrides` merged in. */
export function taskObject(base: string, id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    meta: { href: `${base}/async/${id}`, type: 'async', mediaType: 'application/json' },
    id,
    accountId: 'a1e4c2d0-0f3b-11ee-0a80-05a700000001',
    state: 'PROCESSING',
    request: `${base}/report/stock/all?async=true`,
    ...overrides,
  };
}
