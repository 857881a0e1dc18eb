/**
 * Every probe of a tenant check goes through one {@link HttpClient} wrapper that notes what the
 * clock and the rate-limit checks need from each response (even responses the transport then
 * refuses): Okta's `Date` header and its `X-Rate-Limit-*` headers.
 */
import type { HttpClient } from '../http/http-client';
import { parseRateLimitHeaders } from '../http/rate-limit';
import type { RateLimitInfo } from '../http/types';

/** What one response told us. */
export interface Observation {
  url: string;
  status: number;
  /** Our clock (epoch ms) when the headers arrived. */
  receivedAt: number;
  /** Okta's `Date` header (epoch ms), when present and valid. */
  date: number | undefined;
  rateLimit: RateLimitInfo;
}

/** Wrap `http` so each response is appended to `sink`. The response itself is passed on untouched. */
export function observingHttpClient(http: HttpClient, now: () => number, sink: Observation[]): HttpClient {
  return async (url, init) => {
    const response = await http(url, init);
    const receivedAt = now();
    const header = response.headers.get('date');
    // RFC 9110 §6.6.1: IMF-fixdate; Date.parse reads it (and the obsolete forms) as UTC.
    const parsed = header === null ? Number.NaN : Date.parse(header);
    sink.push({ url, status: response.status, receivedAt, date: Number.isFinite(parsed) ? parsed : undefined, rateLimit: parseRateLimitHeaders(response.headers) });
    return response;
  };
}
