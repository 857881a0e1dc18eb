#!/usr/bin/env node
// Keeps @oin-oidc/core runnable on any Web-standard runtime (Workers, Deno, Bun, browsers):
// no `node:` built-ins, no Node globals, no framework in its built output (jose's "bundle bleed" check).
// The one exception is the opt-in `@oin-oidc/core/node` entry (dist/node.*), which must import
// node:crypto; the check makes sure no other output file loads it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../packages/core/dist/', import.meta.url).pathname;
const forbidden = [
  [/\bfrom\s*["']node:|require\(["']node:|import\(["']node:/, 'a node: built-in import'],
  [/\bfrom\s*["'](?:fs|path|crypto|http|https|net|tls|stream|buffer|os|url|util|zlib)["']|require\(["'](?:fs|path|crypto|http|https|net|tls|stream|buffer|os|url|util|zlib)["']\)/, 'a bare Node built-in import'],
  [/\bBuffer\.|\bprocess\.(?:env|nextTick|versions)\b/, 'a Node global (Buffer, process)'],
  [/["'](?:express|fastify|hono|koa|@hono\/[\w-]+|@koa\/[\w-]+)["']/, 'a framework import'],
];
const allowedDependencies = new Set(['jose', 'zod']);
const NODE_ENTRY = /^node\.(c?js|d\.c?ts)$/;

const problems = [];
for (const file of readdirSync(dist, { recursive: true })) {
  if (!/\.(c?js|d\.c?ts)$/.test(String(file))) continue;
  if (NODE_ENTRY.test(String(file))) continue;
  // Declaration files carry JSDoc examples (which may mention process.env); only their imports count.
  const raw = readFileSync(join(dist, String(file)), 'utf8');
  const text = /\.d\.c?ts$/.test(String(file)) ? raw.replace(/\/\*[\s\S]*?\*\//g, '') : raw;
  for (const [pattern, what] of forbidden) {
    if (pattern.test(text)) problems.push(`${file}: contains ${what}`);
  }
  if (/["']\.\/node(?:\.c?js)?["']/.test(text)) problems.push(`${file}: loads the Node-only entry (dist/node.*)`);
  for (const match of text.matchAll(/(?:from\s*|require\()["']([^"'.][^"']*)["']/g)) {
    const name = match[1].startsWith('@') ? match[1].split('/').slice(0, 2).join('/') : match[1].split('/')[0];
    if (!allowedDependencies.has(name)) problems.push(`${file}: imports "${match[1]}" (core depends on jose and zod only)`);
  }
}
const pkg = JSON.parse(readFileSync(new URL('../packages/core/package.json', import.meta.url), 'utf8'));
for (const dep of Object.keys(pkg.dependencies ?? {})) {
  if (!allowedDependencies.has(dep)) problems.push(`package.json: dependency "${dep}" (core depends on jose and zod only)`);
}
if (problems.length > 0) {
  console.error(`@oin-oidc/core purity check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('@oin-oidc/core purity check: no Node built-ins, no Node globals, no framework, dependencies jose + zod only.');
