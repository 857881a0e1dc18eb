import type { ServerResponse } from 'node:http';
import { EMULATOR_ENDPOINTS, type EmulatorEndpoint, type Fault } from './types';

interface Armed {
  fault: Fault;
  /** Remaining uses; undefined = until cleared. */
  remaining: number | undefined;
}

/** Per-endpoint scripted faults, each for the next N requests or until cleared. */
export class FaultTable {
  #armed = new Map<EmulatorEndpoint, Armed>();

  set(endpoint: EmulatorEndpoint, fault: Fault, times?: number): void {
    if (!EMULATOR_ENDPOINTS.includes(endpoint)) throw new Error(`unknown endpoint ${String(endpoint)}`);
    validateFault(fault);
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) throw new Error('times must be a positive integer');
    this.#armed.set(endpoint, { fault, remaining: times });
  }

  clear(endpoint?: EmulatorEndpoint): void {
    if (endpoint) this.#armed.delete(endpoint);
    else this.#armed.clear();
  }

  /** Consumes one use of the endpoint's fault, if any. */
  take(endpoint: EmulatorEndpoint): Fault | undefined {
    const armed = this.#armed.get(endpoint);
    if (!armed) return undefined;
    if (armed.remaining !== undefined) {
      armed.remaining -= 1;
      if (armed.remaining <= 0) this.#armed.delete(endpoint);
    }
    return armed.fault;
  }
}

function validateFault(fault: Fault): void {
  switch (fault?.type) {
    case 'status':
      if (!Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599) throw new Error('invalid status');
      return;
    case 'delay':
      if (!(typeof fault.ms === 'number' && fault.ms >= 0)) throw new Error('delay needs ms >= 0');
      return;
    case 'redirect':
      if (fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 300 && fault.status <= 399)) {
        throw new Error('redirect status must be 3xx');
      }
      return;
    case 'oversized':
      if (fault.bytes !== undefined && !(Number.isInteger(fault.bytes) && fault.bytes > 0 && fault.bytes <= 64 * 1024 * 1024)) {
        throw new Error('oversized bytes must be 1..64 MiB');
      }
      return;
    case 'hang':
    case 'rate-limit':
    case 'html':
    case 'malformed-json':
      return;
    default:
      throw new Error(`unknown fault type ${String((fault as { type?: unknown })?.type)}`);
  }
}

/** Okta's error body shape (Okta API error object). */
function oktaError(code: string, summary: string): string {
  return JSON.stringify({ errorCode: code, errorSummary: summary, errorLink: code, errorId: 'oae-emulator', errorCauses: [] });
}

/**
 * Serves a fault response. Returns 'continue' when the request should then be handled normally
 * (delay), 'hang' when the response must never be sent (the socket is left open until the
 * client gives up or the org closes).
 */
export async function serveFault(
  res: ServerResponse,
  fault: Fault,
  rateLimit: { limit: number },
  issuer = '',
): Promise<'handled' | 'continue' | 'hang'> {
  switch (fault.type) {
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return 'continue';
    case 'hang':
      return 'hang';
    case 'status': {
      const body = fault.body ?? oktaError('E0000009', 'Internal Server Error');
      const json = body.trimStart().startsWith('{');
      res.writeHead(fault.status, { 'content-type': json ? 'application/json' : 'text/plain', 'cache-control': 'no-store' });
      res.end(body);
      return 'handled';
    }
    case 'rate-limit': {
      const reset = Math.floor(Date.now() / 1000) + (fault.resetInSec ?? 60);
      res.writeHead(429, {
        'content-type': 'application/json',
        'x-rate-limit-limit': String(rateLimit.limit),
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(reset),
      });
      res.end(oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'));
      return 'handled';
    }
    case 'html':
      res.writeHead(fault.status ?? 200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1></body></html>');
      return 'handled';
    case 'malformed-json':
      res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' });
      res.end('{"access_token": "eyJ, "token_type": Bearer');
      return 'handled';
    case 'redirect':
      res.writeHead(fault.status ?? 302, { location: fault.location ?? `${issuer}/moved`, 'content-length': '0' });
      res.end();
      return 'handled';
    case 'oversized': {
      // Valid JSON, just too big: only a size cap can refuse it.
      const bytes = fault.bytes ?? 2 * 1024 * 1024;
      const head = '{"padding":"';
      const tail = '"}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Math.max(bytes, head.length + tail.length)) });
      res.end(head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
      return 'handled';
    }
  }
}
