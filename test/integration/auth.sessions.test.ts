// The user's view of their sessions: GET /sessions, DELETE /sessions/{id}, POST /logout, POST /logout-all.
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema';
import { bearer, createUser, db, PASSWORD, uniqueIp } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { expectProblem } from '../support/problem';
import { api, databaseRoundTrips } from '../support/worker';

const REFRESH_TOKEN_EXPIRE_MS = 2_592_000 * 1000;
const CLEARED_COOKIE = 'edgeauth_refresh=; Max-Age=0; Path=/refresh-token; HttpOnly; Secure; SameSite=Lax';

interface SignedIn {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  ip: string;
}

/** Signs `email` in as a native client (refresh token in the body), from its own IP and user agent. */
async function signIn(
  email: string,
  { userAgent = 'edgeauth-tests/1.0', env }: { userAgent?: string; env?: Env } = {},
) {
  const ip = uniqueIp();
  const response = await api(
    '/login',
    {
      method: 'POST',
      json: { email, password: PASSWORD },
      headers: { 'cf-connecting-ip': ip, 'user-agent': userAgent, 'x-refresh-token-transport': 'body' },
    },
    env,
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; refresh_token: string };
  const signedIn: SignedIn = {
    sessionId: decodeJwt(body.token).sid as string,
    accessToken: body.token,
    refreshToken: body.refresh_token,
    ip,
  };
  return signedIn;
}

const listSessions = (accessToken: string, env?: Env) =>
  api('/sessions', { headers: bearer(accessToken) }, env);

const revokeSession = (accessToken: string, id: string) =>
  api(`/sessions/${id}`, { method: 'DELETE', headers: bearer(accessToken) });

const refresh = (refreshToken: string, env?: Env) =>
  api(
    '/refresh-token',
    { method: 'POST', json: { refresh_token: refreshToken }, headers: { 'cf-connecting-ip': uniqueIp() } },
    env,
  );

const me = (accessToken: string) => api('/me', { headers: bearer(accessToken) });

async function liveSessionIds(accessToken: string): Promise<string[]> {
  const response = await listSessions(accessToken);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { sessions: { id: string }[] };
  return body.sessions.map((session) => session.id);
}

async function revokeReasonOf(sessionId: string) {
  const [row] = await db()
    .select({ reason: sessions.revokeReason })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  return row?.reason;
}

/** The session can no longer be used: its access token is refused and its refresh token too. */
async function expectSessionDead(session: SignedIn) {
  await expectProblem(await me(session.accessToken), 401, 'SESSION_REVOKED');
  await expectProblem(await refresh(session.refreshToken), 401, 'INVALID_REFRESH_TOKEN');
}

async function expectSessionLive(session: SignedIn) {
  expect((await me(session.accessToken)).status).toBe(200);
}

async function expectNoContent(response: Response) {
  expect(response.status).toBe(204);
  expect(await response.text()).toBe('');
}

describe('GET /sessions', () => {
  it('lists the live sessions, most recently used first, marking only the caller’s as current', async () => {
    const start = new Date('2031-03-04T05:06:07.089Z');
    const clock = fakeClock(start);
    const env = envWithClock(clock);
    const user = await createUser();
    const laptop = await signIn(user.email, { userAgent: 'Laptop/1.0', env });
    clock.advance(10);
    const phone = await signIn(user.email, { userAgent: 'Phone/2.0', env });
    clock.advance(5);

    const at = (seconds: number) => new Date(start.getTime() + seconds * 1000).toISOString();
    const expiresAt = (seconds: number) =>
      new Date(start.getTime() + seconds * 1000 + REFRESH_TOKEN_EXPIRE_MS).toISOString();
    const laptopView = {
      id: laptop.sessionId,
      created_at: at(0),
      last_used_at: at(0),
      expires_at: expiresAt(0),
      user_agent: 'Laptop/1.0',
      ip_address: laptop.ip,
    };
    const phoneView = {
      id: phone.sessionId,
      created_at: at(10),
      last_used_at: at(10),
      expires_at: expiresAt(10),
      user_agent: 'Phone/2.0',
      ip_address: phone.ip,
    };

    const fromLaptop = await listSessions(laptop.accessToken, env);
    expect(fromLaptop.status).toBe(200);
    expect(fromLaptop.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await fromLaptop.json()).toEqual({
      sessions: [
        { ...phoneView, current: false },
        { ...laptopView, current: true },
      ],
    });

    const fromPhone = await listSessions(phone.accessToken, env);
    expect(await fromPhone.json()).toEqual({
      sessions: [
        { ...phoneView, current: true },
        { ...laptopView, current: false },
      ],
    });
  });

  it('moves a session to the top when it is refreshed, with its new last use and expiry', async () => {
    const start = new Date('2031-06-01T00:00:00.000Z');
    const clock = fakeClock(start);
    const env = envWithClock(clock);
    const user = await createUser();
    const first = await signIn(user.email, { env });
    clock.advance(10);
    const second = await signIn(user.email, { env });
    clock.advance(10);
    expect((await refresh(first.refreshToken, env)).status).toBe(200);

    const response = await listSessions(second.accessToken, env);
    const body = (await response.json()) as { sessions: Record<string, unknown>[] };
    expect(body.sessions.map((session) => session.id)).toEqual([first.sessionId, second.sessionId]);
    expect(body.sessions[0]).toMatchObject({
      created_at: start.toISOString(),
      last_used_at: clock.now().toISOString(),
      expires_at: new Date(clock.now().getTime() + REFRESH_TOKEN_EXPIRE_MS).toISOString(),
    });
  });

  it('lists neither other users’ sessions nor revoked ones', async () => {
    const user = await createUser();
    const other = await createUser();
    const mine = await signIn(user.email);
    const loggedOut = await signIn(user.email);
    await signIn(other.email);
    await expectNoContent(await api('/logout', { method: 'POST', headers: bearer(loggedOut.accessToken) }));

    expect(await liveSessionIds(mine.accessToken)).toEqual([mine.sessionId]);
  });
});

describe('DELETE /sessions/{id}', () => {
  it('revokes another session of the caller: its refresh and access tokens stop working', async () => {
    const user = await createUser();
    const caller = await signIn(user.email);
    const other = await signIn(user.email);

    await expectNoContent(await revokeSession(caller.accessToken, other.sessionId));

    await expectSessionDead(other);
    expect(await revokeReasonOf(other.sessionId)).toBe('revoked_by_user');
    await expectSessionLive(caller);
    expect(await liveSessionIds(caller.accessToken)).toEqual([caller.sessionId]);
  });

  it('can revoke the caller’s own session', async () => {
    const user = await createUser();
    const caller = await signIn(user.email);
    await expectNoContent(await revokeSession(caller.accessToken, caller.sessionId));
    await expectSessionDead(caller);
  });

  it('answers 404 NOT_FOUND for an unknown id', async () => {
    const user = await createUser();
    const caller = await signIn(user.email);
    const problem = await expectProblem(
      await revokeSession(caller.accessToken, crypto.randomUUID()),
      404,
      'NOT_FOUND',
    );
    expect(problem.detail).toBe('No live session with this id');
  });

  it('answers 404 for a session that is already revoked', async () => {
    const user = await createUser();
    const caller = await signIn(user.email);
    const other = await signIn(user.email);
    await expectNoContent(await revokeSession(caller.accessToken, other.sessionId));
    await expectProblem(await revokeSession(caller.accessToken, other.sessionId), 404, 'NOT_FOUND');
  });

  it('answers 404 for another user’s session, which stays live', async () => {
    const caller = await signIn((await createUser()).email);
    const victim = await signIn((await createUser()).email);

    const problem = await expectProblem(
      await revokeSession(caller.accessToken, victim.sessionId),
      404,
      'NOT_FOUND',
    );
    // The same answer as for an id that does not exist: nothing reveals that the session is real.
    expect(problem.detail).toBe('No live session with this id');

    await expectSessionLive(victim);
    expect(await revokeReasonOf(victim.sessionId)).toBeNull();
    expect((await refresh(victim.refreshToken)).status).toBe(200);
  });

  it('answers 422 VALIDATION_FAILED for an id that is not a UUID', async () => {
    const caller = await signIn((await createUser()).email);
    const problem = await expectProblem(
      await revokeSession(caller.accessToken, 'not-a-uuid'),
      422,
      'VALIDATION_FAILED',
    );
    expect(problem.errors).toEqual([{ path: 'id', message: expect.any(String) }]);
  });
});

describe('POST /logout', () => {
  it('revokes the current session only and clears the refresh cookie', async () => {
    const user = await createUser();
    const current = await signIn(user.email);
    const other = await signIn(user.email);

    const response = await api('/logout', { method: 'POST', headers: bearer(current.accessToken) });
    await expectNoContent(response);
    expect(response.headers.getSetCookie()).toEqual([CLEARED_COOKIE]);

    await expectSessionDead(current);
    expect(await revokeReasonOf(current.sessionId)).toBe('logout');
    await expectSessionLive(other);
    expect(await liveSessionIds(other.accessToken)).toEqual([other.sessionId]);
  });
});

describe('POST /logout-all', () => {
  it('revokes every session of the user, clears the cookie, and leaves other users alone', async () => {
    const user = await createUser();
    const caller = await signIn(user.email);
    const laptop = await signIn(user.email);
    const phone = await signIn(user.email);
    const stranger = await signIn((await createUser()).email);

    const response = await api('/logout-all', { method: 'POST', headers: bearer(caller.accessToken) });
    await expectNoContent(response);
    expect(response.headers.getSetCookie()).toEqual([CLEARED_COOKIE]);

    for (const session of [caller, laptop, phone]) {
      await expectSessionDead(session);
      expect(await revokeReasonOf(session.sessionId)).toBe('logout_all');
    }
    await expectSessionLive(stranger);

    // Signing in again starts a fresh, sole session.
    const fresh = await signIn(user.email);
    expect(await liveSessionIds(fresh.accessToken)).toEqual([fresh.sessionId]);
  });
});

describe('sign-outs in one database round trip', () => {
  const roundTripsOf = async (call: () => Promise<Response>) => {
    const before = await databaseRoundTrips();
    const response = await call();
    return { status: response.status, roundTrips: (await databaseRoundTrips()) - before };
  };

  it('logout, logout-all and revoking a session each take one round trip', async () => {
    const user = await createUser();
    const [a, b, c] = [await signIn(user.email), await signIn(user.email), await signIn(user.email)];
    const revoke = () =>
      api(`/sessions/${b.sessionId}`, { method: 'DELETE', headers: bearer(a.accessToken) });
    expect(await roundTripsOf(revoke)).toEqual({ status: 204, roundTrips: 1 });
    expect(
      await roundTripsOf(() => api('/logout', { method: 'POST', headers: bearer(c.accessToken) })),
    ).toEqual({
      status: 204,
      roundTrips: 1,
    });
    const all = () => api('/logout-all', { method: 'POST', headers: bearer(a.accessToken) });
    expect(await roundTripsOf(all)).toEqual({ status: 204, roundTrips: 1 });
  });

  it('writes nothing for a token whose session has ended or whose user is disabled', async () => {
    const user = await createUser();
    const ended = await signIn(user.email);
    const live = await signIn(user.email);
    await expectNoContent(await api('/logout', { method: 'POST', headers: bearer(ended.accessToken) }));
    // The ended session's access token is still a valid JWT: it must not sign the others out.
    await expectProblem(
      await api('/logout-all', { method: 'POST', headers: bearer(ended.accessToken) }),
      401,
      'SESSION_REVOKED',
    );
    await expectProblem(
      await api(`/sessions/${live.sessionId}`, { method: 'DELETE', headers: bearer(ended.accessToken) }),
      401,
      'SESSION_REVOKED',
    );
    await expectSessionLive(live);
    expect(await revokeReasonOf(ended.sessionId)).toBe('logout');
  });
});
