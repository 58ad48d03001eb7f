// edgeauth beside better-auth (scripts/bench/better-auth/worker.ts), pair by pair, in one run: sign-up, sign-in,
// an authenticated read (better-auth's cookie cache off, then on), session refresh and sign-out. Each side is
// measured the same way: database round trips at its own database in the Neon stand-in, CPU per request of
// its own workerd process (password hashing taken out, reported on its own), and latency under the same load.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cpuByProcess, cpuPerRequest, cpuPerRequestInterleaved } from './cpu.mjs';
import { createClient, createRoundTripCounter, expectStatus } from './http.mjs';
import { measureScenario } from './load.mjs';
import { PASSWORD } from './round-trips.mjs';

export const PEER_WORKER = 'scripts/bench/better-auth/worker.ts';
const PEER_DATABASE = 'betterauth';
/**
 * Requests sent to a Worker before its CPU is measured on a route that hashes nothing: the JIT halves a
 * request's cost over the first thousand, and several Workers here start fresh for their rows.
 */
const WARMUP = 1000;
/** Rounds of the middleware floor beside the bare Hono Worker, after the same warm-up (see measurePairs). */
const FLOOR = { rounds: 9, requests: 300 };
/** Sets of Workers the floor runs on (see measurePairs). */
export const FLOOR_SETS = 3;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** Requests per side for CPU: reads and refreshes, and the routes of SMALL_LOAD. */
const CPU_COUNT = { light: 200, small: 30 };
/**
 * Load for the routes that hash a password (each request costs tens of ms of CPU on the 2 cores) and for
 * sign-out, whose every request spends a session that took a sign-in, and so a hash, to make.
 */
const SMALL_LOAD = { requests: 200, warmup: 20 };
export const AUTH_CACHE_DEFAULT = 5;

/** Creates the peer's database (better-auth's own tables, schema.sql); resolves to its URL. */
export async function createPeerDatabase({ stack, root }) {
  const { neon } = stack.standins;
  const created = await fetch(`${neon.url}/_standin/databases`, {
    method: 'POST',
    body: JSON.stringify({ name: PEER_DATABASE }),
  });
  if (created.status !== 201) throw new Error(`creating the peer database: ${created.status}`);
  const databaseUrl = `postgres://edgeauth:edgeauth@127.0.0.1/${PEER_DATABASE}`;
  const statements = readFileSync(path.join(root, 'scripts/bench/better-auth/schema.sql'), 'utf8')
    .replace(/^--.*$/gm, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean);
  const schema = await fetch(neon.sqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'neon-connection-string': databaseUrl },
    body: JSON.stringify({ queries: statements.map((query) => ({ query, params: [] })) }),
  });
  if (schema.status !== 200) throw new Error(`the peer schema: ${schema.status} ${await schema.text()}`);
  return databaseUrl;
}

/**
 * The peer's Worker on its database. `logRequests`: it also writes one JSON line per request, as
 * edgeauth does (better-auth writes none of its own).
 */
export function startPeer({ stack, databaseUrl, logRequests = false }) {
  return stack.startWorker({
    label: logRequests ? 'better-auth-logging' : 'better-auth',
    script: PEER_WORKER,
    vars: { DATABASE_URL: databaseUrl, LOG_REQUESTS: logRequests ? '1' : '0' },
    healthPath: '/bench/bare',
  });
}

const cookieHeader = (response) =>
  response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');

let uniqueCounter = 0;
const uniqueEmail = (side) => `${side}-${Date.now()}-${uniqueCounter++}@bench.test`;

/**
 * edgeauth as a native client uses it: bearer access tokens, the refresh token in the body. `request(kind,
 * credential)` gives {method, path, headers, json} for one request.
 */
function edgeauthSide({ name = 'edgeauth', url, userEmail, database, signInAt = url }) {
  const call = createClient(url);
  const signIn = async () => {
    const response = await createClient(signInAt)('/login', {
      method: 'POST',
      json: { email: userEmail, password: PASSWORD },
      headers: { 'x-refresh-token-transport': 'body' },
    });
    return expectStatus(response, 200, 'edgeauth sign-in').body;
  };
  return {
    name,
    url,
    call,
    database,
    signIn,
    routes: {
      // Another Worker verifying the token with @edgeauth/client/server (scripts/bench/resource-server.ts).
      'resource-server read': {
        label: 'GET /read (resource server, client package)',
        status: 200,
        credential: 'shared',
        request: ({ token }) => ({ path: '/read', headers: { authorization: `Bearer ${token}` } }),
      },
      'sign-up': {
        label: 'POST /register',
        status: 201,
        hashes: 1,
        request: () => {
          const email = uniqueEmail('edgeauth');
          const username = email.split('@')[0].replaceAll('-', '');
          return { method: 'POST', path: '/register', json: { email, username, password: PASSWORD } };
        },
      },
      'sign-in': {
        label: 'POST /login',
        status: 200,
        hashes: 1,
        request: () => ({ method: 'POST', path: '/login', json: { email: userEmail, password: PASSWORD } }),
      },
      'authenticated read': {
        label: 'GET /me',
        status: 200,
        credential: 'shared',
        request: ({ token }) => ({ path: '/me', headers: { authorization: `Bearer ${token}` } }),
      },
      'session refresh': {
        label: 'POST /refresh-token',
        status: 200,
        credential: 'chained',
        request: ({ refresh_token }) => ({ method: 'POST', path: '/refresh-token', json: { refresh_token } }),
        next: (body) => ({ refresh_token: body.refresh_token }),
      },
      'sign-out': {
        label: 'POST /logout',
        status: 204,
        credential: 'spent',
        request: ({ token }) => ({
          method: 'POST',
          path: '/logout',
          headers: { authorization: `Bearer ${token}` },
        }),
      },
    },
  };
}

/** better-auth as its browser client uses it: the session cookies, an Origin on every request. */
function betterAuthSide({ name = 'better-auth', url, database }) {
  const origin = { origin: url };
  const call = createClient(url);
  const signIn = async () => {
    const response = await call('/api/auth/sign-in/email', {
      method: 'POST',
      headers: origin,
      json: { email: 'peer-user@bench.test', password: PASSWORD },
    });
    expectStatus(response, 200, 'better-auth sign-in');
    return { cookie: cookieHeader(response) };
  };
  const read = (query) => ({
    credential: 'shared',
    status: 200,
    request: ({ cookie }) => ({ path: `/api/auth/get-session${query}`, headers: { ...origin, cookie } }),
  });
  return {
    name,
    url,
    call,
    database,
    signIn,
    async prepare() {
      const response = await call('/api/auth/sign-up/email', {
        method: 'POST',
        headers: origin,
        json: { name: 'Peer User', email: 'peer-user@bench.test', password: PASSWORD },
      });
      expectStatus(response, 200, 'better-auth sign-up of the benchmark user');
    },
    routes: {
      'sign-up': {
        label: 'POST /api/auth/sign-up/email',
        status: 200,
        hashes: 1,
        request: () => ({
          method: 'POST',
          path: '/api/auth/sign-up/email',
          headers: origin,
          json: { name: 'Bench User', email: uniqueEmail('peer'), password: PASSWORD },
        }),
      },
      'sign-in': {
        label: 'POST /api/auth/sign-in/email',
        status: 200,
        hashes: 1,
        request: () => ({
          method: 'POST',
          path: '/api/auth/sign-in/email',
          headers: origin,
          json: { email: 'peer-user@bench.test', password: PASSWORD },
        }),
      },
      'authenticated read': {
        label: 'GET /api/auth/get-session?disableCookieCache=true',
        ...read('?disableCookieCache=true'),
      },
      'authenticated read (cookie cache on)': { label: 'GET /api/auth/get-session', ...read('') },
      // Its sessions are extended on a read once `updateAge` has passed (a day by default); the second
      // instance of the Worker has `updateAge: 0`, so every read there does that work.
      'session refresh': {
        label: 'GET /api/auth/get-session, session due for extension',
        status: 200,
        credential: 'shared',
        request: ({ cookie }) => ({
          path: '/refreshing/api/auth/get-session?disableCookieCache=true',
          headers: { ...origin, cookie },
        }),
      },
      'sign-out': {
        label: 'POST /api/auth/sign-out',
        status: 200,
        credential: 'spent',
        request: ({ cookie }) => ({
          method: 'POST',
          path: '/api/auth/sign-out',
          headers: { ...origin, cookie },
          json: {},
        }),
      },
    },
  };
}

/** Sessions for requests that use one up (sign-out) or chain it (refresh); created by signing in. */
async function credentials(side, count) {
  const pool = [];
  for (let i = 0; i < count; i++) pool.push(await side.signIn());
  return pool;
}

/**
 * Gives each request its credential: one session for all (reads), one per request (sign-out), or a chain
 * where each answer carries the next (refresh; one chain per connection keeps them apart).
 */
function credentialSource(route, pool) {
  if (route.credential === undefined || route.credential === 'shared') {
    return { take: () => pool[0], give: () => {} };
  }
  return {
    take: () => {
      const credential = pool.shift();
      if (credential === undefined) throw new Error(`${route.label}: the credential pool ran dry`);
      return credential;
    },
    give: (credential) => {
      if (route.credential === 'chained') pool.push(credential);
    },
  };
}

function poolSize(route, requests, connections) {
  if (route.credential === undefined) return 0;
  if (route.credential === 'shared') return 1;
  if (route.credential === 'chained') return connections;
  return requests;
}

async function sendRoute(side, route, credentials) {
  const credential = credentials.take();
  const { path: pathname, ...options } = route.request(credential ?? {});
  const response = expectStatus(await side.call(pathname, options), route.status, route.label);
  if (route.next) credentials.give(route.next(response.body));
  return response;
}

async function roundTrips(side, route, neonUrl) {
  const counter = createRoundTripCounter(neonUrl, side.database);
  const source = credentialSource(route, await credentials(side, poolSize(route, 1, 1)));
  // A shared session is hot (its check cached) in the steady state: used once before counting.
  if (route.credential === 'shared') await sendRoute(side, route, source);
  await counter.reset();
  await sendRoute(side, route, source);
  return counter.settle();
}

async function cpu(side, route, pid, count, warmup) {
  // cpuPerRequest sends up to 20 more of its own first.
  const requests = warmup + Math.min(20, count) + count;
  const source = credentialSource(route, await credentials(side, poolSize(route, requests, 1)));
  const send = () => sendRoute(side, route, source);
  for (let i = 0; i < warmup; i++) await send();
  return cpuPerRequest(pid, send, count);
}

async function load(side, server, route, settings) {
  const total = settings.requests + settings.warmup;
  const pool = await credentials(side, poolSize(route, total, settings.connections));
  const source = credentialSource(route, pool);
  let dry = 0;
  const scenario = () => ({
    requests: [
      {
        setupRequest(request) {
          let credential;
          try {
            credential = source.take();
          } catch {
            dry += 1;
          }
          const { json, headers = {}, ...rest } = route.request(credential ?? {});
          return {
            ...request,
            ...rest,
            headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
            body: json === undefined ? undefined : JSON.stringify(json),
          };
        },
        onResponse(status, body) {
          if (route.next && status === route.status) source.give(route.next(JSON.parse(body)));
        },
      },
    ],
  });
  let result;
  const cpu = await cpuByProcess(server, async () => {
    result = await measureScenario(side.url, scenario, settings);
    return settings.warmup + result.completed;
  });
  if (dry > 0) throw new Error(`${side.name} ${route.label}: the credential pool ran dry ${dry} times`);
  return { ...result, cpu };
}

/** CPU ms of one password hash in the side's Worker: /bench/hash?n=20 less /bench/hash?n=0. */
async function hashCpuMs(url, pid, n = 20) {
  const call = createClient(url);
  const hashing = (count) => async () =>
    expectStatus(await call(`/bench/hash?n=${count}`), 200, '/bench/hash');
  const empty = await cpuPerRequest(pid, hashing(0), 5);
  return ((await cpuPerRequest(pid, hashing(n), 3)) - empty) / n;
}

/** [better-auth's route, ours, which of our Workers]: `uncached` runs AUTH_CACHE_TTL_SECONDS=0. */
export const PAIRS = [
  ['sign-up', 'sign-up'],
  ['sign-in', 'sign-in'],
  ['authenticated read', 'authenticated read', 'uncached'],
  ['authenticated read (cookie cache on)', 'authenticated read'],
  ['authenticated read (cookie cache on)', 'resource-server read', 'resource'],
  ['authenticated read (cookie cache on)', 'authenticated read', 'quiet'],
  ['authenticated read (cookie cache on)', 'authenticated read', 'edgeauth', 'logging'],
  ['session refresh', 'session refresh'],
  ['sign-out', 'sign-out'],
];

/** better-auth's Workers: as its docs set it up, and the same writing one log line per request. */
export const PEER_SIDES = {
  plain: 'better-auth',
  logging: 'better-auth writing one log line per request, as edgeauth does',
};

/** What each of our Workers is called in the table. */
export const OUR_SIDES = {
  edgeauth: `edgeauth (AUTH_CACHE_TTL_SECONDS default ${AUTH_CACHE_DEFAULT})`,
  uncached: 'edgeauth (AUTH_CACHE_TTL_SECONDS=0)',
  resource: 'a resource server with @edgeauth/client/server',
  quiet: 'edgeauth at LOG_LEVEL=warn (no log line for a success)',
};

/**
 * Measures every pair on both Workers. `ours` is the benchmark Worker (edgeauth's real entry), `peer` the
 * better-auth Worker; `argon2CpuMs` is edgeauth's hash cost, measured in its own phase.
 */
export async function measurePairs({
  ours,
  uncached,
  resource,
  floorWorkers,
  quiet,
  peer,
  loggingPeer,
  neon,
  userEmail,
  loadSettings,
  argon2CpuMs,
  progress,
}) {
  const database = neon.defaultDatabase;
  const edgeauth = edgeauthSide({ url: ours.url, userEmail, database });
  const betterAuth = betterAuthSide({ url: peer.url, database: PEER_DATABASE });
  await betterAuth.prepare();
  const sides = [
    { side: edgeauth, server: ours, pid: ours.workerdPid() },
    { side: betterAuth, server: peer, pid: peer.workerdPid() },
  ];
  const ourSides = {
    edgeauth: sides[0],
    uncached: {
      side: edgeauthSide({ name: OUR_SIDES.uncached, url: uncached.url, userEmail, database }),
      server: uncached,
      pid: uncached.workerdPid(),
    },
    quiet: {
      side: edgeauthSide({ name: OUR_SIDES.quiet, url: quiet.url, userEmail, database }),
      server: quiet,
      pid: quiet.workerdPid(),
    },
    // Its tokens come from the benchmark Worker, whose database the round trips are counted at.
    resource: {
      side: edgeauthSide({
        name: OUR_SIDES.resource,
        url: resource.url,
        userEmail,
        database,
        signInAt: ours.url,
      }),
      server: resource,
      pid: resource.workerdPid(),
    },
  };
  progress('pairs: password hashing, better-auth scrypt');
  const hashMs = { edgeauth: argon2CpuMs, 'better-auth': await hashCpuMs(peer.url, peer.workerdPid()) };
  const bareMs = {};
  for (const { side, pid } of sides) {
    const bare = async () => expectStatus(await side.call('/bench/bare'), 200, '/bench/bare');
    bareMs[side.name] = await cpuPerRequest(pid, bare, CPU_COUNT.light);
  }
  // Issue 17's floor: a request that does nothing but pass every middleware of the app, against the bare
  // Hono Worker run with the same wrangler.toml, each on Workers started for it and warmed up alike (the
  // JIT halves a request's cost over the first thousand). This machine's CPU time for the same work
  // wanders by a fifth over seconds, and two identical Workers differ by up to 15 % for their whole life,
  // so each round sends one request to each Worker of a set in turn (the app, the app without its log
  // line, the bare Hono Worker) and reads all three over that one window, on FLOOR_SETS sets of Workers;
  // the floor is the median of the ratios within a set and a round.
  const discovery = '/.well-known/openid-configuration';
  const sets = floorWorkers.map(({ app, quiet: quietApp, bareHono }) => {
    const appCall = createClient(app.url);
    const quietCall = createClient(quietApp.url);
    const bareCall = createClient(bareHono.url);
    return {
      app: [app.workerdPid(), async () => expectStatus(await appCall(discovery), 200, discovery)],
      quiet: [quietApp.workerdPid(), async () => expectStatus(await quietCall(discovery), 200, discovery)],
      bareHono: [
        bareHono.workerdPid(),
        async () => expectStatus(await bareCall('/bench/bare'), 200, 'bare Hono /bench/bare'),
      ],
    };
  });
  progress(`pairs: the middleware floor, ${sets.length} sets of Workers`);
  for (const set of sets)
    for (const [, send] of Object.values(set)) for (let i = 0; i < WARMUP; i++) await send();
  const samples = { app: [], quiet: [], bareHono: [] };
  const ratios = { app: [], quiet: [] };
  for (let round = 0; round < FLOOR.rounds; round++) {
    for (const set of sets) {
      const taken = await cpuPerRequestInterleaved(set, FLOOR.requests);
      for (const [name, ms] of Object.entries(taken)) samples[name].push(ms);
      for (const name of Object.keys(ratios)) ratios[name].push(taken[name] / taken.bareHono);
    }
  }
  for (const [name, values] of Object.entries(samples)) bareMs[name] = median(values);
  const floorRatio = Object.fromEntries(
    Object.entries(ratios).map(([name, values]) => [name, median(values)]),
  );
  const measured = new Map();
  const measureRoute = async ({ side, server, pid }, key) => {
    const cacheKey = `${side.name}:${key}`;
    if (measured.has(cacheKey)) return measured.get(cacheKey);
    const route = side.routes[key];
    progress(`pairs: ${side.name} ${route.label}`);
    const hashing = route.hashes !== undefined;
    const small = hashing || route.credential === 'spent';
    const trips = await roundTrips(side, route, neon.url);
    const cpuMs = await cpu(side, route, pid, ...(small ? [CPU_COUNT.small, 0] : [CPU_COUNT.light, WARMUP]));
    const settings = small ? { ...loadSettings, ...SMALL_LOAD } : loadSettings;
    const result = {
      label: route.label,
      hashed: route.hashes !== undefined,
      roundTrips: trips.requests,
      queries: trips.queries,
      cpuMs: hashing
        ? cpuMs - route.hashes * hashMs[side.name === 'better-auth' ? 'better-auth' : 'edgeauth']
        : cpuMs,
      totalCpuMs: cpuMs,
      load: await load(side, server, route, settings),
      settings,
    };
    measured.set(cacheKey, result);
    return result;
  };
  const peerSides = {
    plain: sides[1],
    logging: {
      side: betterAuthSide({ name: PEER_SIDES.logging, url: loggingPeer.url, database: PEER_DATABASE }),
      server: loggingPeer,
      pid: loggingPeer.workerdPid(),
    },
  };
  const rows = [];
  for (const [peerKey, ourKey, which = 'edgeauth', peerWhich = 'plain'] of PAIRS) {
    rows.push({
      pair: peerKey,
      side: OUR_SIDES[which],
      peerSide: PEER_SIDES[peerWhich],
      ours: await measureRoute(ourSides[which], ourKey),
      peer: await measureRoute(peerSides[peerWhich], peerKey),
    });
  }
  return {
    rows,
    hashMs,
    bareMs,
    floor: { ...FLOOR, workers: sets.length, warmup: WARMUP, ratio: floorRatio },
  };
}
