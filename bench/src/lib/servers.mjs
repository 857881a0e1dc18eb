/** Spawning the per-side server processes (src/servers/app.mjs) and talking to them over IPC. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('../servers/app.mjs', import.meta.url));

function once(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type === type) {
        cleanup();
        resolve(message);
      } else if (message?.type === 'error') {
        cleanup();
        reject(new Error(`server ${child.spawnargs.slice(-2).join(':')}: ${message.message}`));
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`server ${child.spawnargs.slice(-2).join(':')} exited with ${code}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Start a server process; resolves once it listens (before it has an app). `app`: the server
 * script to run instead of this tree's (--compare runs a copy inside another commit's worktree, so
 * its imports resolve to that tree's packages); `id`: the side's key when two sides share a variant.
 */
export async function spawnServer(framework, variant, { app = APP, id } = {}) {
  // BENCH_PROFILE_DIR=/tmp/prof: each server writes a V8 CPU profile there when it stops
  // (summarise with src/tools/profile-summary.mjs).
  const execArgv = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = fork(app ?? APP, [framework, variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const { port } = await once(child, 'listening');
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    framework,
    variant,
    id: id ?? variant,
    port,
    baseUrl,
    child,
    async configure(config) {
      const ready = once(child, 'ready');
      child.send({ type: 'configure', config: { ...config, baseUrl } });
      await ready;
    },
    /** CPU time (µs, user + system) this server process has used so far. */
    async cpu() {
      const reply = once(child, 'cpu');
      child.send({ type: 'cpu' });
      const { usage } = await reply;
      return usage.user + usage.system;
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
