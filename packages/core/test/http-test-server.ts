/**
 * A real local HTTP server (node:http, 127.0.0.1, port 0) for transport, JWKS and discovery tests:
 * it does what a misbehaving Okta or proxy does on the wire (hang, trickle, redirect, HTML, huge
 * bodies), so the client code under test runs its real network path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface TestServer {
  readonly origin: string;
  /** Requests seen, in arrival order. */
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  /** Replace the request handler. */
  handle(handler: Handler): void;
  /** Requests seen for a path. */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startTestServer(
  handler: Handler = (_req, res) => {
    res.end();
  },
): Promise<TestServer> {
  let current = handler;
  const requests: TestServer['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      Promise.resolve(current(req, res, body)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next;
    },
    hits(path) {
      return requests.filter((r) => r.path === path).length;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answer JSON with optional extra headers. */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}
