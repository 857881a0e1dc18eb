/**
 * The adapters' per-request sequence, owned here so every adapter is translation only (as tRPC's
 * node-http handler sits under its small framework adapters): answer an auth route, or read the
 * session once and hand back the request context with the cookies to attach. Also the two guards
 * in the same shape, the one `OidcRequest` per native request, and the 413 for a body the
 * framework itself refused.
 */
import { payloadTooLarge } from './body-limit';
import { type OidcRequestContext, requestContext, withAccessToken } from './request-context';
import type { OidcAuth, OidcRequest, OidcRequestStep, OidcResponse } from './types';

type Steps = Pick<OidcAuth, 'handleRequest' | 'readSession' | 'guardSession' | 'guardAccessToken' | 'bodyTooLarge' | 'requestOf'>;
type Core = Pick<OidcAuth, 'handle' | 'getSession' | 'requireSession' | 'requireAccessToken' | 'errorResponse'>;

/** What one request has put on the app's side: the context, once something made one. */
interface StepMemo {
  context: OidcRequestContext | undefined;
}

export function createRequestSteps(core: Core): Steps {
  // Under this instance's own symbols, on the objects themselves: cheaper than a WeakMap entry per
  // request; a frozen object falls back to the WeakMaps.
  const STEP = Symbol('oin-oidc.request-step');
  const REQUEST = Symbol('oin-oidc.request');
  const steps = new WeakMap<OidcRequest, StepMemo>();
  const requests = new WeakMap<object, OidcRequest>();

  function memoOf(req: OidcRequest): StepMemo {
    let memo = (req as { [STEP]?: StepMemo })[STEP] ?? steps.get(req);
    if (memo === undefined) {
      memo = { context: undefined };
      if (Object.isExtensible(req)) (req as { [STEP]?: StepMemo })[STEP] = memo;
      else steps.set(req, memo);
    }
    return memo;
  }

  async function readSession(req: OidcRequest): Promise<OidcRequestStep> {
    let read: Awaited<ReturnType<OidcAuth['getSession']>>;
    try {
      read = await core.getSession(req);
    } catch (error) {
      // A session store that fails answers 503 + Retry-After, never the framework's error page.
      return { response: core.errorResponse(req, error) };
    }
    const context = requestContext(read.session);
    memoOf(req).context = context;
    return { context, setCookies: read.setCookies };
  }

  return {
    async handleRequest(req) {
      const response = await core.handle(req);
      return response ? { response } : readSession(req);
    },
    readSession,
    async guardSession(req) {
      const result = await core.requireSession(req);
      if ('response' in result) return result;
      const memo = memoOf(req);
      // The cookies went out already with the context made earlier for this request (middleware or guard).
      const setCookies = memo.context === undefined ? result.setCookies : [];
      memo.context = requestContext(result.session, memo.context);
      return { context: memo.context, setCookies };
    },
    async guardAccessToken(req, options) {
      const result = await core.requireAccessToken(req, options);
      if ('response' in result) return result;
      const memo = memoOf(req);
      memo.context = withAccessToken(memo.context, result);
      return { context: memo.context, setCookies: [] };
    },
    bodyTooLarge(req): Promise<OidcResponse | null> {
      return core.handle(refusedBody(req));
    },
    requestOf(native, build) {
      let req = (native as { [REQUEST]?: OidcRequest })[REQUEST] ?? requests.get(native);
      if (req === undefined) {
        req = build(native);
        if (Object.isExtensible(native)) (native as { [REQUEST]?: OidcRequest })[REQUEST] = req;
        else requests.set(native, req);
      }
      return req;
    },
  };
}

/** The same request whose body read fails with ERR_OIDC_PAYLOAD_TOO_LARGE (RFC 9110 §15.5.14). */
function refusedBody(req: OidcRequest): OidcRequest {
  return {
    method: req.method,
    get url() {
      return req.url;
    },
    get basePath() {
      return req.basePath;
    },
    get headers() {
      return req.headers;
    },
    ...(req.header === undefined ? {} : { header: (name: string) => req.header!(name) }),
    path: req.path,
    origin: req.origin,
    query: req.query,
    clientAddress: req.clientAddress,
    readBody: () => Promise.reject(payloadTooLarge()),
  };
}
