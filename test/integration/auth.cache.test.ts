// The auth cache (AUTH_CACHE_TTL_SECONDS) through the Worker entry, on a test clock. Two Workers built
// with createWorker() stand for two isolates: each has its own cache, both share the database. Every kind
// of revocation takes effect at once in the isolate that performed it, and in the other one no later than
// the TTL; at 0 the other one refuses at once too. Authenticated GETs cost no database round trip while
// their entry is fresh, and a user's own write is visible to their next read in the same isolate.
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, createUser, PASSWORD, uniqueIp } from '../support/accounts';
import { envWithClock, type FakeClock, fakeClock } from '../support/clock';
import { linkIn, waitForMailWith } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { codeAt, setupTotp } from '../support/second-factors';
import { api, databaseRoundTrips } from '../support/worker';

const TTL = 5;

interface Isolates {
  clock: FakeClock;
  /** Performs the change. */
  a: Env;
  /** Only reads. */
  b: Env;
}

function twoIsolates(ttlSeconds = TTL): Isolates {
  const clock = fakeClock();
  const settings = { AUTH_CACHE_TTL_SECONDS: String(ttlSeconds) };
  return { clock, a: envWithClock(clock, settings), b: envWithClock(clock, settings) };
}

async function signIn(email: string, env: Env) {
  const response = await api(
    '/login',
    {
      method: 'POST',
      json: { email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp(), 'x-refresh-token-transport': 'body' },
    },
    env,
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; refresh_token: string };
  return { token: body.token, sessionId: decodeJwt(body.token).sid as string };
}

const me = (token: string, env: Env) => api('/me', { headers: bearer(token) }, env);

/** A user with two sessions, the victim's read once in each isolate so both hold it. */
async function warmed(isolates: Isolates) {
  const user = await createUser();
  const victim = await signIn(user.email, isolates.a);
  const actor = await signIn(user.email, isolates.a);
  for (const env of [isolates.a, isolates.b]) expect((await me(victim.token, env)).status).toBe(200);
  return { user, victim, actor };
}

type Warmed = Awaited<ReturnType<typeof warmed>>;

interface Revocation {
  name: string;
  revoke(w: Warmed, env: Env, clock: FakeClock): Promise<void>;
  /** How the victim's token is refused afterwards. */
  refused: [number, string];
}

const expectStatus = async (response: Promise<Response>, status: number) => {
  const answered = await response;
  expect(answered.status, await answered.clone().text()).toBe(status);
};

const REVOCATIONS: Revocation[] = [
  {
    name: 'logout',
    revoke: (w, env) =>
      expectStatus(api('/logout', { method: 'POST', headers: bearer(w.victim.token) }, env), 204),
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'logout-all',
    revoke: (w, env) =>
      expectStatus(api('/logout-all', { method: 'POST', headers: bearer(w.actor.token) }, env), 204),
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'session delete',
    revoke: (w, env) =>
      expectStatus(
        api(`/sessions/${w.victim.sessionId}`, { method: 'DELETE', headers: bearer(w.actor.token) }, env),
        204,
      ),
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'password change',
    revoke: (w, env) =>
      expectStatus(
        api(
          '/change-password',
          {
            method: 'POST',
            headers: bearer(w.actor.token),
            json: { old_password: PASSWORD, new_password: 'an entirely new passphrase' },
          },
          env,
        ),
        200,
      ),
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'password reset',
    async revoke(w, env) {
      await expectStatus(
        api('/forget-password', { method: 'POST', json: { email: w.user.email } }, env),
        202,
      );
      const token = linkIn(await waitForMailWith(w.user.email, /reset/i), '/reset-password').searchParams.get(
        'token',
      );
      await expectStatus(
        api(
          '/new-password',
          { method: 'POST', json: { token, password: 'an entirely new passphrase' } },
          env,
        ),
        200,
      );
    },
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'deactivation',
    revoke: (w, env) =>
      expectStatus(
        api(
          '/deactivate',
          { method: 'POST', headers: bearer(w.actor.token), json: { password: PASSWORD } },
          env,
        ),
        200,
      ),
    refused: [401, 'SESSION_REVOKED'],
  },
  {
    name: 'MFA change (TOTP turned on)',
    async revoke(w, env, clock) {
      const { totp } = await setupTotp(w.actor.token, env);
      await expectStatus(
        api(
          '/mfa/totp/confirm',
          { method: 'POST', headers: bearer(w.actor.token), json: { code: codeAt(totp, clock.now()) } },
          env,
        ),
        200,
      );
    },
    refused: [401, 'SESSION_REVOKED'],
  },
];

describe('revocation with the auth cache on (AUTH_CACHE_TTL_SECONDS=5)', () => {
  for (const kind of REVOCATIONS) {
    it(`${kind.name}: refused at once where it happened, and elsewhere within the TTL`, async () => {
      const isolates = twoIsolates();
      const w = await warmed(isolates);
      await kind.revoke(w, isolates.a, isolates.clock);
      const [status, code] = kind.refused;

      await expectProblem(await me(w.victim.token, isolates.a), status, code);
      // The other isolate still holds its copy, read before the change, for less than the TTL...
      isolates.clock.advance(TTL - 1);
      expect((await me(w.victim.token, isolates.b)).status).toBe(200);
      // ...and no longer.
      isolates.clock.advance(1);
      await expectProblem(await me(w.victim.token, isolates.b), status, code);
    });
  }
});

describe('revocation with the auth cache off (AUTH_CACHE_TTL_SECONDS=0)', () => {
  for (const kind of REVOCATIONS) {
    it(`${kind.name}: refused at once in every isolate`, async () => {
      const isolates = twoIsolates(0);
      const w = await warmed(isolates);
      await kind.revoke(w, isolates.a, isolates.clock);
      const [status, code] = kind.refused;
      await expectProblem(await me(w.victim.token, isolates.a), status, code);
      await expectProblem(await me(w.victim.token, isolates.b), status, code);
    });
  }
});

describe('database round trips of authenticated reads', () => {
  const reads = ['/me', '/sessions'];

  it('a hot session reads with none while its entry is fresh, then one to renew it', async () => {
    const { clock, a } = twoIsolates();
    const user = await createUser();
    const { token } = await signIn(user.email, a);
    for (const path of reads) {
      const before = await databaseRoundTrips();
      expect((await api(path, { headers: bearer(token) }, a)).status).toBe(200);
      expect(await databaseRoundTrips()).toBe(before + 1);
      for (let i = 0; i < 3; i++) expect((await api(path, { headers: bearer(token) }, a)).status).toBe(200);
      expect(await databaseRoundTrips()).toBe(before + 1);
    }
    clock.advance(TTL);
    const before = await databaseRoundTrips();
    expect((await me(token, a)).status).toBe(200);
    expect(await databaseRoundTrips()).toBe(before + 1);
  });

  it('asks the database on every read at AUTH_CACHE_TTL_SECONDS=0', async () => {
    const { a } = twoIsolates(0);
    const user = await createUser();
    const { token } = await signIn(user.email, a);
    const before = await databaseRoundTrips();
    for (let i = 0; i < 3; i++) expect((await me(token, a)).status).toBe(200);
    expect(await databaseRoundTrips()).toBe(before + 3);
  });

  it('never serves a write from the cache: each POST checks the session in the database', async () => {
    const { a } = twoIsolates();
    const user = await createUser();
    const { token } = await signIn(user.email, a);
    expect((await me(token, a)).status).toBe(200);
    const before = await databaseRoundTrips();
    await expectStatus(api('/logout', { method: 'POST', headers: bearer(token) }, a), 204);
    expect(await databaseRoundTrips()).toBe(before + 1);
  });
});

describe('account data under the same bound', () => {
  const sessionIds = async (token: string, env: Env) => {
    const response = await api('/sessions', { headers: bearer(token) }, env);
    expect(response.status).toBe(200);
    return ((await response.json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id).sort();
  };

  it('a user’s own write shows in their next read in that isolate; elsewhere within the TTL', async () => {
    const isolates = twoIsolates();
    const { a, b, clock } = isolates;
    const w = await warmed(isolates);
    const both = [w.victim.sessionId, w.actor.sessionId].sort();
    expect(await sessionIds(w.actor.token, a)).toEqual(both);
    expect(await sessionIds(w.actor.token, b)).toEqual(both);

    await expectStatus(
      api(`/sessions/${w.victim.sessionId}`, { method: 'DELETE', headers: bearer(w.actor.token) }, a),
      204,
    );
    expect(await sessionIds(w.actor.token, a)).toEqual([w.actor.sessionId]);
    clock.advance(TTL - 1);
    expect(await sessionIds(w.actor.token, b)).toEqual(both);
    clock.advance(1);
    expect(await sessionIds(w.actor.token, b)).toEqual([w.actor.sessionId]);
  });

  it('Cache-Control: no-cache reads the database in any isolate, and renews the entry there', async () => {
    const isolates = twoIsolates();
    const { a, b } = isolates;
    const w = await warmed(isolates);
    const both = [w.victim.sessionId, w.actor.sessionId].sort();
    expect(await sessionIds(w.actor.token, b)).toEqual(both);
    await expectStatus(
      api(`/sessions/${w.victim.sessionId}`, { method: 'DELETE', headers: bearer(w.actor.token) }, a),
      204,
    );
    // Without the header, b still serves its copy (within the TTL); with it, b asks the database.
    expect(await sessionIds(w.actor.token, b)).toEqual(both);
    const noCache = { ...bearer(w.actor.token), 'cache-control': 'max-age=0, no-cache' };
    const fresh = await api('/sessions', { headers: noCache }, b);
    expect(((await fresh.json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual([
      w.actor.sessionId,
    ]);
    expect(await sessionIds(w.actor.token, b)).toEqual([w.actor.sessionId]);
    // The revoked session's own check too.
    expect((await me(w.victim.token, b)).status).toBe(200);
    const refused = await api(
      '/me',
      { headers: { ...bearer(w.victim.token), 'cache-control': 'no-cache' } },
      b,
    );
    await expectProblem(refused, 401, 'SESSION_REVOKED');
  });

  it('GET /me shows TOTP turned on at once in the isolate that turned it on', async () => {
    const { a, clock } = twoIsolates();
    const user = await createUser();
    const { token } = await signIn(user.email, a);
    const mfaOf = async () => ((await (await me(token, a)).json()) as { mfa: { totp: boolean } }).mfa.totp;
    expect(await mfaOf()).toBe(false);
    const { totp } = await setupTotp(token, a);
    await expectStatus(
      api(
        '/mfa/totp/confirm',
        { method: 'POST', headers: bearer(token), json: { code: codeAt(totp, clock.now()) } },
        a,
      ),
      200,
    );
    expect(await mfaOf()).toBe(true);
  });

  it('a new sign-in shows in GET /sessions at once in the isolate it happened in', async () => {
    const { a } = twoIsolates();
    const user = await createUser();
    const first = await signIn(user.email, a);
    expect(await sessionIds(first.token, a)).toEqual([first.sessionId]);
    const second = await signIn(user.email, a);
    expect(await sessionIds(first.token, a)).toEqual([first.sessionId, second.sessionId].sort());
  });
});
