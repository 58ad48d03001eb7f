// CPU per request: Miniflare and workerd report no per-request CPU time locally, so this reads the
// on-CPU time the kernel accounts to the Worker's workerd process (/proc/<pid>/task/*/schedstat, in ns,
// every thread) across requests sent one at a time, and divides by their number.
import { readdirSync, readFileSync } from 'node:fs';
import { descendantsOf } from './processes.mjs';

export function processCpuNanos(pid) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return total;
}

/** `send()` makes one request and resolves when it is answered; returns CPU ms per request. */
export async function cpuPerRequest(pid, send, count) {
  for (let i = 0; i < Math.min(20, count); i++) await send();
  const before = processCpuNanos(pid);
  for (let i = 0; i < count; i++) await send();
  return (processCpuNanos(pid) - before) / count / 1e6;
}

/**
 * CPU per request of several Workers measured over one window: `sides` maps a name to [pid, send], and
 * each round sends one request to every side in turn, `count` times, so a drift in this machine's speed
 * (a VM's CPU time per unit of work wanders by a fifth over seconds) lands on every side alike.
 * Returns CPU ms per request by name.
 */
export async function cpuPerRequestInterleaved(sides, count) {
  const entries = Object.entries(sides);
  const before = entries.map(([, [pid]]) => processCpuNanos(pid));
  for (let i = 0; i < count; i++) for (const [, [, send]] of entries) await send();
  return Object.fromEntries(
    entries.map(([name, [pid]], i) => [name, (processCpuNanos(pid) - before[i]) / count / 1e6]),
  );
}

/**
 * Where a load run's CPU goes, per request: the Worker's workerd, its Miniflare host (the Node process that
 * writes every log line), and this process (the stand-ins and the load generator). `run()` resolves to the number of requests it made.
 */
export async function cpuByProcess(server, run) {
  const worker = server.workerdPid();
  const tooling = () =>
    [server.child.pid, ...descendantsOf(server.child.pid).map((p) => p.pid)].filter((pid) => pid !== worker);
  const sum = (pids) => pids.reduce((total, pid) => total + processCpuNanos(pid), 0);
  const pids = tooling();
  const before = { worker: processCpuNanos(worker), tooling: sum(pids), here: process.cpuUsage() };
  const requests = await run();
  const here = process.cpuUsage(before.here);
  const perRequest = (nanos) => nanos / requests / 1e6;
  return {
    workerMs: perRequest(processCpuNanos(worker) - before.worker),
    toolingMs: perRequest(sum(pids) - before.tooling),
    hereMs: perRequest((here.user + here.system) * 1000),
  };
}
