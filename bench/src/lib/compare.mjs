/**
 * `--compare REF`: the HTTP suites against two trees in one interleaved run. REF is checked out in
 * a temporary `git worktree` (outside the repository, removed afterwards), installed from the
 * pnpm store without the network, and the packages the bench servers import are built there. The
 * bench server script of *this* tree is copied into the worktree, so both sides run the same
 * harness and only the packages under test differ (its imports resolve to the worktree's
 * node_modules, i.e. REF's packages). `--compare A..B` builds both A and B the same way.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM = ['-y', 'pnpm@10.34.9'];
/** What the bench servers import: core first, then the four adapters (each depends on core only). */
const BUILD_STEPS = [['@oin-oidc/core'], ['@oin-oidc/express', '@oin-oidc/fastify', '@oin-oidc/hono', '@oin-oidc/koa']];
const HERE_SERVERS = fileURLToPath(new URL('../servers/', import.meta.url));
const HERE_LIB = fileURLToPath(new URL('./', import.meta.url));

function run(cmd, args, cwd, what) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', CI: process.env.CI ?? '' } });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed (exit ${r.status}):\n${tail}`);
  }
  return r.stdout.trim();
}

const git = (args, cwd) => run('git', args, cwd, `git ${args.join(' ')}`);

/** The repository root of this bench. */
export function repoRoot() {
  return git(['rev-parse', '--show-toplevel'], fileURLToPath(new URL('.', import.meta.url)));
}

/**
 * Check out, install and build `ref` in a temporary worktree. Returns { label, commit, dir, app,
 * remove }: `app` is the server script to fork for that tree's sides.
 */
export function prepareTree(ref, root = repoRoot()) {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`], root);
  const short = commit.slice(0, 7);
  const dir = mkdtempSync(join(tmpdir(), `oin-bench-${short}-`));
  const t0 = Date.now();
  let added = false;
  const remove = () => {
    if (added) {
      try {
        git(['worktree', 'remove', '--force', dir], root);
      } catch {
        // Fall through to removing the directory and pruning the worktree's record.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (added) spawnSync('git', ['worktree', 'prune'], { cwd: root });
    added = false;
  };
  try {
    console.log(`  compare: ${ref} = ${short}: git worktree in ${dir}`);
    git(['worktree', 'add', '--detach', dir, commit], root);
    added = true;
    try {
      run('npx', [...PNPM, 'install', '--frozen-lockfile', '--offline'], dir, 'pnpm install --offline');
    } catch (error) {
      console.log(`  compare: offline install failed, retrying with --prefer-offline (${String(error.message).split('\n')[0]})`);
      run('npx', [...PNPM, 'install', '--frozen-lockfile', '--prefer-offline'], dir, 'pnpm install --prefer-offline');
    }
    for (const step of BUILD_STEPS) run('npx', [...PNPM, ...step.flatMap((p) => ['--filter', p]), 'run', 'build'], dir, `build ${step.join(' ')}`);
    // This tree's server harness, so both trees are driven identically.
    const servers = join(dir, 'bench', 'src', 'servers');
    const lib = join(dir, 'bench', 'src', 'lib');
    cpSync(join(HERE_SERVERS, 'app.mjs'), join(servers, 'app.mjs'));
    cpSync(join(HERE_LIB, 'revocations.mjs'), join(lib, 'revocations.mjs'));
    if (!existsSync(join(dir, 'bench', 'node_modules', '@oin-oidc', 'core'))) throw new Error(`${short}: bench/node_modules has no @oin-oidc/core after install`);
    console.log(`  compare: ${short} installed and built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { label: `${ref} (${short})`, commit: short, dir, app: join(servers, 'app.mjs'), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** This work tree as the base side: its own built packages (what `pnpm bench` just built). */
export function currentTree(root = repoRoot()) {
  const commit = git(['rev-parse', '--short', 'HEAD'], root);
  const dirty = git(['status', '--porcelain', '--untracked-files=all', '--', 'packages'], root).length > 0;
  return { label: `HEAD (${commit}${dirty ? ' + uncommitted changes in packages/' : ''})`, commit, app: undefined, remove: () => {} };
}
