/**
 * The `oin-oidc` bin: `oin-oidc doctor | tenants … | emulator …`. See docs/cli.md.
 */
import { runCli } from './program';

// `oin-oidc tenants list | head`: the reader went away; stop quietly instead of an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
