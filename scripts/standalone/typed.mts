// Type-checks the installed packages as an ES-module user sees them, under both
// `moduleResolution: node16` and `bundler` (tsconfig.node16.json, tsconfig.bundler.json), strict.
// skipLibCheck is on, as in `tsc --init` and most apps: @types/koa 3.0.3 does not compile against the
// content-disposition it installs, and under node16 TypeScript refuses a CommonJS declaration that
// imports the ESM-only jose (Node ≥ 20.19 itself loads it: require(esm)). Our own declarations are
// still checked where this file uses them.
import { createOidcAuth, createMemoryCredentialStore, isOidcError, OidcError, type OidcErrorCode, type Session, type TenantRecord } from '@oin-oidc/core';
import { oidc } from '@oin-oidc/express';
import { oidcPlugin } from '@oin-oidc/fastify';
import { oidc as honoOidc } from '@oin-oidc/hono';
import { oidc as koaOidc } from '@oin-oidc/koa';
import { driveAuthorization, startOktaOrg, type OktaOrg } from '@oin-oidc/testing';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';

const tenant: TenantRecord = { id: 'acme', issuer: 'https://acme.okta.com', clientId: '0oa1', clientSecret: 'x'.repeat(40), redirectUris: ['https://app.example/auth/callback'] };
const options = { store: createMemoryCredentialStore([tenant]), session: { secret: 's'.repeat(40) }, tenant: 'query' as const };

const auth = createOidcAuth(options);
const expressApp = express();
const expressAuth = oidc(options);
expressApp.use(expressAuth);
expressApp.get('/me', expressAuth.requiresAuth(), (req, res) => void res.json(req.oidc.session satisfies Session | null));
await Fastify().register(oidcPlugin, options);
new Hono().use(honoOidc(options).middleware);
new Koa().use(koaOidc(options).middleware);

const code: OidcErrorCode = 'ERR_OIDC_TENANT_UNKNOWN';
const error: unknown = new OidcError(code, 'unknown tenant');
if (isOidcError(error)) error.code satisfies OidcErrorCode;
const org: Promise<OktaOrg> = startOktaOrg({ clients: [] });
void [auth, org, driveAuthorization];
