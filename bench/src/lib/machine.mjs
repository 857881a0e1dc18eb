/**
 * What the numbers were measured on. The machine is shared, so the load average at the start and
 * the end of the run is recorded with the results: ratios from a busy machine are noisier.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Static facts about the machine and the runtime. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadAvgStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    git: gitState(),
  };
}

/** The commit measured, and whether the work tree had uncommitted changes (others work in it too). */
function gitState() {
  try {
    const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', ':/packages').length > 0;
    return { commit: git('rev-parse', '--short', 'HEAD'), packagesDirty: dirty };
  } catch {
    return undefined;
  }
}

export function loadAvg() {
  return os.loadavg().map((n) => Math.round(n * 100) / 100);
}
