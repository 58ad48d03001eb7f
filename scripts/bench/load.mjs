// Throughput and latency over loopback with autocannon: a fixed number of requests under a time bound, each
// app route right after the bare Hono route of the same Worker, so the overhead ratio compares like with like.
import autocannon from 'autocannon';

export const LOAD = { connections: 10, requests: 2000, warmup: 200, timeBoundSeconds: 30 };

function run(options, timeBoundSeconds) {
  return new Promise((resolve, reject) => {
    let stoppedByBound = false;
    const startedAt = performance.now();
    let lastResponseAt = startedAt;
    const instance = autocannon(
      { pipelining: 1, timeout: 10, sampleInt: 100, ...options },
      (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve({ ...result, stoppedByBound, seconds: (lastResponseAt - startedAt) / 1000 });
      },
    );
    // autocannon notices the end only at its next sampling tick: time the run by its last response.
    instance.on('response', () => {
      lastResponseAt = performance.now();
    });
    const timer = setTimeout(() => {
      stoppedByBound = true;
      instance.stop();
    }, timeBoundSeconds * 1000);
  });
}

function summarise(result) {
  const completed = result.requests.total;
  return {
    completed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: completed / result.seconds,
    errors: result.errors + result.timeouts + result.non2xx,
    stoppedByBound: result.stoppedByBound,
  };
}

/** One scenario: a warm-up, then the measured run. `scenario` gives autocannon's request options. */
export async function measureScenario(url, scenario, { connections, requests, warmup, timeBoundSeconds }) {
  await run({ url, connections, amount: warmup, ...scenario() }, timeBoundSeconds);
  return summarise(await run({ url, connections, amount: requests, ...scenario() }, timeBoundSeconds));
}

/**
 * POST /refresh-token with the token in the body, as a native client sends it. Every request must present a
 * token nobody used yet (a repeat within the grace window takes the duplicate path), so the tokens form
 * chains: a shared pool starts with one fresh session per connection, each request takes a token from it
 * and its answer puts the successor back. With one request in flight per connection the pool never runs dry.
 */
export function refreshChains(startTokens) {
  const pool = [...startTokens];
  let dry = 0;
  return {
    scenario: () => ({
      requests: [
        {
          method: 'POST',
          path: '/refresh-token',
          headers: { 'content-type': 'application/json' },
          setupRequest(request) {
            const token = pool.shift();
            if (token === undefined) dry += 1;
            return { ...request, body: JSON.stringify({ refresh_token: token ?? 'pool-ran-dry-0000000' }) };
          },
          onResponse(status, body) {
            if (status === 200) pool.push(JSON.parse(body).refresh_token);
          },
        },
      ],
    }),
    get dry() {
      return dry;
    },
  };
}

/**
 * Each app scenario against the bare route measured just before it.
 * `scenarios`: [{label, scenario: () => autocannon options}], `bare`: the bare route's options.
 */
export async function measureLoad(url, scenarios, bare, settings = LOAD) {
  const results = [];
  for (const { label, scenario } of scenarios) {
    const reference = await measureScenario(url, bare, settings);
    const ours = await measureScenario(url, scenario, settings);
    results.push({ label, ours, reference });
  }
  return results;
}
