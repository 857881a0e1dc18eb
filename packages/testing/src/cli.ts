/**
 * oin-okta-emulator --config orgs.json [--json]
 *
 * Starts one emulated Okta org per entry of the config file (each on its own port), prints their
 * issuers, clients and users, and runs until SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeOrg, formatOrg } from './emulator/describe';
import { parseOrgsConfig, startOktaOrgs } from './emulator/orgs';

const USAGE = `Usage: oin-okta-emulator --config <orgs.json> [--json]

  --config, -c  JSON file: an array of org configs (see orgs.example.json)
  --json        print one machine-readable JSON line instead of the summary
  --help, -h    show this help`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.config) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const configs = parseOrgsConfig(JSON.parse(readFileSync(values.config, 'utf8')));
  const orgs = await startOktaOrgs(configs);
  // Handlers first: whoever reads our output may signal us as soon as it sees it.
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    if (!values.json) console.log(`\n${signal}: stopping ${orgs.length} org(s)`);
    Promise.all(orgs.map((org) => org.close())).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const summaries = orgs.map(describeOrg);
  if (values.json) {
    console.log(JSON.stringify({ orgs: summaries }));
  } else {
    console.log(`Okta org emulator: ${orgs.length} org${orgs.length === 1 ? '' : 's'} running (plain HTTP on loopback; test use only)\n`);
    for (const summary of summaries) console.log(`${formatOrg(summary)}\n`);
    console.log('Press Ctrl-C to stop.');
  }
}

main().catch((error: unknown) => {
  console.error(`oin-okta-emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
