/**
 * `readNodeRequestBody` (`@oin-oidc/core/node`), the body reader of the Express and Koa adapters,
 * over a real node:http server: what a body parser left is used, the stream is read otherwise,
 * and more than MAX_BODY_BYTES is refused with ERR_OIDC_PAYLOAD_TOO_LARGE whether or not the
 * request declares its length. The adapters' conformance suite covers the same through the frameworks.
 */
import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOidcError } from '../src/errors';
import { MAX_BODY_BYTES } from '../src/flow/body-limit';
import { readNodeRequestBody } from '../src/node/read-body';

const require = createRequire(import.meta.url);
type Reader = (req: IncomingMessage) => Promise<string>;
let reader: Reader = (req) => readNodeRequestBody(req);
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    reader(req).then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok:${body}`),
      (error: unknown) => res.writeHead(isOidcError(error) ? error.status : 500).end(isOidcError(error) ? error.code : 'unexpected'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** POST `chunks` (chunked transfer when `declareLength` is false); resolves to status and body. */
function post(chunks: string[], declareLength = true): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = httpRequest(`${origin}/`, { method: 'POST', headers: declareLength ? { 'content-length': String(total) } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and stop reading before everything is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readNodeRequestBody', () => {
  it('reads the raw stream as UTF-8 when no body parser ran', async () => {
    reader = (req) => readNodeRequestBody(req);
    expect(await post(['code=abc&state=d%C3%A9f', '&iss=x'])).toEqual({ status: 200, body: 'ok:code=abc&state=d%C3%A9f&iss=x' });
    expect(await post(['name=é'])).toEqual({ status: 200, body: 'ok:name=é' });
    expect(await post([])).toEqual({ status: 200, body: 'ok:' });
  });

  it('accepts exactly MAX_BODY_BYTES and refuses one byte more, declared or chunked, with 413', async () => {
    reader = (req) => readNodeRequestBody(req);
    const limit = 'a'.repeat(MAX_BODY_BYTES);
    expect((await post([limit])).body).toHaveLength(MAX_BODY_BYTES + 3);
    expect(await post([limit, 'b'])).toEqual({ status: 413, body: 'ERR_OIDC_PAYLOAD_TOO_LARGE' });
    expect(await post([limit.slice(0, 1000), limit, 'b'], false)).toEqual({ status: 413, body: 'ERR_OIDC_PAYLOAD_TOO_LARGE' });
    // The server keeps serving.
    expect(await post(['after=1'])).toEqual({ status: 200, body: 'ok:after=1' });
  });

  it('uses what a body parser left: a string or bytes as they are, an object as a form with repeats kept', async () => {
    reader = (req) => {
      req.resume();
      return new Promise((resolve) => req.on('end', resolve)).then(() => readNodeRequestBody(req, { state: ['a', 'b'], code: 'c d' }));
    };
    expect(await post(['ignored'])).toEqual({ status: 200, body: 'ok:state=a&state=b&code=c+d' });
    reader = (req) => readNodeRequestBody(req, 'from=parser');
    expect(await post(['ignored'])).toEqual({ status: 200, body: 'ok:from=parser' });
    reader = (req) => readNodeRequestBody(req, new TextEncoder().encode('from=bytes'));
    expect(await post(['ignored'])).toEqual({ status: 200, body: 'ok:from=bytes' });
  });

  it('reads the stream when a parser left an object but never consumed the body (e.g. JSON parser on a form)', async () => {
    reader = (req) => readNodeRequestBody(req, {});
    expect(await post(['code=abc'])).toEqual({ status: 200, body: 'ok:code=abc' });
  });
});

describe('the built package: one OidcError class across @oin-oidc/core and @oin-oidc/core/node', () => {
  // The built files (turbo builds core before its tests), by path in a variable so that typecheck
  // does not depend on a build having run.
  type Built = [{ OidcError: abstract new (...args: never[]) => Error; MAX_BODY_BYTES: number }, { readNodeRequestBody: typeof readNodeRequestBody }];
  const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url).href;
  it.each([
    ['ESM', async () => [await import(/* @vite-ignore */ dist('index.js')), await import(/* @vite-ignore */ dist('node.js'))]],
    ['CJS', async () => [require(new URL(dist('index.cjs')).pathname), require(new URL(dist('node.cjs')).pathname)]],
  ] as const)('rejects with an instance of the main entry OidcError (%s)', async (_format, load) => {
    const [main, node] = (await load()) as Built;
    let caught: unknown;
    reader = (req) =>
      node.readNodeRequestBody(req).catch((error: unknown) => {
        caught = error;
        throw error;
      });
    expect((await post(['x'.repeat(MAX_BODY_BYTES + 1)])).status).toBe(413);
    expect(caught).toBeInstanceOf(main.OidcError);
    expect(main.MAX_BODY_BYTES).toBe(MAX_BODY_BYTES);
  });
});
