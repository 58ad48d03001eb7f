// Calls the Worker's real entry (src/index.ts) with this test file's bindings: the same middleware,
// validation and error envelope as production, against this file's own database. An env made by
// envWithClock (clock.ts) is served by a Worker built on that clock, as src/worker.ts builds any Worker.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index';
import { bindings } from './bindings';

export const API_ORIGIN = 'http://api.edgeauth.test';

let fileEnv: Env = bindings;
let fileDatabase = '';

/** Points this file's Worker env at the database created for it (see per-file-database.ts). */
export function useDatabase(name: string): void {
  fileDatabase = name;
  fileEnv = { ...bindings, DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${name}` };
}

/** Sets variables for the rest of this file's requests (after the per-file database is chosen). */
export function useVars(vars: Partial<Env>): void {
  fileEnv = { ...fileEnv, ...vars };
}

/** The name of this file's database at the Neon stand-in (to scope injected faults to it). */
export function databaseName(): string {
  return fileDatabase;
}

/** Database round trips (HTTP requests) the Neon stand-in has served for this file's database. */
export async function databaseRoundTrips(): Promise<number> {
  const response = await fetch(`${bindings.TEST_NEON_URL}/_standin/stats?db=${fileDatabase}`);
  return ((await response.json()) as { requests: number }).requests;
}

export function testEnv(overrides: Partial<Env> = {}): Env {
  return Object.keys(overrides).length === 0 ? fileEnv : { ...fileEnv, ...overrides };
}

const workers = new WeakMap<Env, typeof worker>();

/** Serves requests made with `env` by `handler` (a Worker built with other options, e.g. a clock). */
export function serveEnvWith(env: Env, handler: typeof worker): void {
  workers.set(env, handler);
}

/** The Worker that serves `env`: the production entry unless serveEnvWith said otherwise. */
export function workerFor(env: Env): typeof worker {
  return workers.get(env) ?? worker;
}

export async function callWorker(request: Request, env: Env = testEnv()): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await workerFor(env).fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** `fetch`-like helper: a path on the API origin, JSON bodies encoded for you. */
export function api(path: string, init: RequestInit & { json?: unknown } = {}, env?: Env): Promise<Response> {
  const { json, headers, ...rest } = init;
  const request = new Request(`${API_ORIGIN}${path}`, {
    ...rest,
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  return callWorker(request, env);
}
