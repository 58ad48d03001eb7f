// `npm run bench`: measures the real Worker on Miniflare (the workerd of `wrangler dev`) with the local stand-ins and prints one
// table (also written to bench/results.md): database round trips per route, Argon2id in workerd against
// native, bundle size and startup, throughput and latency against a bare route, and CPU per request.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  measureNativeHashing,
  measureOtherBuild,
  measureWorkerdHashing,
  RSS_CHECKPOINTS,
} from './argon2.mjs';
import { BARE_WORKER, measureBundle } from './bundle.mjs';
import { cpuPerRequest } from './cpu.mjs';
import { createClient, expectStatus } from './http.mjs';
import { LOAD, measureLoad, refreshChains } from './load.mjs';
import { createPeerDatabase, FLOOR_SETS, measurePairs, PEER_WORKER, startPeer } from './peer.mjs';

const RESOURCE_SERVER = 'scripts/bench/resource-server.ts';

import { renderTable } from './report.mjs';
import { measureRoundTrips, PASSWORD } from './round-trips.mjs';
import { CRON_CAPS, measureScale, SUBREQUEST_LIMIT, startScaleWorker } from './scale.mjs';
import { BENCH_RATE_LIMIT, startStack } from './stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmpDir = path.join(root, 'bench/tmp');
const CPU_REQUESTS = 200;
const CPU_LOGINS = 10;
/** Access tokens signed or verified per request, and requests, for the per-token cost. */
const TOKENS_PER_REQUEST = 200;
const TOKEN_REQUESTS = 20;
const startedAt = performance.now();
const progress = (line) =>
  console.error(`bench ${((performance.now() - startedAt) / 1000).toFixed(0)}s: ${line}`);

rmSync(tmpDir, { recursive: true, force: true });
mkdirSync(tmpDir, { recursive: true });

let stack;
process.on('exit', () => stack?.killSync());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await stack?.close().catch(() => {});
    process.exit(130);
  });
}

async function signIn(call, email) {
  const response = await call('/login', {
    method: 'POST',
    json: { email, password: PASSWORD },
    headers: { 'x-refresh-token-transport': 'body' },
  });
  return expectStatus(response, 200, 'login for the load phase').body;
}

/** Throughput and CPU against the benchmark Worker, after its isolate has done the hashing runs. */
async function measureRequests(server, userEmail) {
  const call = createClient(server.url);
  const { token } = await signIn(call, userEmail);
  const bearer = { authorization: `Bearer ${token}` };
  const chainStarts = [];
  for (let i = 0; i < LOAD.connections; i++) chainStarts.push((await signIn(call, userEmail)).refresh_token);
  const chains = refreshChains(chainStarts);

  progress('load: autocannon, each route after the bare route');
  const load = await measureLoad(
    server.url,
    [
      { label: 'GET /me', scenario: () => ({ url: `${server.url}/me`, headers: bearer }) },
      { label: 'GET /billing/plans', scenario: () => ({ url: `${server.url}/billing/plans` }) },
      {
        label: 'POST /refresh-token (body, chained)',
        scenario: () => ({ url: server.url, ...chains.scenario() }),
      },
    ],
    () => ({ url: `${server.url}/bench/bare` }),
  );
  if (chains.dry > 0) throw new Error(`the refresh-token pool ran dry ${chains.dry} times`);

  progress('CPU per request: workerd schedstat');
  const pid = server.workerdPid();
  const get = (pathname, headers) => async () => {
    const response = await fetch(`${server.url}${pathname}`, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${pathname}: ${response.status}`);
  };
  let refreshToken = (await signIn(call, userEmail)).refresh_token;
  const refresh = async () => {
    const response = await call('/refresh-token', { method: 'POST', json: { refresh_token: refreshToken } });
    refreshToken = expectStatus(response, 200, 'refresh for CPU').body.refresh_token;
  };
  const login = async () => {
    await signIn(call, userEmail);
  };
  const bareMs = await cpuPerRequest(pid, get('/bench/bare'), CPU_REQUESTS);
  const rows = [];
  for (const [label, send, count] of [
    ['GET /me', get('/me', bearer), CPU_REQUESTS],
    ['GET /billing/plans', get('/billing/plans'), CPU_REQUESTS],
    ['POST /refresh-token', refresh, CPU_REQUESTS],
    ['POST /login', login, CPU_LOGINS],
  ]) {
    rows.push({ label, ms: await cpuPerRequest(pid, send, count), count });
  }
  const perToken = async (route) => {
    const ms = {};
    for (const alg of ['HS256', 'ES256']) {
      const send = get(`/bench/tokens/${route}&alg=${alg}&n=${TOKENS_PER_REQUEST}`);
      ms[alg] = (await cpuPerRequest(pid, send, TOKEN_REQUESTS)) / TOKENS_PER_REQUEST;
    }
    return ms;
  };
  const sign = await perToken('sign?');
  const signAndVerify = await perToken('verify?');
  const tokens = [
    { operation: 'sign', ...sign },
    {
      operation: 'verify',
      HS256: signAndVerify.HS256 - sign.HS256,
      ES256: signAndVerify.ES256 - sign.ES256,
    },
    { operation: 'repeat', ...(await perToken('verify?repeat=1')) },
  ];
  return { load, cpu: { bareMs, rows, tokens } };
}

function describeRun() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  const revision = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'src', 'wrangler.toml', 'package.json') !== '';
  const cpus = os.cpus();
  return [
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    revision ? `commit ${revision}${dirty ? ' with uncommitted changes' : ''}` : 'no git revision',
    `Node ${process.version}`,
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
  ].join(' · ');
}

async function main() {
  const results = { loadSettings: LOAD };
  progress('bundle: wrangler deploy --dry-run --minify, wrangler check startup');
  results.bundle = await measureBundle({ root, tmpDir, peerWorker: PEER_WORKER });

  progress('starting the stand-ins (in-memory PGlite)');
  stack = await startStack({ root, tmpDir });
  progress('round trips: the real Worker (wrangler.toml) on Miniflare');
  const app = await stack.startWorker({ label: 'app' });
  const { rows, userEmail } = await measureRoundTrips({
    apiUrl: app.url,
    controlUrl: app.controlUrl,
    standins: stack.standins,
  });
  results.roundTrips = rows;
  await app.stop();

  progress(
    `argon2: a fresh benchmark Worker (scripts/bench/worker.ts), ${RSS_CHECKPOINTS.at(-1)} hashes in one isolate`,
  );
  const bench = await stack.startWorker({ label: 'bench', script: 'scripts/bench/worker.ts' });
  const workerd = await measureWorkerdHashing(bench);
  progress('argon2: native reference');
  const native = await measureNativeHashing(workerd);
  const tried = [await measureOtherBuild(bench, 'simd'), await measureOtherBuild(bench, 'no-simd')];
  results.argon2 = { workerd, native, tried };
  Object.assign(results, await measureRequests(bench, userEmail));

  progress('better-auth: its reference Worker (scripts/bench/better-auth/) beside the benchmark Worker');
  const databaseUrl = await createPeerDatabase({ stack, root });
  const peer = await startPeer({ stack, databaseUrl });
  const loggingPeer = await startPeer({ stack, databaseUrl, logRequests: true });
  progress('pairs: edgeauth at AUTH_CACHE_TTL_SECONDS=0, a resource server, the bare Hono Worker');
  const uncached = await stack.startWorker({
    label: 'bench-uncached',
    script: 'scripts/bench/worker.ts',
    vars: { AUTH_CACHE_TTL_SECONDS: '0' },
  });
  const resource = await stack.startWorker({
    label: 'resource-server',
    script: RESOURCE_SERVER,
    vars: { ISSUER: bench.url, AUDIENCE: 'edgeauth:api', JWKS_URL: `${bench.url}/.well-known/jwks.json` },
    healthPath: '/bench/bare',
  });
  // The middleware floor runs on Workers as fresh as the bare Hono Worker (the benchmark Worker has served
  // the whole run by then): the real Worker (wrangler.toml's entry, without the /bench/* routes) at its
  // defaults, again without the request's log line (to show what the line costs), and the bare Hono
  // Worker, in FLOOR_SETS sets. The first quiet Worker is also a pair.
  const floorWorkers = [];
  for (let set = 0; set < FLOOR_SETS; set++) {
    floorWorkers.push({
      app: await stack.startWorker({ label: `floor-${set}` }),
      quiet: await stack.startWorker({ label: `floor-quiet-${set}`, vars: { LOG_LEVEL: 'warn' } }),
      bareHono: await stack.startWorker({
        label: `bare-hono-${set}`,
        script: BARE_WORKER,
        healthPath: '/bench/bare',
      }),
    });
  }
  results.pairs = await measurePairs({
    ours: bench,
    uncached,
    resource,
    floorWorkers,
    quiet: floorWorkers[0].quiet,
    peer,
    loggingPeer,
    neon: stack.standins.neon,
    userEmail,
    loadSettings: LOAD,
    argon2CpuMs: workerd.cpuMsPerHash,
    progress,
  });
  await loggingPeer.stop();
  for (const worker of [uncached, resource, ...floorWorkers.flatMap(Object.values)]) await worker.stop();
  await peer.stop();
  await bench.stop();

  progress('scale: the real Worker on its own database, at 10 k, 100 k and 1 M rows');
  const scaleWorker = await startScaleWorker(stack);
  results.scale = {
    rows: await measureScale({
      worker: scaleWorker,
      neon: stack.standins.neon,
      passwordHash: workerd.phc,
      password: workerd.password,
      progress,
    }),
    subrequestLimit: SUBREQUEST_LIMIT,
    caps: CRON_CAPS,
  };
  await stack.close();
  stack = undefined;

  const { table, over, behind } = renderTable(results);
  const seconds = (performance.now() - startedAt) / 1000;
  const document = [
    '# Benchmark results',
    '',
    `\`npm run bench\`, ${describeRun()} · took ${seconds.toFixed(0)} s.`,
    'Each reference was measured in the same run on the same machine; how each number is obtained is in',
    '`scripts/bench/` (one module per measurement).',
    '',
    table,
    '',
    `Over budget: ${over.length === 0 ? 'nothing.' : over.map((r) => r.measure).join('; ')}`,
    '',
    `Behind better-auth (not a budget): ${behind.length === 0 ? 'nothing.' : behind.map((r) => r.measure).join('; ')}`,
    '',
    'Notes: rate limits run on every request but with `RATE_LIMIT_MAX` raised to ' +
      `${BENCH_RATE_LIMIT} so the load runs measure work, not 429s. Load and CPU numbers include ` +
      "each Worker's Miniflare host and the Node stand-ins on the same cores; compare ratios, not absolutes. " +
      "CPU per request is the on-CPU time of the Worker's workerd process (all threads, from " +
      '/proc/<pid>/task/*/schedstat): workerd reports no per-request CPU time locally.',
    '',
  ].join('\n');
  mkdirSync(path.join(root, 'bench'), { recursive: true });
  // The hand-kept history of what these numbers led to travels with every fresh table.
  const improvements = path.join(root, 'bench/improvements.md');
  const history = existsSync(improvements) ? `\n${readFileSync(improvements, 'utf8')}` : '';
  writeFileSync(path.join(root, 'bench/results.md'), document + history);
  console.log(document);
}

try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error?.stack ?? error}`);
  await stack?.close().catch(() => {});
  process.exitCode = 1;
}
