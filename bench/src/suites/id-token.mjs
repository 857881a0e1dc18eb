/**
 * §2.1 ID-token validation with warm keys, RS256 2048, single and 16-way concurrent.
 * Every contender performs the same checks on the same pool of tokens: signature (RS256), iss,
 * aud, exp (and iat/nbf where the library does), and nonce. Peers without a nonce option get the
 * nonce compared right after their verify call. A pool of 64 distinct tokens (distinct nonces)
 * is cycled so nothing can be served from a cache of validated tokens.
 */
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { JwtVerifier } from 'aws-jwt-verify';
import { interleave } from '../lib/measure.mjs';
import { mintIdToken, rsaKey, startJwksServer } from '../lib/keys.mjs';
import { nodeSignatureVerifier } from '@oin-oidc/core/node';
import { loadCore, makeOinValidator, tenantRecordFor } from '../lib/oin.mjs';

const require = createRequire(import.meta.url);
const CLIENT_ID = '0oa1benchclient';
const POOL = 64;

function nonceCheck(expected, actual) {
  if (actual !== expected) throw new Error('nonce mismatch');
}

export async function buildIdTokenContenders({ concurrency }) {
  const key = await rsaKey();
  const jwks = await startJwksServer([key]);
  const { issuer } = jwks;
  const pool = [];
  for (let i = 0; i < POOL; i++) {
    const nonce = crypto.randomBytes(16).toString('base64url');
    pool.push({ token: await mintIdToken(key, { issuer, clientId: CLIENT_ID, nonce }), nonce });
  }
  const cursor = () => {
    let i = 0;
    return () => pool[i++ & (POOL - 1)];
  };

  const contenders = [];
  const core = await loadCore();
  // The subject is what a Node app runs: the Express, Fastify and Koa adapters pass core the
  // node:crypto verifier. Core's portable default (Web Crypto, also Hono's) is measured beside it.
  const record = tenantRecordFor(issuer, CLIENT_ID);
  const oin = await makeOinValidator(core, record, {
    verifySignature: nodeSignatureVerifier,
    kind: 'createOidcClient({ verifySignature: nodeSignatureVerifier }).validateIdToken',
  });
  if (oin) {
    const next = cursor();
    contenders.push({
      name: 'oin-oidc',
      label: `oin-oidc ${oin.kind}`,
      fn: () => {
        const { token, nonce } = next();
        return oin.validate(token, { nonce });
      },
    });
  }
  const portable = await makeOinValidator(core, record, { kind: 'createOidcClient().validateIdToken (Web Crypto)' });
  if (portable) {
    const next = cursor();
    contenders.push({
      name: 'oin-webcrypto',
      label: `oin-oidc ${portable.kind}`,
      fn: () => {
        const { token, nonce } = next();
        return portable.validate(token, { nonce });
      },
    });
  }

  {
    const next = cursor();
    const options = { issuer, audience: CLIENT_ID, algorithms: ['RS256'] };
    contenders.push({
      name: 'jose-local',
      label: 'jose.jwtVerify (local key)',
      fn: async () => {
        const { token, nonce } = next();
        const { payload } = await jwtVerify(token, key.publicKey, options);
        nonceCheck(nonce, payload.nonce);
      },
    });
  }
  {
    const next = cursor();
    const remote = createRemoteJWKSet(new URL(jwks.jwksUri));
    const options = { issuer, audience: CLIENT_ID, algorithms: ['RS256'] };
    contenders.push({
      name: 'jose-remote',
      label: 'jose createRemoteJWKSet (warm)',
      fn: async () => {
        const { token, nonce } = next();
        const { payload } = await jwtVerify(token, remote, options);
        nonceCheck(nonce, payload.nonce);
      },
    });
  }
  {
    // @okta/jwt-verifier insists on an https issuer; its own `testing.disableHttpsCheck` switch
    // lifts that (it prints one warning), and `jwksUri` points jwks-rsa at our local JWKS.
    const OktaJwtVerifier = require('@okta/jwt-verifier');
    const warn = console.warn;
    console.warn = () => {};
    const okta = new OktaJwtVerifier({ issuer, jwksUri: jwks.jwksUri, testing: { disableHttpsCheck: true } });
    console.warn = warn;
    const next = cursor();
    contenders.push({
      name: 'okta',
      label: '@okta/jwt-verifier verifyIdToken',
      fn: () => {
        const { token, nonce } = next();
        return okta.verifyIdToken(token, CLIENT_ID, nonce);
      },
    });
  }
  {
    const aws = JwtVerifier.create({ issuer, audience: CLIENT_ID, jwksUri: jwks.jwksUri });
    aws.cacheJwks({ keys: [key.jwk] });
    const next = cursor();
    contenders.push({
      name: 'aws',
      label: 'aws-jwt-verify verifySync (cacheJwks)',
      fn: async () => {
        const { token, nonce } = next();
        const payload = aws.verifySync(token);
        nonceCheck(nonce, payload.nonce);
      },
    });
  }
  {
    // The physical limit: only the RSA-SHA256 verification of the signing input, with the
    // signature already base64url-decoded. Concurrent mode uses the callback form (libuv
    // threadpool), as WebCrypto-based libraries do.
    const keyObject = crypto.createPublicKey({ key: key.jwk, format: 'jwk' });
    const parts = pool.map(({ token }) => {
      const dot = token.lastIndexOf('.');
      return { input: Buffer.from(token.slice(0, dot)), sig: Buffer.from(token.slice(dot + 1), 'base64url') };
    });
    let i = 0;
    const fn =
      concurrency > 1
        ? () =>
            new Promise((resolve, reject) => {
              const p = parts[i++ & (POOL - 1)];
              crypto.verify('sha256', p.input, keyObject, p.sig, (err, ok) => (err || !ok ? reject(err ?? new Error('bad signature')) : resolve()));
            })
        : async () => {
            const p = parts[i++ & (POOL - 1)];
            if (!crypto.verify('sha256', p.input, keyObject, p.sig)) throw new Error('bad signature');
          };
    contenders.push({ name: 'node-crypto', label: concurrency > 1 ? 'node crypto.verify (async, limit)' : 'node crypto.verify (limit)', fn });
  }
  return { contenders, oin, close: () => jwks.close() };
}

export async function runIdToken(results, { quick }) {
  const timing = quick ? { rounds: 2, roundMs: 100, warmupMs: 50 } : { rounds: 9, roundMs: 300, warmupMs: 300 };
  for (const concurrency of [1, 16]) {
    const { contenders, oin, close } = await buildIdTokenContenders({ concurrency });
    try {
      if (!oin) {
        results.note(`idtoken: @oin-oidc/core exports no ID-token validation yet; peers measured, no oin-oidc rows`);
      }
      const medians = await interleave(contenders, { ...timing, concurrency });
      const mode = concurrency === 1 ? 'single' : `c${concurrency}`;
      for (const c of contenders) {
        const { median: m, samples } = medians.get(c.name);
        console.log(`    ${mode} ${c.label}: ${Math.round(m)} ops/s (rounds ${Math.round(Math.min(...samples))}-${Math.round(Math.max(...samples))})`);
      }
      if (!oin) continue;
      const s = medians.get('oin-oidc').median;
      const x = concurrency > 1 ? ` x${concurrency}` : '';
      const webCrypto = contenders.find((c) => c.name === 'oin-webcrypto');
      if (webCrypto) {
        // Core's portable path against the peers that matter for it (jose, the fastest peer).
        for (const peer of ['jose-local', 'aws']) {
          results.add({
            id: `idtoken.${mode}.webcrypto-vs-${peer}`,
            subject: webCrypto.label + x,
            baseline: contenders.find((c) => c.name === peer).label + x,
            subjectValue: medians.get('oin-webcrypto').median,
            baselineValue: medians.get(peer).median,
            unit: 'ops/s',
          });
        }
      }
      for (const c of contenders) {
        if (c.name === 'oin-oidc') continue;
        results.add({
          id: `idtoken.${mode}.vs-${c.name}`,
          subject: contenders[0].label + (concurrency > 1 ? ` x${concurrency}` : ''),
          baseline: c.label + (concurrency > 1 ? ` x${concurrency}` : ''),
          subjectValue: s,
          baselineValue: medians.get(c.name).median,
          unit: 'ops/s',
        });
      }
    } finally {
      await close();
    }
  }
}
