/**
 * The body of an auth-route request (a `form_post` callback, a POSTed initiate or simplified-flow
 * request) on a Node `IncomingMessage`, for adapters of Node frameworks (Express, Koa). The Web
 * `Request` equivalent is in core (`fromWebRequest`); both refuse more than MAX_BODY_BYTES with
 * ERR_OIDC_PAYLOAD_TOO_LARGE (413, catalogue DS-02).
 */
import type { IncomingMessage } from 'node:http';
import { MAX_BODY_BYTES, payloadTooLarge } from '../flow/body-limit';

/**
 * The body as text. A body parser that already ran leaves its result (`parsedBody`): a string or
 * bytes are used as they are, an object of a JSON request is serialised again, and any other object is turned back into a form, its repeated names kept
 * repeated so core still refuses duplicate parameters (RFC 6749 §3.1). Otherwise the stream is
 * read, capped.
 */
export async function readNodeRequestBody(req: IncomingMessage, parsedBody?: unknown): Promise<string> {
  if (typeof parsedBody === 'string') return parsedBody;
  if (parsedBody instanceof Uint8Array) return new TextDecoder().decode(parsedBody);
  if (parsedBody !== null && typeof parsedBody === 'object' && (req.readableEnded || req.readableDidRead)) {
    // A JSON body parser (`express.json()`) ran first: a Universal Logout request is JSON.
    if (/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return JSON.stringify(parsedBody);
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(parsedBody)) {
      for (const item of Array.isArray(value) ? value : [value]) form.append(name, String(item));
    }
    return form.toString();
  }
  return readStream(req);
}

/**
 * Listeners rather than `for await`: leaving an async iterator destroys the socket, and the 413
 * could then never be sent.
 */
function readStream(req: IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(payloadTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: unknown) => {
      req.off('data', onData).off('end', onEnd).off('error', done);
      if (error === undefined) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else done(payloadTooLarge());
    };
    const onEnd = () => done();
    req.on('data', onData).on('end', onEnd).on('error', done);
  });
}
