import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OidcError } from '../src/errors';
import type { HttpRequestInit } from '../src/http/http-client';
import { createTransport } from '../src/http/transport';
import type { EndpointKind, RateLimitEvent } from '../src/http/types';
import { json, startTestServer, type TestServer } from './http-test-server';
import { createSignal } from './support/signals';

async function failure(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

let server: TestServer;
let issuer: string;
const target = () => ({ issuer, tenantId: 'acme' });

beforeAll(async () => {
  server = await startTestServer();
  issuer = server.origin;
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

describe('transport: successful calls', () => {
  it('GETs JSON through global fetch, sending Accept: application/json', async () => {
    server.handle((_req, res) => json(res, 200, { ok: true }, { 'x-extra': '1' }));
    const transport = createTransport();
    const response = await transport.request('discovery', target(), `${issuer}/x`, { method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ok: true });
    expect(response.headers.get('x-extra')).toBe('1');
    expect(server.requests[0]!.headers.accept).toBe('application/json');
  });

  it('POSTs a form body with the caller headers', async () => {
    server.handle((_req, res, body) => json(res, 200, { echoed: body }));
    const transport = createTransport();
    const response = await transport.request('token', target(), `${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=abc',
    });
    expect(response.json).toEqual({ echoed: 'grant_type=authorization_code&code=abc' });
    expect(server.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it("keeps the caller's own Accept header (any case) instead of the default", async () => {
    server.handle((_req, res) => json(res, 200, {}));
    await createTransport().request('userinfo', target(), `${issuer}/userinfo`, { method: 'GET', headers: { Accept: 'application/jwt' } });
    expect(server.requests[0]!.headers.accept).toBe('application/jwt');
  });

  it('returns a 4xx with a JSON body for the caller to interpret (invalid_client)', async () => {
    server.handle((_req, res) => json(res, 401, { error: 'invalid_client', error_description: 'No client credentials found.' }));
    const response = await createTransport().request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x=1' });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: 'invalid_client', error_description: 'No client credentials found.' });
  });

  it('gives json undefined for an empty body (200 and 204)', async () => {
    server.handle((req, res) => {
      res.writeHead(req.url === '/204' ? 204 : 200);
      res.end();
    });
    const transport = createTransport();
    expect((await transport.request('revocation', target(), `${issuer}/200`, { method: 'POST', body: 'token=t' })).json).toBeUndefined();
    expect((await transport.request('revocation', target(), `${issuer}/204`, { method: 'POST', body: 'token=t' })).status).toBe(204);
  });

  it('accepts application/*+json media types (application/jwk-set+json)', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json; charset=utf-8' });
      res.end('{"keys":[]}');
    });
    expect((await createTransport().request('jwks', target(), `${issuer}/keys`, { method: 'GET' })).json).toEqual({ keys: [] });
  });

  it('hands a fetch-shaped HttpClient redirect "manual" and an AbortSignal', async () => {
    const seen: HttpRequestInit[] = [];
    const transport = createTransport({
      http: (url, init) => {
        seen.push(init);
        return fetch(url, init);
      },
    });
    server.handle((_req, res) => json(res, 200, {}));
    await transport.request('userinfo', target(), `${issuer}/userinfo`, { method: 'GET', headers: { authorization: 'Bearer t' } });
    expect(seen[0]!.redirect).toBe('manual');
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.headers.authorization).toBe('Bearer t');
  });
});

describe('transport: refused responses', () => {
  it('refuses a redirect and never follows it (RFC 9700 §4.11)', async () => {
    server.handle((req, res) => {
      if (req.url === '/elsewhere') return json(res, 200, { followed: true });
      res.writeHead(302, { location: `${issuer}/elsewhere` });
      res.end();
    });
    const error = await failure(createTransport().request('token', target(), `${issuer}/token`, { method: 'POST', body: 'code=c' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_ERROR');
    expect(error.details?.status).toBe(302);
    expect(server.hits('/elsewhere')).toBe(0);
  });

  it('refuses an HTML page with the status in the message and never the body', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html>SECRET-PAGE-MARKER</html>');
    });
    const error = await failure(createTransport().request('userinfo', target(), `${issuer}/userinfo`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_ERROR');
    expect(error.message).toContain('200');
    expect(error.message).not.toContain('SECRET-PAGE-MARKER');
    expect(JSON.stringify(error.details)).not.toContain('SECRET-PAGE-MARKER');
  });

  it('refuses a 4xx HTML page as ERR_OIDC_HTTP_ERROR carrying the status', async () => {
    server.handle((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('<html>blocked by a proxy</html>');
    });
    const error = await failure(createTransport().request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_ERROR');
    expect(error.details?.status).toBe(403);
  });

  it('refuses malformed JSON and non-UTF-8 bodies', async () => {
    server.handle((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/bad-utf8' ? Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) : '{"access_token": ');
    });
    const transport = createTransport();
    expect((await failure(transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }))).code).toBe('ERR_OIDC_HTTP_ERROR');
    expect((await failure(transport.request('token', target(), `${issuer}/bad-utf8`, { method: 'POST', body: 'x' }))).code).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('refuses an unexpected content type', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"looks":"like json"}');
    });
    const error = await failure(createTransport().request('introspection', target(), `${issuer}/i`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_ERROR');
  });

  it('maps 5xx to ERR_OIDC_UNAVAILABLE (503) with the upstream status', async () => {
    server.handle((_req, res) => json(res, 502, { errorCode: 'E0000009' }));
    const error = await failure(createTransport().request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.details?.status).toBe(502);
  });

  it('maps a refused connection to ERR_OIDC_UNAVAILABLE', async () => {
    const closed = await startTestServer();
    const origin = closed.origin;
    await closed.close();
    const error = await failure(createTransport({ retries: 0 }).request('jwks', target(), `${origin}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_UNAVAILABLE');
  });
});

describe('transport: deadlines and the size cap', () => {
  it('times out a peer that never answers (ERR_OIDC_HTTP_TIMEOUT, 504)', async () => {
    server.handle(() => undefined);
    const error = await failure(createTransport({ timeoutMs: 150 }).request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_TIMEOUT');
    expect(error.status).toBe(504);
  });

  it('times out a peer that sends headers then trickles the body (slow-loris, HF-04)', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":');
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
    });
    const error = await failure(createTransport({ timeoutMs: 200, retries: 0 }).request('jwks', target(), `${issuer}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_TIMEOUT');
  });

  it('refuses a declared Content-Length above the cap before reading', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024) });
      res.write('{"a":"');
    });
    const error = await failure(createTransport({ timeoutMs: 2000 }).request('discovery', target(), `${issuer}/d`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_RESPONSE_TOO_LARGE');
  });

  it('stops reading a chunked body once it passes the cap (default 256 KiB)', async () => {
    let written = 0;
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        // An endless body: only the client's cap ends it.
        while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    const error = await failure(createTransport().request('jwks', target(), `${issuer}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_RESPONSE_TOO_LARGE');
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('accepts a body exactly at a configured cap', async () => {
    const value = 'y'.repeat(2048 - 2);
    server.handle((_req, res) => json(res, 200, value));
    expect((await createTransport({ maxResponseBytes: 2048 }).request('jwks', target(), `${issuer}/k`, { method: 'GET' })).json).toBe(value);
    const error = await failure(createTransport({ maxResponseBytes: 2047 }).request('jwks', target(), `${issuer}/k`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_RESPONSE_TOO_LARGE');
  });
});

describe('transport: retries only for discovery and jwks', () => {
  it('retries a jwks GET after a 500 and succeeds', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls += 1;
      if (calls === 1) json(res, 500, {});
      else json(res, 200, { keys: [] });
    });
    const response = await createTransport({ retryBaseDelayMs: 1 }).request('jwks', target(), `${issuer}/keys`, { method: 'GET' });
    expect(response.json).toEqual({ keys: [] });
    expect(server.hits('/keys')).toBe(2);
  });

  it('gives up after the configured retries for discovery', async () => {
    server.handle((_req, res) => json(res, 503, {}));
    const error = await failure(
      createTransport({ retries: 2, retryBaseDelayMs: 1 }).request('discovery', target(), `${issuer}/.well-known/openid-configuration`, { method: 'GET' }),
    );
    expect(error.code).toBe('ERR_OIDC_UNAVAILABLE');
    expect(server.hits('/.well-known/openid-configuration')).toBe(3);
  });

  it.each(['token', 'introspection', 'revocation', 'userinfo'] as EndpointKind[])('never retries %s', async (kind) => {
    server.handle((_req, res) => json(res, 500, {}));
    const error = await failure(createTransport({ retries: 5, retryBaseDelayMs: 1 }).request(kind, target(), `${issuer}/${kind}`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_UNAVAILABLE');
    expect(server.hits(`/${kind}`)).toBe(1);
  });

  it('does not retry a jwks fetch that already spent its deadline (HF-04)', async () => {
    server.handle(() => undefined);
    const error = await failure(createTransport({ retries: 3, retryBaseDelayMs: 1, timeoutMs: 100 }).request('jwks', target(), `${issuer}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_TIMEOUT');
    expect(server.hits('/keys')).toBe(1);
  });

  it('retries a refused connection for discovery', async () => {
    const closed = await startTestServer();
    const origin = closed.origin;
    await closed.close();
    let calls = 0;
    const transport = createTransport({
      retries: 2,
      retryBaseDelayMs: 1,
      http: (url, init) => {
        calls += 1;
        return fetch(url, init);
      },
    });
    expect((await failure(transport.request('discovery', target(), `${origin}/.well-known/openid-configuration`, { method: 'GET' }))).code).toBe('ERR_OIDC_UNAVAILABLE');
    expect(calls).toBe(3);
  });

  it('does not retry a non-transient failure (HTML) even for jwks', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p>x</p>');
    });
    const error = await failure(createTransport({ retries: 3, retryBaseDelayMs: 1 }).request('jwks', target(), `${issuer}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_HTTP_ERROR');
    expect(server.hits('/keys')).toBe(1);
  });
});

describe('transport: Okta rate limits', () => {
  const NOW_MS = 1_700_000_000_000;
  const NOW_SEC = NOW_MS / 1000;

  function okta429(reset: number, limit = '600'): (req: unknown, res: import('node:http').ServerResponse) => void {
    return (_req, res) =>
      json(
        res,
        429,
        { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorLink: 'E0000047', errorId: 'x', errorCauses: [] },
        { 'x-rate-limit-limit': limit, 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
      );
  }

  it('fails fast on a 429 with retryAfter from X-Rate-Limit-Reset and no immediate retry (HF-01)', async () => {
    server.handle(okta429(NOW_SEC + 20));
    const error = await failure(createTransport({ now: () => NOW_MS }).request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_RATE_LIMITED');
    expect(error.status).toBe(503);
    expect(error.retryAfter).toBe(20);
    expect(server.hits('/token')).toBe(1);
  });

  it('clamps retryAfter to at least 1 s and at most 600 s', async () => {
    server.handle(okta429(NOW_SEC - 30));
    const transport = createTransport({ now: () => NOW_MS });
    expect((await failure(transport.request('userinfo', target(), `${issuer}/u`, { method: 'GET' }))).retryAfter).toBe(1);
    server.handle(okta429(NOW_SEC + 100_000));
    expect((await failure(transport.request('userinfo', target(), `${issuer}/u`, { method: 'GET' }))).retryAfter).toBe(600);
  });

  it('does not retry a rate-limited jwks fetch as if it were a 5xx', async () => {
    server.handle(okta429(NOW_SEC + 20));
    const error = await failure(createTransport({ now: () => NOW_MS, retryBaseDelayMs: 1 }).request('jwks', target(), `${issuer}/keys`, { method: 'GET' }));
    expect(error.code).toBe('ERR_OIDC_RATE_LIMITED');
    expect(server.hits('/keys')).toBe(1);
  });

  it('waits for a reset within maxRateLimitWaitMs and retries once', async () => {
    let calls = 0;
    server.handle((req, res) => {
      calls += 1;
      if (calls === 1) okta429(NOW_SEC)(req, res);
      else json(res, 200, { access_token: 'a' });
    });
    const transport = createTransport({ now: () => NOW_MS, maxRateLimitWaitMs: 2000 });
    const response = await transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' });
    expect(response.json).toEqual({ access_token: 'a' });
    expect(server.hits('/token')).toBe(2);
  });

  it('retries only once, then reports the 429', async () => {
    server.handle(okta429(NOW_SEC));
    const error = await failure(createTransport({ now: () => NOW_MS, maxRateLimitWaitMs: 2000 }).request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.code).toBe('ERR_OIDC_RATE_LIMITED');
    expect(server.hits('/token')).toBe(2);
  });

  it('does not wait when the reset is beyond maxRateLimitWaitMs', async () => {
    server.handle(okta429(NOW_SEC + 30));
    const error = await failure(createTransport({ now: () => NOW_MS, maxRateLimitWaitMs: 5000 }).request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }));
    expect(error.retryAfter).toBe(30);
    expect(server.hits('/token')).toBe(1);
  });

  it('treats the concurrent-limit 429 (limit 0) as a short pause, not the advertised reset (HF-02)', async () => {
    let calls = 0;
    server.handle((req, res) => {
      calls += 1;
      if (calls === 1) okta429(NOW_SEC + 60, '0')(req, res);
      else json(res, 200, { active: false });
    });
    const transport = createTransport({ now: () => NOW_MS, maxRateLimitWaitMs: 5000 });
    expect((await transport.request('introspection', target(), `${issuer}/introspect`, { method: 'POST', body: 'x' })).json).toEqual({ active: false });
    server.handle(okta429(NOW_SEC + 60, '0'));
    const error = await failure(createTransport({ now: () => NOW_MS }).request('introspection', target(), `${issuer}/introspect`, { method: 'POST', body: 'x' }));
    expect(error.retryAfter).toBe(1);
  });

  it('reports X-Rate-Limit-* of every response through onRateLimit with issuer, tenant and endpoint', async () => {
    const events: RateLimitEvent[] = [];
    server.handle((_req, res) => json(res, 200, {}, { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '599', 'x-rate-limit-reset': String(NOW_SEC + 60) }));
    const transport = createTransport({ onRateLimit: (event) => events.push(event) });
    await transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' });
    server.handle(okta429(NOW_SEC + 5));
    await failure(transport.request('introspection', { issuer }, `${issuer}/introspect`, { method: 'POST', body: 'x' }));
    expect(events).toEqual([
      { issuer, tenantId: 'acme', endpoint: 'token', status: 200, limit: 600, remaining: 599, reset: NOW_SEC + 60 },
      { issuer, endpoint: 'introspection', status: 429, limit: 600, remaining: 0, reset: NOW_SEC + 5 },
    ]);
  });

  it('ignores garbage rate-limit headers and a throwing hook', async () => {
    const events: RateLimitEvent[] = [];
    server.handle((_req, res) => json(res, 200, { ok: 1 }, { 'x-rate-limit-limit': 'lots', 'x-rate-limit-remaining': '-5', 'x-rate-limit-reset': 'soon' }));
    const quiet = createTransport({ onRateLimit: (event) => events.push(event) });
    expect((await quiet.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' })).json).toEqual({ ok: 1 });
    expect(events).toEqual([]);
    server.handle((_req, res) => json(res, 200, { ok: 2 }, { 'x-rate-limit-remaining': '3' }));
    const throwing = createTransport({
      onRateLimit: () => {
        throw new Error('monitoring is down');
      },
    });
    expect((await throwing.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' })).json).toEqual({ ok: 2 });
  });
});

describe('transport: per-org concurrency for token and introspection', () => {
  /**
   * Holds every request until released; records the peak number in flight. `until` waits for the
   * arrivals it names (signalled by the server, not polled); `answerOldest` frees one slot.
   */
  function holdingServer() {
    let inFlight = 0;
    let peak = 0;
    const waiting: Array<() => void> = [];
    const arrived: string[] = [];
    const arrivals = createSignal();
    let released = false;
    server.handle((_req, res, body) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      arrived.push(body);
      const answer = () => {
        inFlight -= 1;
        json(res, 200, { body });
      };
      if (released) answer();
      else waiting.push(answer);
      arrivals.notify();
    });
    return {
      release() {
        released = true;
        for (const answer of waiting.splice(0)) answer();
      },
      answerOldest() {
        waiting.shift()?.();
      },
      until: (condition: () => boolean) => arrivals.until(condition),
      peak: () => peak,
      arrived,
    };
  }

  it('keeps at most maxConcurrentPerOrg calls in flight and serves the queue FIFO', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 2 });
    const calls = ['1', '2', '3', '4', '5', '6'].map((id) => transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: id }));
    await hold.until(() => hold.arrived.length === 2);
    // One slot at a time, so the order of arrival is the queue's order, not the race of two sockets.
    for (const next of ['3', '4', '5', '6']) {
      hold.answerOldest();
      await hold.until(() => hold.arrived.includes(next));
    }
    hold.release();
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.json as { body: string }).body)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(hold.peak()).toBe(2);
    expect(hold.arrived).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('keeps a fifth of the slots for /token: a flood of introspections never blocks a sign-in (SA-01)', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 10, maxQueuedPerOrg: 100 });
    const flood = Array.from({ length: 30 }, (_, i) => transport.request('introspection', target(), `${issuer}/introspect`, { method: 'POST', body: `i${i}` }));
    await hold.until(() => hold.arrived.length === 8);
    const token = transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'sign-in' });
    // The token call reaches Okta while 22 introspections still wait for their share.
    await hold.until(() => hold.arrived.includes('sign-in'));
    expect(hold.arrived.filter((body) => body.startsWith('i'))).toHaveLength(8);
    hold.release();
    await Promise.all([token, ...flood]);
    expect(hold.peak()).toBe(9);
  });

  it('refuses with ERR_OIDC_RATE_LIMITED when the wait queue is full', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 1, maxQueuedPerOrg: 1 });
    const first = transport.request('introspection', target(), `${issuer}/introspect`, { method: 'POST', body: 'a' });
    const second = transport.request('introspection', target(), `${issuer}/introspect`, { method: 'POST', body: 'b' });
    const third = await failure(transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'c' }));
    expect(third.code).toBe('ERR_OIDC_RATE_LIMITED');
    expect(third.retryAfter).toBe(1);
    await hold.until(() => hold.arrived.length === 1);
    hold.release();
    await Promise.all([first, second]);
    expect(hold.arrived).toEqual(['a', 'b']);
  });

  it('gives up waiting for a slot after maxQueueWaitMs (ERR_OIDC_RATE_LIMITED)', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 1, maxQueuedPerOrg: 5, timeoutMs: 10_000, maxQueueWaitMs: 100 });
    const first = transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'held' });
    await hold.until(() => hold.arrived.length === 1);
    const queued = await failure(transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'queued' }));
    expect(queued.code).toBe('ERR_OIDC_RATE_LIMITED');
    expect(queued.details?.reason).toBe('concurrency-wait-timeout');
    hold.release();
    expect((await first).json).toEqual({ body: 'held' });
    expect(hold.arrived).toEqual(['held']);
  });

  it('releases the slot after a failure (timeout)', async () => {
    server.handle(() => undefined);
    const transport = createTransport({ maxConcurrentPerOrg: 1, maxQueuedPerOrg: 5, timeoutMs: 100, maxQueueWaitMs: 10_000 });
    const errors = await Promise.all([1, 2, 3].map(() => failure(transport.request('token', target(), `${issuer}/token`, { method: 'POST', body: 'x' }))));
    expect(errors.map((e) => e.code)).toEqual(['ERR_OIDC_HTTP_TIMEOUT', 'ERR_OIDC_HTTP_TIMEOUT', 'ERR_OIDC_HTTP_TIMEOUT']);
    expect(server.hits('/token')).toBe(3);
  });

  it('exempts jwks and discovery, as Okta does', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 1, maxQueuedPerOrg: 0 });
    const calls = ['k1', 'k2', 'k3'].map((id) => transport.request('jwks', target(), `${issuer}/keys?${id}`, { method: 'GET' }));
    const discovery = transport.request('discovery', target(), `${issuer}/d`, { method: 'GET' });
    await hold.until(() => hold.arrived.length === 4);
    hold.release();
    await Promise.all([...calls, discovery]);
    expect(hold.peak()).toBe(4);
  });

  it('limits each org separately', async () => {
    const hold = holdingServer();
    const transport = createTransport({ maxConcurrentPerOrg: 1, maxQueuedPerOrg: 0 });
    const a = transport.request('token', { issuer: 'https://a.okta.example' }, `${issuer}/token`, { method: 'POST', body: 'a' });
    const b = transport.request('token', { issuer: 'https://b.okta.example' }, `${issuer}/token`, { method: 'POST', body: 'b' });
    await hold.until(() => hold.arrived.length === 2);
    hold.release();
    await Promise.all([a, b]);
    expect(hold.peak()).toBe(2);
  });
});

describe('transport: options are validated once', () => {
  it.each([{ timeoutMs: 0 }, { maxResponseBytes: -1 }, { retries: 1.5 }, { maxConcurrentPerOrg: 0 }, { http: 'fetch' as never }])(
    'refuses %j with ERR_OIDC_INVALID_OPTIONS',
    (options) => {
      let caught: unknown;
      try {
        createTransport(options);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(OidcError);
      expect((caught as OidcError).code).toBe('ERR_OIDC_INVALID_OPTIONS');
    },
  );
});
