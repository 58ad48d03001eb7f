// The client package (packages/client, from its source) against the Worker: typed openapi-fetch calls
// and the token flow (sign in, refresh once on a 401 and retry, session end, sign out).
import { describe, expect, it, vi } from 'vitest';
import { createEdgeauthClient, EdgeauthError } from '../../packages/client/src/index';
import { createUser, PASSWORD } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { codeAt, enableTotp } from '../support/second-factors';
import { API_ORIGIN, callWorker } from '../support/worker';

/** A body-transport client whose requests reach the Worker with whatever `envOf()` answers then. */
function clientFor(
  envOf: () => Env,
  options: {
    onSessionEnd?: () => void;
    refreshTokenStore?: { get(): string | null; set(token: string | null): void };
  } = {},
) {
  return createEdgeauthClient({
    baseUrl: API_ORIGIN,
    transport: 'body',
    fetch: (request) => callWorker(request, envOf()),
    ...options,
  });
}

/** A signed-in client whose access token has just expired (the clock moved past its 900 seconds). */
async function clientWithExpiredToken() {
  const clock = fakeClock();
  const user = await createUser();
  const env = envWithClock(clock);
  const client = clientFor(() => env);
  await client.login(user.email, PASSWORD);
  const expiredToken = client.accessToken;
  clock.advance(901);
  return { client, expiredToken };
}

describe('createEdgeauthClient', () => {
  it('signs in and makes typed calls with the access token', async () => {
    const user = await createUser();
    const env = envWithClock(fakeClock());
    const client = clientFor(() => env);
    const signedIn = await client.login(user.email, PASSWORD);
    if ('mfa_required' in signedIn) throw new Error('no second factor was set up');
    expect(signedIn.refresh_token).toEqual(expect.any(String));
    expect(signedIn.user.email).toBe(user.email);
    const me = await client.api.GET('/me');
    expect(me.response.status).toBe(200);
    expect(me.data?.user.email).toBe(user.email);
    const plans = await client.api.GET('/billing/plans');
    expect(plans.response.status).toBe(200);
    expect(plans.data).toEqual(expect.any(Array));
  });

  it('refreshes once when the access token expired, then retries the call', async () => {
    const { client, expiredToken } = await clientWithExpiredToken();
    const [first, second] = await Promise.all([client.api.GET('/me'), client.api.GET('/sessions')]);
    expect(first.response.status).toBe(200);
    expect(second.response.status).toBe(200);
    expect(client.accessToken).not.toBe(expiredToken);
  });

  it('retries a call with a body after the refresh, body intact', async () => {
    const { client } = await clientWithExpiredToken();
    // The password in the body must survive the retry: a lost body would be a 422, a wrong one a 403.
    const confirmed = await client.api.POST('/reauthenticate', { body: { password: PASSWORD } });
    expect(confirmed.response.status).toBe(200);
    const changed = await client.api.POST('/change-password', {
      body: { old_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(changed.response.status).toBe(200);
  });

  it('ends the session when the refresh is refused', async () => {
    const user = await createUser();
    const onSessionEnd = vi.fn();
    const env = envWithClock(fakeClock());
    const client = clientFor(() => env, { onSessionEnd });
    await client.login(user.email, PASSWORD);
    expect((await client.api.POST('/logout-all')).response.status).toBe(204);
    const me = await client.api.GET('/me');
    expect(me.response.status).toBe(401);
    expect(onSessionEnd).toHaveBeenCalledTimes(1);
    expect(client.accessToken).toBeNull();
  });

  it('keeps the session through a refresh that fails for a passing reason (503, 429), and uses it later', async () => {
    const clock = fakeClock();
    const user = await createUser();
    const onSessionEnd = vi.fn();
    let env = envWithClock(clock);
    const client = clientFor(() => env, { onSessionEnd });
    await client.login(user.email, PASSWORD);
    clock.advance(901);

    // Redis down: /refresh-token answers 503; the call keeps its 401, the session survives.
    env = envWithClock(clock, { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    expect((await client.api.GET('/me')).response.status).toBe(401);
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
    expect((await client.api.GET('/me')).response.status).toBe(200);
  });

  it('logs out: the session is revoked and nothing is left to resume', async () => {
    const user = await createUser();
    const env = envWithClock(fakeClock());
    const client = clientFor(() => env);
    await client.login(user.email, PASSWORD);
    await client.logout();
    expect(client.accessToken).toBeNull();
    expect((await client.api.GET('/me')).response.status).toBe(401);
    expect(await client.resume()).toBe(false);
  });

  it('reports a failed sign-in as an EdgeauthError carrying the problem', async () => {
    const env = envWithClock(fakeClock());
    const client = clientFor(() => env);
    const error = await client.login('nobody@example.com', 'wrong password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EdgeauthError);
    expect((error as EdgeauthError).status).toBe(401);
    expect((error as EdgeauthError).problem).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });
});

describe('resume and logout across a reload', () => {
  /** A refresh-token store that outlives one client, as storage outlives a page or an app start. */
  function persistentStore() {
    let value: string | null = null;
    return {
      get: () => value,
      set: (token: string | null) => {
        value = token;
      },
    };
  }

  it('resume() answers false for nobody signed in and does not call onSessionEnd (a sign-in page may call it)', async () => {
    const env = envWithClock(fakeClock());
    const onSessionEnd = vi.fn();
    const store = persistentStore();
    store.set('not-a-session.token.tag');
    const client = clientFor(() => env, { onSessionEnd, refreshTokenStore: store });
    await expect(client.resume()).resolves.toBe(false);
    expect(onSessionEnd).not.toHaveBeenCalled();
    expect(store.get()).toBeNull();
  });

  it('logout() right after a reload ends the session at the API, not only in memory', async () => {
    const env = envWithClock(fakeClock());
    const user = await createUser();
    const store = persistentStore();
    await clientFor(() => env, { refreshTokenStore: store }).login(user.email, PASSWORD);
    const refreshToken = store.get();
    expect(refreshToken).toEqual(expect.any(String));

    const reloaded = clientFor(() => env, { refreshTokenStore: store });
    await reloaded.logout();
    expect(store.get()).toBeNull();
    // The session is over at the API: even the token from before the reload is refused.
    const probe = await callWorker(
      new Request(`${API_ORIGIN}/refresh-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-refresh-token-transport': 'body' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      }),
      env,
    );
    expect(probe.status).toBe(401);
  });

  it('signs in to an account with TOTP on in two steps: login() hands back the challenge, completeMfa() the session', async () => {
    const user = await createUser();
    const clock = fakeClock();
    const env = envWithClock(clock);
    const { totp } = await enableTotp(user.email, { env, at: clock.now() });
    clock.advance(30);
    const client = clientFor(() => env);
    const challenge = await client.login(user.email, PASSWORD);
    expect(challenge).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
    expect(client.accessToken).toBeNull();
    if (!('mfa_required' in challenge)) throw new Error('expected the second-factor challenge');
    const wrong = await client.completeMfa(challenge.mfa_token, { code: '000000' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(EdgeauthError);
    expect((wrong as EdgeauthError).status).toBe(400);
    const grant = await client.completeMfa(challenge.mfa_token, { code: codeAt(totp, clock.now()) });
    expect(grant.user.email).toBe(user.email);
    expect(client.accessToken).toBe(grant.token);
    const me = await client.api.GET('/me');
    expect(me.data?.mfa).toEqual({ totp: true, passkeys: 0 });
  });
});
