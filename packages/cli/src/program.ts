/**
 * The `oin-oidc` command tree (commander 14): `doctor`, `tenants …`, `emulator …`.
 *
 * Exit codes: 0 all ok, 1 a check or the operation failed, 2 usage error. Commander's own errors
 * (unknown option, missing argument) are usage errors; its messages pass through a filter that
 * drops anything after `=` in a quoted option, so `--client-secret=…` mistyped is not echoed.
 */
import { Command, CommanderError, Option } from 'commander';
import { type DoctorFlags, doctor } from './doctor';
import { runEmulator } from './emulator';
import { EXIT_FAILED, EXIT_USAGE, describeError } from './errors';
import { type CliIo, Output, colourWanted, processIo } from './io';
import { addTenants, listTenants, migrateStore, reencrypt, removeTenant, rotateSecret } from './tenants';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `'--name=value'` in commander's messages → `'--name=…'`. */
function withoutOptionValues(text: string): string {
  return text.replace(/'(-{1,2}[^'=\s]*)=[^']*'/g, "'$1=…'");
}

function storeOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'postgres://… (default: $OIN_DATABASE_URL; prefer the variable, a password on argv is visible to ps)')
    .option('--schema <name>', 'the store schema', 'oin_oidc')
    .option('--keys-env <VAR>', 'the variable holding the at-rest keys', 'OIN_ENCRYPTION_KEYS');
}

function secretTraps(command: Command): Command {
  // Declared (hidden) only to be refused with a reason; never read.
  return command.addOption(new Option('--secret <value>').hideHelp()).addOption(new Option('--client-secret <value>').hideHelp());
}

const EXIT_HELP = `
Exit codes: 0 all ok, 1 a check or the operation failed, 2 usage error.
Secrets are read from environment variables or stdin, never from the command line.`;

function buildProgram(output: Output, setCode: (code: number) => void): Command {
  const program = new Command('oin-oidc')
    .description('Operate oin-oidc tenants: live checks against their Okta orgs, the Postgres tenant store, the Okta org emulator.')
    .option('--no-color', 'no colours even on a terminal (also NO_COLOR=1)')
    .addHelpText('after', EXIT_HELP)
    .hook('preAction', (thisCommand) => {
      output.colour = colourWanted(output.io, thisCommand.opts()['color'] !== false);
    });

  const doctorCommand = new Command('doctor')
    .description('check tenants live against their Okta orgs (side-effect free)')
    .option('--issuer <url>', 'the org authorization server, https://{yourOktaDomain}')
    .option('--client-id <id>', 'the app instance\'s client id')
    .option('--secret-env <VAR>', 'the environment variable holding the client secret')
    .option('--private-jwk <file>', 'a private JWK file (private_key_jwt)')
    .addOption(new Option('--auth-method <method>', 'with --secret-env (default client_secret_basic)').choices(['client_secret_basic', 'client_secret_post', 'private_key_jwt']))
    .option('--redirect-uri <url>', 'a sign-in redirect URI to check (repeatable)', collect)
    .option('--scope <scope>', 'a scope to request (repeatable; default openid profile email)', collect)
    .option('--dpop', 'the client sends DPoP proofs')
    .addOption(new Option('--profile <profile>', 'oin (default) or custom').choices(['oin', 'custom']))
    .option('--allow-loopback', 'allow http://localhost issuers (the emulator, tests)')
    .option('--tenants <file>', 'check every record of a tenants JSON file')
    .option('--tenant <id>', 'with --tenants / --database-url: only this tenant (repeatable)', collect)
    .option('--timeout <ms>', 'per-request timeout', '5000')
    .option('--concurrency <n>', 'tenants checked at once', '4')
    .option('--json', 'print the TenantReport array as JSON (docs/cli.md)')
    .option('--strict', 'warnings fail too (exit 1)')
    .addHelpText('after', `
Examples:
  OKTA_SECRET=… oin-oidc doctor --issuer https://acme.okta.com --client-id 0oa… --secret-env OKTA_SECRET --redirect-uri https://app.example.com/auth/callback
  oin-oidc doctor --tenants tenants.json --json
  OIN_DATABASE_URL=… OIN_ENCRYPTION_KEYS=… oin-oidc doctor --tenant acme`);
  storeOptions(secretTraps(doctorCommand));
  doctorCommand.action(async (flags: DoctorFlags) => setCode(await doctor(flags, output)));
  program.addCommand(doctorCommand);

  const tenants = new Command('tenants').description('manage tenants in the Postgres store (OIN_DATABASE_URL, OIN_ENCRYPTION_KEYS)').addHelpText('after', EXIT_HELP);
  tenants.addCommand(
    storeOptions(new Command('list'))
      .description('every tenant: ids, issuer, client id, how many secrets and which is active, the at-rest key; never a secret')
      .option('--json', 'print the listing as JSON')
      .action(async (flags) => setCode(await listTenants(flags, output))),
  );
  tenants.addCommand(
    secretTraps(storeOptions(new Command('add')))
      .description('add tenant records (one JSON object or an array) from a file or stdin')
      .option('--file <file>', 'the record file, or - for stdin', '-')
      .option('--replace', 'overwrite tenants that already exist')
      .action(async (flags) => setCode(await addTenants(flags, output))),
  );
  tenants.addCommand(
    secretTraps(storeOptions(new Command('rotate-secret')))
      .description('make a new client secret active and keep the previous one inactive (two secrets, one active)')
      .requiredOption('--tenant <id>', 'the tenant')
      .option('--secret-env <VAR>', 'read the new secret from this variable (default: stdin, hidden prompt on a terminal)')
      .action(async (flags) => setCode(await rotateSecret(flags, output))),
  );
  tenants.addCommand(
    storeOptions(new Command('remove'))
      .description('delete a tenant')
      .requiredOption('--tenant <id>', 'the tenant')
      .action(async (flags) => setCode(await removeTenant(flags, output))),
  );
  tenants.addCommand(
    storeOptions(new Command('migrate'))
      .description('apply the store\'s schema migrations (idempotent)')
      .action(async (flags) => setCode(await migrateStore(flags, output))),
  );
  tenants.addCommand(
    storeOptions(new Command('reencrypt'))
      .description('re-encrypt every tenant under the first key of OIN_ENCRYPTION_KEYS')
      .action(async (flags) => setCode(await reencrypt(flags, output))),
  );
  program.addCommand(tenants);

  // Listed for --help; runCli hands `emulator …` to the emulator before commander parses it.
  program.addCommand(new Command('emulator').description('run the Okta org emulator (oin-okta-emulator --help for its flags)').helpOption(false).allowUnknownOption().allowExcessArguments());
  configureAll(program, output);
  return program;
}

/** addCommand() does not copy settings to subcommands (only .command() does): every level gets them. */
function configureAll(command: Command, output: Output): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => output.writeOut(text),
    writeErr: (text) => output.writeErr(text),
    outputError: (text, write) => write(withoutOptionValues(text)),
  });
  for (const sub of command.commands) configureAll(sub, output);
}

/** Global flags that may stand before the command. */
const GLOBAL_FLAGS = new Set(['--no-color']);

/**
 * Runs the CLI with `argv` (without `node` and the script); resolves the exit code. Never throws:
 * every error becomes a message on stderr that names no secret, and exit 1 or 2.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const output = new Output(io);
  let code = 0;
  const first = argv.findIndex((arg) => !GLOBAL_FLAGS.has(arg));
  if (first !== -1 && argv[first] === 'emulator') {
    try {
      return await runEmulator(argv.slice(first + 1), output);
    } catch (error) {
      const { message, exitCode } = describeError(error);
      output.err(`oin-oidc emulator: ${message}`);
      return exitCode;
    }
  }
  const program = buildProgram(output, (value) => {
    code = value;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const { message, exitCode } = describeError(error);
    output.err(`oin-oidc: ${message}`);
    return exitCode === 0 ? EXIT_FAILED : exitCode;
  }
}
