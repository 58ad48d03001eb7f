// `npm run smoke` runs only against edgeauth's API and mail sink (scripts/smoke-target.mjs): anything
// else on API_URL or MAIL_URL is refused with a message saying which address is wrong.
import { describe, expect, it } from 'vitest';
import { smokeTargetProblem } from '../../scripts/smoke-target.mjs';
import { bindings } from '../support/bindings';
import { API_ORIGIN, callWorker, testEnv } from '../support/worker';

// Nothing listens on port 9 (discard) here: connections are refused at once.
const DEAD = 'http://127.0.0.1:9';
const MAIL = bindings.TEST_MAIL_URL;

/** fetch that reaches this Worker at API_ORIGIN (with `env`) and the real network elsewhere. */
const viaWorker =
  (env = testEnv()): typeof fetch =>
  (input, init) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === API_ORIGIN ? callWorker(request, env) : fetch(request);
  };

describe('the smoke test target check', () => {
  it('accepts edgeauth and its mail sink', async () => {
    expect(await smokeTargetProblem({ apiUrl: API_ORIGIN, mailUrl: MAIL, fetch: viaWorker() })).toBeNull();
  });

  it('refuses an API_URL where nothing listens', async () => {
    expect(await smokeTargetProblem({ apiUrl: DEAD, mailUrl: MAIL, fetch: viaWorker() })).toMatch(
      /^nothing answers at http:\/\/127\.0\.0\.1:9\/health \(.+\)\. Start npm run dev, or set API_URL to where it runs\.$/,
    );
  });

  it('refuses another server on API_URL', async () => {
    expect(await smokeTargetProblem({ apiUrl: MAIL, mailUrl: MAIL, fetch: viaWorker() })).toBe(
      `${MAIL}/health answered 404 {"error":"not found"}, which is not edgeauth's health check. ` +
        'Set API_URL to the API address npm run dev prints.',
    );
  });

  it('refuses an edgeauth whose database is down, naming it', async () => {
    const env = testEnv({ NEON_FETCH_ENDPOINT: `${DEAD}/sql` });
    expect(await smokeTargetProblem({ apiUrl: API_ORIGIN, mailUrl: MAIL, fetch: viaWorker(env) })).toBe(
      `the API at ${API_ORIGIN} is up but not healthy: {"database":"down","redis":"ok","signing_keys":"ok"}`,
    );
  });

  it('refuses a MAIL_URL that is not the mail sink', async () => {
    const other = bindings.TEST_STRIPE_URL;
    expect(await smokeTargetProblem({ apiUrl: API_ORIGIN, mailUrl: other, fetch: viaWorker() })).toBe(
      `${other} is not the edgeauth mail sink (GET /_standin/health answered 200). ` +
        'Set MAIL_URL to the Mailbox address npm run dev prints.',
    );
  });

  it('refuses a MAIL_URL where nothing listens', async () => {
    expect(await smokeTargetProblem({ apiUrl: API_ORIGIN, mailUrl: DEAD, fetch: viaWorker() })).toMatch(
      /^nothing answers at http:\/\/127\.0\.0\.1:9\/_standin\/health \(.+\)\. Start npm run dev, or set MAIL_URL to where it runs\.$/,
    );
  });
});
