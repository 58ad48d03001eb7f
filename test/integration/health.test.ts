// GET /health reports each dependency; a dead one turns the answer into a 503 naming it.
import { describe, expect, it } from 'vitest';
import { bindings } from '../support/bindings';
import { expectProblem } from '../support/problem';
import { encodeKeySet, signingKeyOf } from '../support/signing-keys';
import { api, testEnv } from '../support/worker';

// Nothing listens on port 9 (discard) here: connections are refused at once.
const DEAD = 'http://127.0.0.1:9';

describe('GET /health', () => {
  it('is 200 naming the software when Postgres and Redis answer', async () => {
    const response = await api('/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'edgeauth',
      checks: { database: 'ok', redis: 'ok', signing_keys: 'ok' },
    });
  });

  it('is 503 naming the database when Postgres is unreachable', async () => {
    const response = await api('/health', {}, testEnv({ NEON_FETCH_ENDPOINT: `${DEAD}/sql` }));
    const body = await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(body.detail).toBe('Unavailable: database');
    expect(body.checks).toEqual({ database: 'down', redis: 'ok', signing_keys: 'ok' });
  });

  it('is 503 naming Redis when Upstash is unreachable', async () => {
    const response = await api('/health', {}, testEnv({ UPSTASH_REDIS_REST_URL: DEAD }));
    const body = await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(body.detail).toBe('Unavailable: redis');
    expect(body.checks).toEqual({ database: 'ok', redis: 'down', signing_keys: 'ok' });
  });

  it('is 503 naming both when both are unreachable', async () => {
    const env = testEnv({ NEON_FETCH_ENDPOINT: `${DEAD}/sql`, UPSTASH_REDIS_REST_URL: DEAD });
    const body = await expectProblem(await api('/health', {}, env), 503, 'DEPENDENCY_UNAVAILABLE');
    expect(body.checks).toEqual({ database: 'down', redis: 'down', signing_keys: 'ok' });
  });

  it('is 503 when Upstash rejects the token', async () => {
    const body = await expectProblem(
      await api('/health', {}, testEnv({ UPSTASH_REDIS_REST_TOKEN: 'wrong-token' })),
      503,
      'DEPENDENCY_UNAVAILABLE',
    );
    expect(body.checks).toEqual({ database: 'ok', redis: 'down', signing_keys: 'ok' });
  });

  it('is 503 naming the signing keys when the private key does not match its public half', async () => {
    const ours = signingKeyOf(bindings.ACCESS_SIGNING_KEYS);
    const theirs = signingKeyOf(bindings.TEST_FOREIGN_SIGNING_KEYS);
    const mismatched = encodeKeySet({ keys: [{ ...theirs, d: ours.d }] });
    const env = testEnv({ ACCESS_SIGNING_KEYS: mismatched });
    const body = await expectProblem(await api('/health', {}, env), 503, 'DEPENDENCY_UNAVAILABLE');
    expect(body.checks).toEqual({ database: 'ok', redis: 'ok', signing_keys: 'down' });
    expect(body.detail).toBe('Unavailable: signing_keys');
    expect(JSON.stringify(body)).not.toContain(ours.d!);
  });
});
