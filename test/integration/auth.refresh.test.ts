// POST /refresh-token: the Origin rule for cookies, both transports, rotation with its grace window,
// reuse detection revoking the session family, expiry, deactivated users, races, and its query cost.
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { refreshTokens, sessions, users } from '../../src/db/schema';
import {
  bearer,
  createUser,
  db,
  PASSWORD,
  REFRESH_TOKEN_SHAPE,
  refreshCookieOf,
  uniqueIp,
} from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { expectProblem } from '../support/problem';
import { api, databaseRoundTrips } from '../support/worker';

const APP_ORIGIN = 'http://app.edgeauth.test';
const GRACE_SECONDS = 30;
const REFRESH_TOKEN_EXPIRE = 2_592_000;
const COOKIE_ATTRIBUTES = `; Max-Age=${REFRESH_TOKEN_EXPIRE}; Path=/refresh-token; HttpOnly; Secure; SameSite=Lax`;

interface Session {
  userId: string;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  ip: string;
}

const sessionIdOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

/** Signs a fresh verified user in; `native` asks for the refresh token in the body instead of a cookie. */
async function signIn({ native = false, env }: { native?: boolean; env?: Env } = {}): Promise<Session> {
  const user = await createUser();
  const ip = uniqueIp();
  const response = await api(
    '/login',
    {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': ip, ...(native ? { 'x-refresh-token-transport': 'body' } : {}) },
    },
    env,
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; refresh_token?: string };
  const refreshToken = native ? body.refresh_token : refreshCookieOf(response);
  if (!refreshToken) throw new Error('login returned no refresh token');
  return { userId: user.id, sessionId: sessionIdOf(body.token), accessToken: body.token, refreshToken, ip };
}

function refreshWithBody(refreshToken: string, { ip = uniqueIp(), env }: { ip?: string; env?: Env } = {}) {
  return api(
    '/refresh-token',
    { method: 'POST', json: { refresh_token: refreshToken }, headers: { 'cf-connecting-ip': ip } },
    env,
  );
}

function refreshWithCookie(
  refreshToken: string,
  { origin, env }: { origin?: string | undefined; env?: Env } = { origin: APP_ORIGIN },
) {
  return api(
    '/refresh-token',
    {
      method: 'POST',
      headers: {
        cookie: `edgeauth_refresh=${refreshToken}`,
        'cf-connecting-ip': uniqueIp(),
        ...(origin === undefined ? {} : { origin }),
      },
    },
    env,
  );
}

/** Asserts a successful body-transport refresh and returns the new tokens. */
async function expectRotatedInBody(response: Response) {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.getSetCookie()).toEqual([]);
  const body = (await response.json()) as { token: string; refresh_token: string };
  expect(body).toEqual({
    token: expect.any(String),
    token_type: 'Bearer',
    expires_in: 900,
    refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
  });
  return { accessToken: body.token, refreshToken: body.refresh_token };
}

const me = (accessToken: string, env?: Env) => api('/me', { headers: bearer(accessToken) }, env);

async function expectRefreshRejected(response: Response) {
  const problem = await expectProblem(response, 401, 'INVALID_REFRESH_TOKEN');
  expect(response.headers.getSetCookie()).toEqual([]);
  return problem;
}

describe('cookie transport needs an allowed Origin', () => {
  it('refuses a cookie refresh without Origin, and the refused token still works afterwards', async () => {
    const session = await signIn();
    const refused = await refreshWithCookie(session.refreshToken, { origin: undefined });
    const problem = await expectProblem(refused, 403, 'ORIGIN_NOT_ALLOWED');
    expect(problem.detail).toBe('Cookie-authenticated requests must come from an allowed Origin');
    expect(refused.headers.getSetCookie()).toEqual([]);

    // A refused request must not have consumed (rotated) the token.
    const allowed = await refreshWithCookie(session.refreshToken, { origin: APP_ORIGIN });
    expect(allowed.status).toBe(200);
  });

  it.each([
    'https://evil.example',
    'null',
    'https://app.edgeauth.test', // right host, wrong scheme
    'http://app.edgeauth.test:8080', // right host, wrong port
    'http://api.edgeauth.test.evil.example', // prefix of an allowed origin
  ])('refuses Origin %s with 403 ORIGIN_NOT_ALLOWED', async (origin) => {
    const session = await signIn();
    const response = await refreshWithCookie(session.refreshToken, { origin });
    await expectProblem(response, 403, 'ORIGIN_NOT_ALLOWED');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it.each([
    ['the front end (CORS_ORIGINS)', APP_ORIGIN],
    ['the API itself (APP_URL)', 'http://api.edgeauth.test'],
  ])('accepts %s and rotates the cookie', async (_, origin) => {
    const session = await signIn();
    const response = await refreshWithCookie(session.refreshToken, { origin });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { token: string };
    expect(body).toEqual({ token: expect.any(String), token_type: 'Bearer', expires_in: 900 });

    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const successor = refreshCookieOf(response);
    expect(successor).toMatch(REFRESH_TOKEN_SHAPE);
    expect(successor).not.toBe(session.refreshToken);
    expect(cookies[0]).toBe(`edgeauth_refresh=${successor}${COOKIE_ATTRIBUTES}`);

    expect(sessionIdOf(body.token)).toBe(session.sessionId);
    const meResponse = await me(body.token);
    expect(meResponse.status).toBe(200);
    expect(await meResponse.json()).toMatchObject({ user: { id: session.userId } });
  });
});

describe('an empty body with Content-Type: application/json counts as no body', () => {
  // What `fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' } })` sends.
  const emptyJsonPost = (headers: Record<string, string>) =>
    api('/refresh-token', {
      method: 'POST',
      body: '',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': uniqueIp(), ...headers },
    });

  it('uses the cookie and rotates it', async () => {
    const session = await signIn();
    const response = await emptyJsonPost({
      cookie: `edgeauth_refresh=${session.refreshToken}`,
      origin: APP_ORIGIN,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { token: string };
    expect(body).toEqual({ token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    const successor = refreshCookieOf(response);
    expect(successor).toMatch(REFRESH_TOKEN_SHAPE);
    expect(successor).not.toBe(session.refreshToken);
    expect(response.headers.getSetCookie()).toEqual([`edgeauth_refresh=${successor}${COOKIE_ATTRIBUTES}`]);
    expect(sessionIdOf(body.token)).toBe(session.sessionId);
  });

  it('still needs an allowed Origin for the cookie', async () => {
    const session = await signIn();
    const response = await emptyJsonPost({ cookie: `edgeauth_refresh=${session.refreshToken}` });
    await expectProblem(response, 403, 'ORIGIN_NOT_ALLOWED');
  });

  it('answers 401 INVALID_REFRESH_TOKEN without a cookie, like no body at all', async () => {
    const problem = await expectRefreshRejected(await emptyJsonPost({ origin: APP_ORIGIN }));
    expect(problem.detail).toBe('Refresh token is missing');
  });

  it('still answers malformed JSON with 400', async () => {
    const response = await api('/refresh-token', {
      method: 'POST',
      body: '{"refresh_token":',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': uniqueIp() },
    });
    await expectProblem(response, 400, 'MALFORMED_REQUEST');
  });
});

describe('body transport (native clients)', () => {
  it('login puts the refresh token in the body and sets no cookie', async () => {
    const user = await createUser();
    const response = await api('/login', {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp(), 'x-refresh-token-transport': 'body' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toMatchObject({
      token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
      user: { id: user.id, email: user.email },
    });
  });

  it('returns the next refresh token in the body, sets no cookie and needs no Origin', async () => {
    const session = await signIn({ native: true });
    const rotated = await expectRotatedInBody(await refreshWithBody(session.refreshToken));
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    expect(sessionIdOf(rotated.accessToken)).toBe(session.sessionId);
    expect((await me(rotated.accessToken)).status).toBe(200);
  });

  it('ignores a refresh token in the query string', async () => {
    const session = await signIn({ native: true });
    const response = await api(`/refresh-token?refresh_token=${session.refreshToken}`, {
      method: 'POST',
      headers: { 'cf-connecting-ip': uniqueIp(), origin: APP_ORIGIN },
    });
    const problem = await expectRefreshRejected(response);
    expect(problem.detail).toBe('Refresh token is missing');
    // Still unused, so it still works from the body.
    await expectRotatedInBody(await refreshWithBody(session.refreshToken));
  });
});

describe('missing and unknown tokens', () => {
  it('answers 401 INVALID_REFRESH_TOKEN without cookie or body', async () => {
    const response = await api('/refresh-token', {
      method: 'POST',
      headers: { 'cf-connecting-ip': uniqueIp(), origin: APP_ORIGIN },
    });
    const problem = await expectRefreshRejected(response);
    expect(problem.detail).toBe('Refresh token is missing');
  });

  it('answers 401 INVALID_REFRESH_TOKEN for an empty JSON body', async () => {
    const response = await api('/refresh-token', {
      method: 'POST',
      json: {},
      headers: { 'cf-connecting-ip': uniqueIp() },
    });
    await expectRefreshRejected(response);
  });

  it('answers 401 for a well-formed but unknown token in the body', async () => {
    const problem = await expectRefreshRejected(await refreshWithBody('A'.repeat(43)));
    expect(problem.detail).toBe('Refresh token is invalid or expired');
  });

  it('answers 401 for an unknown token in the cookie', async () => {
    await expectRefreshRejected(await refreshWithCookie('garbage-garbage-garbage-garbage'));
  });
});

describe('rotation', () => {
  it('the successor works and yields a successor of its own', async () => {
    const session = await signIn({ native: true });
    const first = await expectRotatedInBody(await refreshWithBody(session.refreshToken));
    const second = await expectRotatedInBody(await refreshWithBody(first.refreshToken));
    expect(new Set([session.refreshToken, first.refreshToken, second.refreshToken]).size).toBe(3);
    expect(sessionIdOf(second.accessToken)).toBe(session.sessionId);
  });

  it('the rotated token presented again within the grace window gets the same successor', async () => {
    const session = await signIn({ native: true });
    const first = await expectRotatedInBody(await refreshWithBody(session.refreshToken));
    const again = await expectRotatedInBody(await refreshWithBody(session.refreshToken));
    expect(again.refreshToken).toBe(first.refreshToken);
    // Both access tokens belong to the one session and work.
    expect(sessionIdOf(again.accessToken)).toBe(session.sessionId);
    expect((await me(first.accessToken)).status).toBe(200);
    expect((await me(again.accessToken)).status).toBe(200);
    // The successor is still unused and works.
    await expectRotatedInBody(await refreshWithBody(first.refreshToken));
  });

  it('still answers with the same successor 29 s after the rotation', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const session = await signIn({ native: true, env });
    const first = await expectRotatedInBody(await refreshWithBody(session.refreshToken, { env }));
    clock.advance(GRACE_SECONDS - 1);
    const again = await expectRotatedInBody(await refreshWithBody(session.refreshToken, { env }));
    expect(again.refreshToken).toBe(first.refreshToken);
  });

  it('a rotated token replayed after the grace window revokes the whole session', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const session = await signIn({ native: true, env });
    const otherSession = await signIn({ native: true, env });
    const first = await expectRotatedInBody(await refreshWithBody(session.refreshToken, { env }));

    clock.advance(GRACE_SECONDS + 1);
    const replay = await expectRefreshRejected(await refreshWithBody(session.refreshToken, { env }));
    expect(replay.detail).toBe('This refresh token was already used; the session has been revoked');
    const [revoked] = await db()
      .select({ revokedAt: sessions.revokedAt, revokeReason: sessions.revokeReason })
      .from(sessions)
      .where(eq(sessions.id, session.sessionId));
    expect(revoked).toEqual({ revokedAt: clock.now(), revokeReason: 'refresh_token_reuse' });

    // The legitimate holder's successor dies with the family...
    const successor = await expectRefreshRejected(await refreshWithBody(first.refreshToken, { env }));
    expect(successor.detail).toBe('Refresh token is invalid or expired');
    // ...and so does every access token of the session, old and new.
    for (const accessToken of [session.accessToken, first.accessToken]) {
      const response = await me(accessToken, env);
      await expectProblem(response, 401, 'SESSION_REVOKED');
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
    }
    // Only that session: another session of another sign-in is untouched.
    expect((await me(otherSession.accessToken, env)).status).toBe(200);
    await expectRotatedInBody(await refreshWithBody(otherSession.refreshToken, { env }));
  });

  it('replaying an older generation after the grace window also revokes the session', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const session = await signIn({ native: true, env });
    const first = await expectRotatedInBody(await refreshWithBody(session.refreshToken, { env }));
    clock.advance(60);
    const second = await expectRotatedInBody(await refreshWithBody(first.refreshToken, { env }));
    clock.advance(60);
    await expectRefreshRejected(await refreshWithBody(first.refreshToken, { env }));
    await expectRefreshRejected(await refreshWithBody(second.refreshToken, { env }));
    await expectProblem(await me(second.accessToken, env), 401, 'SESSION_REVOKED');
  });
});

describe('expiry', () => {
  it('refuses a refresh token once REFRESH_TOKEN_EXPIRE has passed', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const session = await signIn({ native: true, env });
    clock.advance(REFRESH_TOKEN_EXPIRE + 1);
    await expectRefreshRejected(await refreshWithBody(session.refreshToken, { env }));
  });

  it('refreshing before expiry extends the session (sliding expiry)', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const session = await signIn({ native: true, env });
    clock.advance(REFRESH_TOKEN_EXPIRE - 60);
    const rotated = await expectRotatedInBody(await refreshWithBody(session.refreshToken, { env }));
    clock.advance(120); // past the first token's expiry, well inside the successor's
    await expectRotatedInBody(await refreshWithBody(rotated.refreshToken, { env }));
  });
});

describe('account and session state', () => {
  it('refuses the refresh of a user deactivated in the database', async () => {
    const session = await signIn({ native: true });
    await db().update(users).set({ isActive: false }).where(eq(users.id, session.userId));
    await expectRefreshRejected(await refreshWithBody(session.refreshToken));
  });

  it('refuses the refresh of a user who deactivated through POST /deactivate', async () => {
    const session = await signIn({ native: true });
    const deactivated = await api('/deactivate', {
      method: 'POST',
      headers: bearer(session.accessToken),
      json: { password: PASSWORD },
    });
    expect(deactivated.status).toBe(200);
    await expectRefreshRejected(await refreshWithBody(session.refreshToken));
  });

  it('refuses the refresh token of a session that logged out', async () => {
    const session = await signIn({ native: true });
    const logout = await api('/logout', { method: 'POST', headers: bearer(session.accessToken) });
    expect(logout.status).toBe(204);
    await expectRefreshRejected(await refreshWithBody(session.refreshToken));
  });
});

describe('concurrency', () => {
  it('20 simultaneous refreshes of one token all get the same successor, stored once', async () => {
    const session = await signIn({ native: true });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refreshWithBody(session.refreshToken, { ip: session.ip })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map(expectRotatedInBody));
    const successors = new Set(bodies.map((body) => body.refreshToken));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect(successor).not.toBe(session.refreshToken);

    const stored = await db()
      .select({ generation: refreshTokens.generation, rotatedAt: refreshTokens.rotatedAt })
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionId, session.sessionId))
      .orderBy(refreshTokens.generation);
    expect(stored).toEqual([
      { generation: 0, rotatedAt: expect.any(Date) },
      { generation: 1, rotatedAt: null },
    ]);

    // Exactly one successor exists, and it works.
    await expectRotatedInBody(await refreshWithBody(successor!));
    const family = await db()
      .select({ generation: refreshTokens.generation })
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionId, session.sessionId));
    expect(family).toHaveLength(3);
  });
});

describe('database round trips', () => {
  it('one refresh costs exactly one round trip', async () => {
    const session = await signIn({ native: true });
    const before = await databaseRoundTrips();
    await expectRotatedInBody(await refreshWithBody(session.refreshToken));
    expect((await databaseRoundTrips()) - before).toBe(1);
  });

  it('GET /me costs exactly one round trip', async () => {
    const session = await signIn({ native: true });
    const before = await databaseRoundTrips();
    expect((await me(session.accessToken)).status).toBe(200);
    expect((await databaseRoundTrips()) - before).toBe(1);
  });
});
