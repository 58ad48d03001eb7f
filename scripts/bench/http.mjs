// HTTP helpers for the benchmark: calls to the API (JSON in and out), the mailbox, and the Neon stand-in's
// round-trip counter.

export { createApiClient as createClient } from '../api-client.mjs';

/** Throws with the answer when the status is not the expected one: a benchmark of an error is no benchmark. */
export function expectStatus(result, expected, what) {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(result.status)) {
    const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    throw new Error(`${what}: expected ${allowed.join(' or ')}, got ${result.status} ${body.slice(0, 400)}`);
  }
  return result;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The text of the newest message to `to` whose subject contains `subjectPart` and whose ID is not in
 * `seen` (it is added). Mail is sent by the queue consumer, so it arrives a batch timeout later.
 */
export async function waitForMail(mailUrl, to, subjectPart, { timeoutMs = 20_000, seen = new Set() } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const query = encodeURIComponent(`to:${to}`);
    const list = await (await fetch(`${mailUrl}/api/v1/search?query=${query}`)).json();
    const summary = list.messages.find((m) => m.Subject.includes(subjectPart) && !seen.has(m.ID));
    if (summary) {
      seen.add(summary.ID);
      return (await (await fetch(`${mailUrl}/api/v1/message/${summary.ID}`)).json()).Text;
    }
    await sleep(100);
  }
  throw new Error(`no "${subjectPart}" mail to ${to} within ${timeoutMs} ms`);
}

/**
 * Database round trips (HTTP requests to the Neon stand-in) for one database. `settle()` waits until
 * the count stops moving, so work a route leaves to waitUntil() after answering is counted too.
 */
export function createRoundTripCounter(neonUrl, database) {
  const read = async () =>
    await (await fetch(`${neonUrl}/_standin/stats?db=${encodeURIComponent(database)}`)).json();
  return {
    async reset() {
      await (await fetch(`${neonUrl}/_standin/stats`, { method: 'DELETE' })).arrayBuffer();
    },
    read,
    async settle({ quietMs = 250, timeoutMs = 5000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let last = await read();
      while (Date.now() < deadline) {
        await sleep(quietMs);
        const next = await read();
        if (next.requests === last.requests) return next;
        last = next;
      }
      return last;
    },
  };
}
