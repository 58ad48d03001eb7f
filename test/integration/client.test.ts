// The typed client (src/client.ts) against the Worker: Hono RPC calls and the token flow.
import { describe, expect, it, vi } from 'vitest';
import { createEdgeauthClient, EdgeauthError } from '../../src/client';
import { createUser, PASSWORD } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { API_ORIGIN, callWorker } from '../support/worker';

function clientFor(env: Env, options: { onSessionEnd?: () => void } = {}) {
  return createEdgeauthClient({
    baseUrl: API_ORIGIN,
    transport: 'body',
    fetch: (input, init) => callWorker(new Request(input, init as RequestInit), env),
    ...options,
  });
}

describe('createEdgeauthClient', () => {
  it('signs in and makes typed calls with the access token', async () => {
    const user = await createUser();
    const client = clientFor(envWithClock(fakeClock()));
    const signedIn = await client.login(user.email, PASSWORD);
    expect(signedIn.refresh_token).toEqual(expect.any(String));
    const me = await client.api.me.$get();
    expect(me.status).toBe(200);
    const body = await me.json();
    expect(body.user.email).toBe(user.email);
    const plans = await client.api.billing.plans.$get();
    expect(plans.status).toBe(200);
  });

  it('refreshes once when the access token expired, then retries the call', async () => {
    const clock = fakeClock();
    const user = await createUser();
    const client = clientFor(envWithClock(clock));
    await client.login(user.email, PASSWORD);
    const before = client.accessToken;
    clock.advance(901);
    const [first, second] = await Promise.all([client.api.me.$get(), client.api.sessions.$get()]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(client.accessToken).not.toBe(before);
  });

  it('ends the session when the refresh is refused', async () => {
    const user = await createUser();
    const onSessionEnd = vi.fn();
    const client = clientFor(envWithClock(fakeClock()), { onSessionEnd });
    await client.login(user.email, PASSWORD);
    expect((await client.api['logout-all'].$post()).status).toBe(204);
    const me = await client.api.me.$get();
    expect(me.status).toBe(401);
    expect(onSessionEnd).toHaveBeenCalledTimes(1);
    expect(client.accessToken).toBeNull();
  });

  it('keeps the session through a refresh that fails for a passing reason (503, 429), and uses it later', async () => {
    const clock = fakeClock();
    const user = await createUser();
    const onSessionEnd = vi.fn();
    let env = envWithClock(clock);
    const client = createEdgeauthClient({
      baseUrl: API_ORIGIN,
      transport: 'body',
      fetch: (input, init) => callWorker(new Request(input, init as RequestInit), env),
      onSessionEnd,
    });
    await client.login(user.email, PASSWORD);
    clock.advance(901);

    // Redis down: /refresh-token answers 503; the call keeps its 401, the session survives.
    env = envWithClock(clock, { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    expect((await client.api.me.$get()).status).toBe(401);
    const error = await client.resume().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeauthError);
    expect((error as EdgeauthError).status).toBe(503);

    // Over the per-session refresh limit: 429, still not the end.
    env = envWithClock(clock, { REFRESH_RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_SECONDS: '3600' });
    expect(await client.resume()).toBe(true);
    expect(((await client.resume().catch((e: unknown) => e)) as EdgeauthError).status).toBe(429);
    expect(onSessionEnd).not.toHaveBeenCalled();

    env = envWithClock(clock);
    expect(await client.resume()).toBe(true);
    expect((await client.api.me.$get()).status).toBe(200);
  });

  it('logs out: the session is revoked and nothing is left to resume', async () => {
    const user = await createUser();
    const client = clientFor(envWithClock(fakeClock()));
    await client.login(user.email, PASSWORD);
    await client.logout();
    expect(client.accessToken).toBeNull();
    expect((await client.api.me.$get()).status).toBe(401);
    expect(await client.resume()).toBe(false);
  });

  it('reports a failed sign-in as an EdgeauthError carrying the problem', async () => {
    const client = clientFor(envWithClock(fakeClock()));
    const error = await client.login('nobody@example.com', 'wrong password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeauthError);
    expect((error as EdgeauthError).status).toBe(401);
    expect((error as EdgeauthError).problem).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });
});
