/**
 * Bounded response-body reading.
 *
 * `await response.text()` buffers whatever the peer sends; a hostile or broken endpoint could send
 * gigabytes (catalogue DS, HF-04). The body is read chunk by chunk and the stream is cancelled as soon
 * as the running total passes the cap. A `Content-Length` above the cap is refused before reading.
 */
import { OidcError } from '../errors';

function tooLarge(maxBytes: number): OidcError {
  return new OidcError('ERR_OIDC_HTTP_RESPONSE_TOO_LARGE', `The response body exceeds the ${maxBytes}-byte limit`, {
    details: { maxBytes },
  });
}

/** Discard a body we will not read, without surfacing errors (the connection can then be reused or closed). */
export function discardBody(response: Response): void {
  if (response.body !== null && !response.bodyUsed) response.body.cancel().catch(() => undefined);
}

/**
 * Read at most `maxBytes` of the body. Rejects with ERR_OIDC_HTTP_RESPONSE_TOO_LARGE past the cap,
 * and with the signal's reason when `signal` aborts mid-body (a trickling peer, HF-04).
 */
export async function readBodyCapped(response: Response, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    discardBody(response);
    throw tooLarge(maxBytes);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Some HttpClient implementations do not tie the body stream to the signal: cancel it ourselves.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reader.cancel().catch(() => undefined);
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
