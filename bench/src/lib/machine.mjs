/**
 * What the numbers were measured on. The machine is shared, so the load average at the start and
 * the end of the run is recorded with the results: ratios from a busy machine are noisier.
 */
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
  };
}

export function loadAvg() {
  return os.loadavg().map((n) => Math.round(n * 100) / 100);
}
