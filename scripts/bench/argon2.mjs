// Argon2id: ms per hash inside workerd (the benchmark Worker's /bench/hash) against native @node-rs/argon2
// in Node at the same parameters, as CPU time (robust to other load on the machine) and wall time; and
// workerd's resident memory after 1, 100, 500 and 1000 hashes in one isolate.
import { hash as nativeHash, verify as nativeVerify } from '@node-rs/argon2';
import { processCpuNanos } from './cpu.mjs';
import { residentBytes } from './processes.mjs';

const ARGON2ID = 2; // @node-rs/argon2's Algorithm.Argon2id (a const enum, absent at run time)
const BATCH = 100; // hashes per request, well inside the Worker's CPU limit
/** RSS is read after this many hashes; the last step shows whether memory has stopped growing. */
export const RSS_CHECKPOINTS = [1, 100, 500, 1000];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One /bench/hash request: wall ms seen by the caller, CPU ms of the Worker's workerd process. */
async function hashRequest(url, pid, n) {
  const cpuBefore = processCpuNanos(pid);
  const started = performance.now();
  const response = await fetch(`${url}/bench/hash?n=${n}`);
  const body = await response.json();
  const wallMs = performance.now() - started;
  const cpuMs = (processCpuNanos(pid) - cpuBefore) / 1e6;
  if (response.status !== 200 || body.n !== n) throw new Error(`/bench/hash?n=${n}: ${response.status}`);
  return { wallMs, cpuMs, body };
}

/** Runs against a freshly started benchmark Worker, before anything else has used its isolate. */
export async function measureWorkerdHashing(server) {
  const pid = server.workerdPid();
  const rssBeforeWasm = residentBytes(pid);
  // n=0 loads the WASM module, then measures what a request costs without hashing.
  const empty = [];
  for (let i = 0; i < 5; i++) empty.push(await hashRequest(server.url, pid, 0));
  const overhead = { wallMs: median(empty.map((e) => e.wallMs)), cpuMs: median(empty.map((e) => e.cpuMs)) };
  let last = await hashRequest(server.url, pid, 1);
  const first = last;
  const samples = [{ hashes: 1, rss: residentBytes(pid), wasm: last.body.memory_bytes }];
  const timed = { cpuMs: 0, hashes: 0, wallMsPerHash: [] };
  let done = 1;
  for (const checkpoint of RSS_CHECKPOINTS.slice(1)) {
    while (done < checkpoint) {
      const n = Math.min(BATCH, checkpoint - done);
      last = await hashRequest(server.url, pid, n);
      timed.cpuMs += last.cpuMs - overhead.cpuMs;
      timed.wallMsPerHash.push((last.wallMs - overhead.wallMs) / n);
      timed.hashes += n;
      done += n;
    }
    samples.push({ hashes: done, rss: residentBytes(pid), wasm: last.body.memory_bytes });
  }
  return {
    params: first.body.params,
    // Wall time is the median over requests: one request held up by the rest of the machine (seen
    // once, for minutes, with no extra CPU used) must not decide it. CPU time needs no such care.
    wallMsPerHash: median(timed.wallMsPerHash),
    cpuMsPerHash: timed.cpuMs / timed.hashes,
    hashes: timed.hashes,
    rssBeforeWasm,
    samples,
    phc: last.body.phc,
    password: last.body.password,
  };
}

/**
 * CPU ms per hash of another build at the app's parameters, through the benchmark Worker's
 * /bench/hash-argon2id?build= route (simd, no-simd): the argon2id package the app used before, the record of
 * what was tried for the 3× budget.
 */
export async function measureOtherBuild(server, build, n = 20) {
  const pid = server.workerdPid();
  let phc = null;
  const once = async (count) => {
    const before = processCpuNanos(pid);
    const response = await fetch(`${server.url}/bench/hash-argon2id?build=${build}&n=${count}`);
    const body = await response.json();
    if (response.status !== 200) throw new Error(`/bench/hash-argon2id?build=${build}: ${response.status}`);
    phc = body.phc ?? phc;
    return (processCpuNanos(pid) - before) / 1e6;
  };
  await once(1);
  const empty = median([await once(0), await once(0), await once(0)]);
  return { build, cpuMsPerHash: ((await once(n)) - empty) / n, hashes: n, phc };
}

/** The same parameters in Node with the native library; also checks that workerd's PHC verifies natively. */
export async function measureNativeHashing({ params, phc, password }, count = 60) {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.passes,
    parallelism: params.parallelism,
    outputLen: 32,
  };
  for (let i = 0; i < 3; i++) await nativeHash(password, options);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await nativeHash(password, options);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    wallMsPerHash: wallMs / count,
    cpuMsPerHash: (cpu.user + cpu.system) / 1000 / count,
    hashes: count,
    workerdHashVerifies: await nativeVerify(phc, password),
  };
}
