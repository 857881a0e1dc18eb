/**
 * CPU pinning for the HTTP suites: the load generator (this process, autocannon) on one core and
 * the servers under test on another, so they never compete for the same core and a server's
 * slowness is not the load generator's. With fewer than two usable cores (or no taskset), pinning
 * is skipped and the output says so: the ratios then include that competition.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));

/** The CPUs this process may run on, from `taskset -c -p` (e.g. "0,1" or "0-3"). */
function allowedCpus(pid) {
  const out = execFileSync(TASKSET, ['-c', '-p', String(pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  const cpus = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return { list, cpus };
}

let plan;

/** { pinned, loadCpu, serverCpu, line }: computed once per run; `line` is printed by the first suite that pins. */
export function pinPlan() {
  if (plan) return plan;
  if (process.env.BENCH_NO_PIN) {
    plan = { pinned: false, line: 'cpu pinning: off (BENCH_NO_PIN set); load generator and servers share every core' };
  } else if (!TASKSET) {
    plan = { pinned: false, line: 'cpu pinning: skipped, taskset not found; load generator and servers share every core' };
  } else {
    let allowed;
    try {
      allowed = allowedCpus(process.pid);
    } catch (error) {
      allowed = { list: `taskset failed: ${String(error.message).split('\n')[0]}`, cpus: [] };
    }
    const { list, cpus } = allowed;
    if (cpus.length < 2 || os.availableParallelism() < 2) {
      plan = { pinned: false, line: `cpu pinning: skipped, only one core available (${list}); load generator and servers share it, so the ratios include that competition` };
    } else {
      // The first allowed core for the load generator, the last for the servers.
      plan = { pinned: true, original: list, loadCpu: cpus[0], serverCpu: cpus.at(-1), line: `cpu pinning: load generator (bench process) on CPU ${cpus[0]}, servers on CPU ${cpus.at(-1)} (taskset)` };
    }
  }
  return plan;
}

let announced = false;

/**
 * Pin this process (every thread: `-a`) to the load core and each server process to the server
 * core; returns a function restoring this process's original affinity (the other suites, e.g. the
 * 16-caller ID-token rows, want the threadpool on every core).
 */
export function pinForLoad(pids) {
  const p = pinPlan();
  if (!announced) {
    console.log(`    ${p.line}`);
    announced = true;
  }
  if (!p.pinned) return () => {};
  const set = (cpu, pid) => execFileSync(TASKSET, ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
  try {
    for (const pid of pids) set(p.serverCpu, pid);
    set(p.loadCpu, process.pid);
  } catch (error) {
    // A container may refuse sched_setaffinity: measure unpinned rather than not at all.
    console.log(`    cpu pinning: failed (${String(error.message).split('\n')[0]}); this group runs unpinned`);
  }
  return () => {
    try {
      set(p.original, process.pid);
    } catch {
      // Nothing to restore if pinning never took.
    }
  };
}
