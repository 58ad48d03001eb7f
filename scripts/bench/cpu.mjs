// CPU per request: wrangler dev and workerd report no per-request CPU time locally, so this reads the
// on-CPU time the kernel accounts to the Worker's workerd process (/proc/<pid>/task/*/schedstat, in ns,
// every thread) across requests sent one at a time, and divides by their number.
import { readdirSync, readFileSync } from 'node:fs';

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
