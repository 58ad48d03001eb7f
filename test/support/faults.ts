// Fault injection at the shared stand-ins, each scoped so that test files running in parallel do not
// trip over each other: the database by this file's database name, Redis by a token scope, the mail
// relay by job id, Stripe by path (cleared afterwards only if the fault is still ours).
import { expect } from 'vitest';
import { stripeControl } from './billing';
import { bindings } from './bindings';
import { databaseName, testEnv } from './worker';

type Fault = { mode: string } & Record<string, unknown>;

async function post(url: string, body: unknown) {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

/** Faults every query to this file's database (`mode: 'none'` clears it). */
export function databaseFault(mode: string, extra: Record<string, unknown> = {}) {
  return post(`${bindings.TEST_NEON_URL}/_standin/fault`, { mode, match: databaseName(), ...extra });
}

/** A Redis scope: pass `env` to the Worker, and faults set through `fault` hit only its requests. */
export function redisScope(name: string) {
  const scope = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    env: () => testEnv({ UPSTASH_REDIS_REST_TOKEN: `${bindings.UPSTASH_REDIS_REST_TOKEN}:${scope}` }),
    fault: (mode: string, extra: Record<string, unknown> = {}) =>
      post(`${bindings.TEST_UPSTASH_URL}/_standin/fault`, { ...extra, mode, match: scope }),
  };
}

/** Faults the relay's sends for one email job (the job id is the relay's idempotency key). */
export function mailFault(mode: string, jobId: string, extra: Record<string, unknown> = {}) {
  return post(`${bindings.TEST_MAIL_URL}/_standin/fault`, { ...extra, mode, match: jobId });
}

/** Applies a Stripe fault (matched by path prefix) for `work`, then clears it if it is still ours. */
export async function withStripeFault<T>(fault: Fault & { match: string }, work: () => Promise<T>) {
  await stripeControl('/fault', fault);
  try {
    return await work();
  } finally {
    const state = await stripeControl<{ mode: string; match: string | null }>('/fault');
    if (state.mode !== 'none' && state.match === fault.match) await stripeControl('/fault', { mode: 'none' });
  }
}
