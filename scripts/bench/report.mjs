// Turns the measurements into the one table `npm run bench` prints and writes to bench/results.md.
// Every row: our number, its reference from the same run, the ratio, the budget or target, and a verdict.

const MiB = 1024 * 1024;
const ms = (value) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const ratio = (value) => `${value.toFixed(value < 10 ? 2 : 1)}×`;
/** a / b, or "n/a" when b is too small to divide by (a host that wrote no line spends next to nothing). */
const ratioOf = (a, b) => (b < 0.005 ? 'n/a' : ratio(a / b));
const verdict = (ok) => (ok ? 'ok' : '**OVER**');

function roundTripRows(roundTrips) {
  return roundTrips.map((row) => ({
    measure: `DB round trips: ${row.label}`,
    ours: `${row.roundTripsText ?? row.roundTrips}${row.queries !== row.roundTrips ? ` (${row.queries} statements)` : ''}`,
    reference: '',
    ratio: '',
    target: row.budget === undefined ? '' : `≤ ${row.budget}`,
    verdict: row.budget === undefined ? '' : verdict(row.roundTrips <= row.budget),
  }));
}

const TRIED_BUILDS = {
  simd: 'the argon2id package’s SIMD build (the app’s before; its JS drives the block loop)',
  'no-simd': 'the argon2id package’s no-SIMD build',
};

function argon2Rows({ workerd, native, tried }) {
  const { memoryKiB, passes, parallelism } = workerd.params;
  const cpuRatio = workerd.cpuMsPerHash / native.cpuMsPerHash;
  const wallRatio = workerd.wallMsPerHash / native.wallMsPerHash;
  const samples = workerd.samples;
  const [first] = samples;
  const [beforeLast, last] = samples.slice(-2);
  const lastGrowth = last.rss - beforeLast.rss;
  // A per-hash leak (a fresh WASM memory per hash) adds m KiB with every hash. Flat: the hashes between
  // the last two checkpoints together grew RSS by less than one hash's memory.
  const flat = lastGrowth < memoryKiB * 1024 && last.wasm === first.wasm;
  const list = (pick) => samples.map(pick).join(' / ');
  return [
    {
      measure: `Argon2id ms per hash (m=${memoryKiB} KiB, t=${passes}, p=${parallelism}): workerd WASM vs native @node-rs/argon2`,
      ours: `CPU ${ms(workerd.cpuMsPerHash)} · wall ${ms(workerd.wallMsPerHash)}`,
      reference: `CPU ${ms(native.cpuMsPerHash)} · wall ${ms(native.wallMsPerHash)} native`,
      ratio: `CPU ${ratio(cpuRatio)} · wall ${ratio(wallRatio)}`,
      target: '≤ 3× (CPU)',
      verdict: verdict(cpuRatio <= 3),
    },
    ...tried.map((build) => ({
      measure: `Argon2id tried: ${TRIED_BUILDS[build.build]}, same parameters`,
      ours: `CPU ${ms(build.cpuMsPerHash)}`,
      reference: `CPU ${ms(native.cpuMsPerHash)} native`,
      ratio: `CPU ${ratio(build.cpuMsPerHash / native.cpuMsPerHash)} (the app's ${ratio(cpuRatio)})`,
      target: '',
      verdict: '',
    })),
    {
      measure: `workerd RSS after ${list((s) => s.hashes)} hashes in one isolate`,
      ours: `${list((s) => (s.rss / MiB).toFixed(0))} MiB`,
      reference: `${(workerd.rssBeforeWasm / MiB).toFixed(0)} MiB before the first hash`,
      ratio: `${lastGrowth >= 0 ? '+' : ''}${(lastGrowth / MiB).toFixed(1)} MiB over the last ${last.hashes - beforeLast.hashes}`,
      target: `flat: < ${(memoryKiB / 1024).toFixed(0)} MiB (one hash) over the last ${last.hashes - beforeLast.hashes}`,
      verdict: verdict(flat),
    },
    {
      measure: `Argon2 WASM memory after ${list((s) => s.hashes)} hashes; workerd PHC verifies natively`,
      ours: `${list((s) => (s.wasm / MiB).toFixed(0))} MiB; ${native.workerdHashVerifies ? 'yes' : 'NO'}`,
      reference: '',
      ratio: '',
      target: 'constant; yes',
      verdict: verdict(last.wasm === first.wasm && native.workerdHashVerifies),
    },
  ];
}

function bundleRows({ app, bare, contributors, startup }, topCount = 8) {
  const share = (bytes) => `${((100 * bytes) / contributors.totalBytes).toFixed(0)}%`;
  const top = contributors.packages
    .slice(0, topCount)
    .map((p) => `${p.name} ${(p.bytes / 1024).toFixed(0)} KiB (${share(p.bytes)})`)
    .join(', ');
  return [
    {
      measure: 'Bundle gzip, `wrangler deploy --dry-run --minify`',
      ours: `${app.gzipKiB.toFixed(1)} KiB`,
      reference: `${bare.gzipKiB.toFixed(1)} KiB bare Hono Worker`,
      ratio: ratio(app.gzipKiB / bare.gzipKiB),
      target: '≤ 250 KiB',
      verdict: verdict(app.gzipKiB <= 250),
    },
    {
      measure: 'Bundle raw (minified JS + WASM)',
      ours: `${app.rawKiB.toFixed(1)} KiB`,
      reference: `${bare.rawKiB.toFixed(1)} KiB bare Hono Worker`,
      ratio: ratio(app.rawKiB / bare.rawKiB),
      target: '',
      verdict: '',
    },
    {
      measure: 'Bundle top contributors (minified bytes, esbuild metafile)',
      ours: top,
      reference: '',
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      measure: `Startup: global scope in local workerd (\`wrangler check startup\`, median of ${startup.runs})`,
      ours: ms(startup.appMs),
      reference: `${ms(startup.bareMs)} bare Hono Worker`,
      ratio: ratio(startup.appMs / startup.bareMs),
      target: '< 1000 ms (platform limit)',
      verdict: verdict(startup.appMs < 1000),
    },
  ];
}

function loadRows(load, settings) {
  const describe = (r) =>
    `p50 ${ms(r.p50)} · p99 ${ms(r.p99)} · ${r.rps.toFixed(0)} req/s` +
    (r.stoppedByBound ? ` (time bound hit: ${r.completed} done)` : '') +
    (r.errors > 0 ? ` · ${r.errors} errors` : '');
  return load.map(({ label, ours, reference }) => ({
    measure: `Load ${label} (${settings.connections} connections, ${settings.requests} requests, ≤ ${settings.timeBoundSeconds} s)`,
    ours: describe(ours),
    reference: `${describe(reference)} bare`,
    ratio: `p50 ${ratio(ours.p50 / reference.p50)} · req/s ${ratio(ours.rps / reference.rps)}`,
    target: 'no errors',
    verdict: verdict(ours.errors === 0 && !ours.stoppedByBound),
  }));
}

function cpuRows(cpu) {
  return cpu.rows.map(({ label, ms: ours, count }) => ({
    measure: `CPU per request ${label} (workerd process, ${count} sequential)`,
    ours: ms(ours),
    reference: `${ms(cpu.bareMs)} bare`,
    ratio: ratio(ours / cpu.bareMs),
    target: '',
    verdict: '',
  }));
}

const TOKEN_OPERATIONS = {
  sign: 'signing (login, refresh)',
  verify: 'verifying a token the first time the isolate sees it',
  repeat: 'verifying it again (every later request with it: the isolate remembers verified tokens)',
};

/** Signing (login, refresh) and verifying (every authenticated request): ES256 against HS256. */
function tokenRows(cpu) {
  return cpu.tokens.map(({ operation, ES256, HS256 }) => ({
    measure: `CPU per access token, ${TOKEN_OPERATIONS[operation]}`,
    ours: `${(ES256 * 1000).toFixed(0)} µs ES256`,
    reference: `${(HS256 * 1000).toFixed(0)} µs HS256 (before)`,
    ratio: ratio(ES256 / HS256),
    target: '≤ 0.5 ms',
    verdict: verdict(ES256 <= 0.5),
  }));
}

const compare = (ours, peer, { higherIsBetter = false } = {}) =>
  (higherIsBetter ? ours >= peer : ours <= peer) ? 'leads' : '**behind**';
const lead = (ours, peer) => (ours <= peer ? 'ok' : '**OVER**');
/**
 * A hashing route's CPU less one hash, measured apart: when the hash is most of the request, run-to-run
 * noise in either can exceed the rest, and a remainder under 1 ms says only that.
 */
const measurable = (side) => !side.hashed || side.cpuMs >= 1;
const cpuCell = (side) =>
  side.hashed
    ? `${measurable(side) ? ms(side.cpuMs) : '< 1 ms (noise)'} (total ${ms(side.totalCpuMs)})`
    : ms(side.cpuMs);
const PEER = 'better-auth';

/**
 * edgeauth against better-auth, pair by pair. Budgets (issue 16): round trips, CPU per authenticated read,
 * bundle and startup at or below better-auth's (ok / OVER); the other comparisons say who leads.
 */
function peerRows({ pairs, bundle }) {
  const rows = [];
  for (const { pair, side, peerSide, ours, peer } of pairs.rows) {
    const reads = pair.startsWith('authenticated read');
    const who = side ? `${side}, ` : '';
    rows.push({
      measure: `vs ${peerSide}, ${pair}: DB round trips (${who}${ours.label} vs ${peer.label})`,
      ours: String(ours.roundTrips),
      reference: `${peer.roundTrips} ${PEER}`,
      ratio:
        peer.roundTrips === 0
          ? ours.roundTrips === 0
            ? '='
            : '∞'
          : ratio(ours.roundTrips / peer.roundTrips),
      target: `≤ ${PEER}`,
      verdict: lead(ours.roundTrips, peer.roundTrips),
    });
    rows.push({
      measure: `vs ${peerSide}, ${pair}: ${who}CPU per request${ours.hashed ? ', password hashing taken out' : ''}`,
      ours: cpuCell(ours),
      reference: `${cpuCell(peer)} ${PEER}`,
      ratio: measurable(ours) && measurable(peer) ? ratio(ours.cpuMs / peer.cpuMs) : '',
      target: reads ? `≤ ${PEER}` : '',
      verdict: reads
        ? lead(ours.cpuMs, peer.cpuMs)
        : measurable(ours) && measurable(peer)
          ? compare(ours.cpuMs, peer.cpuMs)
          : 'within noise',
    });
    const describe = (r) => `p50 ${ms(r.p50)} · p99 ${ms(r.p99)} · ${r.rps.toFixed(0)} req/s`;
    const settings = ours.settings;
    rows.push({
      measure: `vs ${peerSide}, ${pair}: ${who}load (${settings.connections} connections, ${settings.requests} requests)`,
      ours: describe(ours.load),
      reference: `${describe(peer.load)} ${PEER}`,
      ratio: `p50 ${ratio(ours.load.p50 / peer.load.p50)} · req/s ${ratio(ours.load.rps / peer.load.rps)}`,
      target: 'no errors',
      verdict:
        ours.load.errors + peer.load.errors > 0
          ? `**${ours.load.errors} / ${peer.load.errors} errors**`
          : compare(ours.load.rps, peer.load.rps, { higherIsBetter: true }),
    });
    const split = ({ cpu }) => `${ms(cpu.workerMs)} · ${ms(cpu.toolingMs)} · ${ms(cpu.hereMs)}`;
    rows.push({
      measure: `vs ${peerSide}, ${pair}: ${who}CPU per request during that load: the Worker's workerd · its Miniflare host (the Node process that writes each log line to a file) · the bench process (stand-ins, load generator)`,
      ours: split(ours.load),
      reference: `${split(peer.load)} ${PEER}`,
      ratio: `Worker ${ratio(ours.load.cpu.workerMs / peer.load.cpu.workerMs)} · host ${ratioOf(ours.load.cpu.toolingMs, peer.load.cpu.toolingMs)} · bench ${ratioOf(ours.load.cpu.hereMs, peer.load.cpu.hereMs)}`,
      target: '',
      verdict: compare(ours.load.cpu.workerMs, peer.load.cpu.workerMs),
    });
  }
  rows.push(
    {
      measure: `vs ${PEER}, one password hash at each default (Argon2id m=19 MiB t=2 p=1 WASM vs scrypt N=16384 r=16 p=1 node:crypto), CPU`,
      ours: ms(pairs.hashMs.edgeauth),
      reference: `${ms(pairs.hashMs[PEER])} ${PEER}`,
      ratio: ratio(pairs.hashMs.edgeauth / pairs.hashMs[PEER]),
      target: '',
      verdict: compare(pairs.hashMs.edgeauth, pairs.hashMs[PEER]),
    },
    {
      measure: `vs ${PEER}, a bare Hono route in each Worker (/bench/bare), CPU per request`,
      ours: ms(pairs.bareMs.edgeauth),
      reference: `${ms(pairs.bareMs[PEER])} ${PEER}`,
      ratio: ratio(pairs.bareMs.edgeauth / pairs.bareMs[PEER]),
      target: '',
      verdict: compare(pairs.bareMs.edgeauth, pairs.bareMs[PEER]),
    },
    ...[
      [
        `edgeauth (the real Worker, wrangler.toml's entry), a request through every middleware and its log line (GET /.well-known/openid-configuration) vs a bare Hono Worker with the same wrangler.toml, CPU per request (${pairs.floor.workers} sets of fresh Workers, each warmed by ${pairs.floor.warmup} requests; ${pairs.floor.rounds} rounds of ${pairs.floor.requests} requests to each Worker of a set in turn, all read over the same window; the ratio is the median of the ratios within a set and a round)`,
        'app',
      ],
      [
        'the same request at LOG_LEVEL=warn (no log line for it), vs the bare Hono Worker in the same rounds',
        'quiet',
      ],
    ].map(([measure, name]) => ({
      measure,
      ours: ms(pairs.bareMs[name]),
      reference: `${ms(pairs.bareMs.bareHono)} bare Hono Worker`,
      ratio: ratio(pairs.floor.ratio[name]),
      target: '≤ 1.2×',
      verdict: verdict(pairs.floor.ratio[name] <= 1.2),
    })),
    {
      measure: `vs ${PEER}, bundle (minified / gzip)`,
      ours: `${bundle.app.rawKiB.toFixed(1)} / ${bundle.app.gzipKiB.toFixed(1)} KiB`,
      reference: `${bundle.peer.rawKiB.toFixed(1)} / ${bundle.peer.gzipKiB.toFixed(1)} KiB ${PEER}`,
      ratio: `${ratio(bundle.app.rawKiB / bundle.peer.rawKiB)} / ${ratio(bundle.app.gzipKiB / bundle.peer.gzipKiB)}`,
      target: `≤ ${PEER}`,
      verdict: lead(
        Math.max(bundle.app.rawKiB - bundle.peer.rawKiB, bundle.app.gzipKiB - bundle.peer.gzipKiB),
        0,
      ),
    },
    {
      measure: `vs ${PEER}, startup (\`wrangler check startup\`, median of ${bundle.startup.runs})`,
      ours: ms(bundle.startup.appMs),
      reference: `${ms(bundle.startup.peerMs)} ${PEER}`,
      ratio: ratio(bundle.startup.appMs / bundle.startup.peerMs),
      target: `≤ ${PEER}`,
      verdict: lead(bundle.startup.appMs, bundle.startup.peerMs),
    },
  );
  return rows;
}

const sizeLabel = (size) => (size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`);
const indexesOf = (scans) => [...new Set(scans.map((s) => s.index ?? s.node))].join(', ');
const noSeqScan = (scans) => !scans.some((s) => s.node === 'Seq Scan');

/**
 * Cost as the tables grow (scale.mjs): list routes stay flat (same round trips, no sequential scan, p50 at
 * the largest size within 2× of the smallest); each cron run stays inside one invocation's subrequests and
 * touches at most its per-run cap, resuming where it stopped on the next run.
 */
function scaleRows({ rows, subrequestLimit, caps }) {
  const sizes = rows.map((r) => sizeLabel(r.size)).join(' / ');
  const out = [];
  for (const label of Object.keys(rows[0].routes)) {
    const runs = rows.map((r) => r.routes[label]);
    const scans = runs.flatMap((r) => r.scans);
    const growth = runs.at(-1).p50 / runs[0].p50;
    const flat = new Set(runs.map((r) => r.roundTrips)).size === 1 && noSeqScan(scans) && growth <= 2;
    out.push({
      measure: `Data scale, ${label} with ${sizes} rows in the table`,
      ours: `p50 ${runs.map((r) => r.p50.toFixed(1)).join(' / ')} ms · round trips ${runs.map((r) => r.roundTrips).join(' / ')}`,
      reference: `EXPLAIN: ${indexesOf(scans)}`,
      ratio: `p50 ${ratio(growth)} (${sizeLabel(rows.at(-1).size)} vs ${sizeLabel(rows[0].size)})`,
      target: 'flat: same round trips, no Seq Scan, p50 ≤ 2×',
      verdict: verdict(flat),
    });
  }
  const sweeps = rows.map((r) => r.cron.sweep);
  const sweepScans = sweeps.flatMap((r) => r.scans);
  out.push({
    measure: `Data scale, cron hourly sweep with ${sizes} subscriptions (1 % due to end, 0.5 % past grace)`,
    ours: `${sweeps.map((r) => (r.ms / 1000).toFixed(1)).join(' / ')} s · round trips ${sweeps.map((r) => r.roundTrips).join(' / ')} · rows changed ${sweeps.map((r) => r.touched).join(' / ')}`,
    reference: `EXPLAIN: ${indexesOf(sweepScans)}`,
    ratio: '',
    target: `≤ ${subrequestLimit} round trips, ≤ ${caps.sweep} rows of each kind per run, no Seq Scan`,
    verdict: verdict(
      noSeqScan(sweepScans) &&
        sweeps.every((r) => r.roundTrips <= subrequestLimit && r.touched <= 2 * caps.sweep),
    ),
  });
  const cleanups = rows.map((r) => r.cron.cleanups[0]);
  const last = rows.at(-1).cron.cleanups;
  const cleanupScans = rows.flatMap((r) => r.cron.cleanups.flatMap((c) => c.scans));
  const touched = (c) => `${c.touched.sessions} sessions + ${c.touched.email_tokens} tokens`;
  out.push({
    measure: `Data scale, cron daily clean-up with ${sizes} sessions and email tokens (10 % / 50 % ended), and a second run at ${sizeLabel(rows.at(-1).size)}`,
    ours: `${cleanups.map((r) => (r.ms / 1000).toFixed(1)).join(' / ')} s · round trips ${cleanups.map((r) => r.roundTrips).join(' / ')} · deleted ${cleanups.map(touched).join(' / ')}; second run ${(last[1].ms / 1000).toFixed(1)} s, ${last[1].roundTrips} round trips, ${touched(last[1])}`,
    reference: `EXPLAIN: ${indexesOf(cleanupScans)}`,
    ratio: '',
    // Where half a table matches, the planner reads it in order until the batch's LIMIT is filled (a
    // Seq Scan that stops early) rather than through the expiry index; either way a run is bounded.
    target: `≤ ${subrequestLimit} round trips, ≤ ${caps.cleanup} rows per table per run, the next run resumes`,
    verdict: verdict(
      rows.every((r) =>
        r.cron.cleanups.every(
          (c) =>
            c.roundTrips <= subrequestLimit &&
            c.touched.sessions <= caps.cleanup &&
            c.touched.email_tokens <= caps.cleanup,
        ),
      ) && last[1].touched.email_tokens > 0,
    ),
  });
  return out;
}

const escapeCell = (text) => String(text).replaceAll('|', '\\|');

export function renderTable(results) {
  const rows = [
    ...roundTripRows(results.roundTrips),
    ...argon2Rows(results.argon2),
    ...bundleRows(results.bundle),
    ...loadRows(results.load, results.loadSettings),
    ...cpuRows(results.cpu),
    ...tokenRows(results.cpu),
    ...peerRows(results),
    ...scaleRows(results.scale),
  ];
  const header = ['Measure', 'edgeauth', 'Reference (same run)', 'Ratio', 'Budget / target', 'Verdict'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map(
      (r) =>
        `| ${[r.measure, r.ours, r.reference, r.ratio, r.target, r.verdict].map(escapeCell).join(' | ')} |`,
    ),
  ];
  return {
    table: lines.join('\n'),
    over: rows.filter((r) => r.verdict === '**OVER**'),
    behind: rows.filter((r) => r.verdict === '**behind**'),
  };
}
