// TOTP as a second factor through the Worker entry: setup and confirm, sign-in with a code or a
// recovery code, replayed, expired and racing codes and challenges, step-up, and what each change does
// to the sessions, links and challenges hanging off the account.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recoveryCodes, sessions, totpFactors } from '../../src/db/schema';
import {
  bearer,
  createUser,
  db,
  expectSignedOut,
  login,
  PASSWORD,
  refreshCookieOf,
  signInTwice,
} from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { codeIn, linkIn, waitForMail, waitForMailWith } from '../support/mailbox';
import { callback, consent, googleIdentity, signInWith, startLogin } from '../support/oauth';
import { expectProblem } from '../support/problem';
import {
  codeAt,
  enableTotp,
  firstFactor,
  mfaTokenFor,
  secondFactor,
  setupTotp,
} from '../support/second-factors';
import { api, serveEnvWith, workerFor } from '../support/worker';

const me = (token: string, env?: Env) => api('/me', { headers: bearer(token) }, env);

/**
 * A user with TOTP on, behind a Worker on a test clock moved one step past the confirming code (which
 * the step rule refuses again): the next usable code is the one at clock.now().
 */
async function withTotp() {
  const clock = fakeClock();
  const env = envWithClock(clock);
  const user = await createUser();
  const enabled = await enableTotp(user.email, { env, at: clock.now() });
  clock.advance(30);
  return { clock, env, user, ...enabled };
}

describe('POST /mfa/totp/setup', () => {
  it('returns a secret an authenticator app reads, and changes nothing at sign-in yet', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const setup = await setupTotp(token);
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.totp.secret.base32).toBe(setup.secret);
    expect(setup.totp).toMatchObject({ issuer: 'edgeauth-test', label: user.email, digits: 6, period: 30 });
    expect(setup.totp.algorithm).toBe('SHA1');
    expect(setup.qr_svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    const { body } = await firstFactor(user.email);
    expect(body.token).toEqual(expect.any(String));
    expect(body.mfa_required).toBeUndefined();
  });

  it('stores the secret sealed, not in clear', async () => {
    const user = await createUser();
    const { secret } = await setupTotp((await login(user.email)).token);
    const [row] = await db().select().from(totpFactors).where(eq(totpFactors.userId, user.id));
    expect(row!.sealedSecret).not.toContain(secret);
    expect(row!.confirmedAt).toBeNull();
  });

  it('a second setup replaces an unconfirmed one: the first secret no longer confirms', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const first = await setupTotp(token);
    await setupTotp(token);
    const response = await api('/mfa/totp/confirm', {
      method: 'POST',
      headers: bearer(token),
      json: { code: codeAt(first.totp) },
    });
    await expectProblem(response, 400, 'INVALID_MFA_CODE');
  });

  it('needs a verified email and refuses while TOTP is on', async () => {
    const unverified = await createUser({ isVerified: false });
    const setup = await api('/mfa/totp/setup', {
      method: 'POST',
      headers: bearer((await login(unverified.email)).token),
    });
    await expectProblem(setup, 403, 'EMAIL_NOT_VERIFIED');
    const user = await createUser();
    const { token } = await enableTotp(user.email);
    const again = await api('/mfa/totp/setup', { method: 'POST', headers: bearer(token) });
    await expectProblem(again, 409, 'MFA_STATE');
  });

  it('needs a bearer token', async () => {
    await expectProblem(await api('/mfa/totp/setup', { method: 'POST' }), 401, 'UNAUTHORIZED');
  });
});

describe('POST /mfa/totp/confirm', () => {
  it('turns TOTP on: ten recovery codes once, other sessions end, this one stays, a notice is sent', async () => {
    const user = await createUser();
    const others = await signInTwice(user.email);
    const { token } = await login(user.email);
    const { totp } = await setupTotp(token);
    const response = await api('/mfa/totp/confirm', {
      method: 'POST',
      headers: bearer(token),
      json: { code: codeAt(totp) },
    });
    expect(response.status).toBe(200);
    const { recovery_codes } = (await response.json()) as { recovery_codes: string[] };
    expect(recovery_codes).toHaveLength(10);
    expect(new Set(recovery_codes).size).toBe(10);
    for (const code of recovery_codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    const stored = await db().select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id));
    expect(stored).toHaveLength(10);
    for (const row of stored) expect(recovery_codes.join(' ')).not.toContain(row.codeHash);

    await expectSignedOut(others);
    const mine = await me(token);
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { mfa: unknown }).mfa).toEqual({ totp: true, passkeys: 0 });
    const notice = await waitForMailWith(user.email, /Two-step sign-in is on/);
    expect(notice.Text).toContain('other devices were signed out');
  });

  it('refuses a wrong code, a malformed one, and a confirm without a setup', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const none = await api('/mfa/totp/confirm', {
      method: 'POST',
      headers: bearer(token),
      json: { code: '123456' },
    });
    await expectProblem(none, 409, 'MFA_STATE');
    const { totp } = await setupTotp(token);
    const wrong = String((Number(codeAt(totp)) + 1) % 1_000_000).padStart(6, '0');
    const bad = await api('/mfa/totp/confirm', {
      method: 'POST',
      headers: bearer(token),
      json: { code: wrong },
    });
    await expectProblem(bad, 400, 'INVALID_MFA_CODE');
    const malformed = await api('/mfa/totp/confirm', {
      method: 'POST',
      headers: bearer(token),
      json: { code: '12ab56' },
    });
    await expectProblem(malformed, 422, 'VALIDATION_FAILED');
    const mine = (await (await me(token)).json()) as { mfa: unknown };
    expect(mine.mfa).toEqual({ totp: false, passkeys: 0 });
  });
});

describe('signing in with TOTP on', () => {
  it('answers /login with a challenge and no token or cookie, then /login/mfa with the session', async () => {
    const { env, clock, user, totp } = await withTotp();
    const { response, body } = await firstFactor(user.email, env);
    expect(Object.keys(body).sort()).toEqual(['methods', 'mfa_required', 'mfa_token']);
    expect(refreshCookieOf(response)).toBeUndefined();

    const done = await secondFactor({ mfa_token: body.mfa_token, code: codeAt(totp, clock.now()) }, env);
    expect(done.status).toBe(200);
    expect(refreshCookieOf(done)).toEqual(expect.any(String));
    const grant = (await done.json()) as { token: string; user: { email: string } };
    expect(grant.user.email).toBe(user.email);
    expect((await me(grant.token, env)).status).toBe(200);
  });

  it('gives native clients the refresh token in the body', async () => {
    const { env, clock, user, totp } = await withTotp();
    const token = await mfaTokenFor(user.email, env);
    const done = await secondFactor({ mfa_token: token, code: codeAt(totp, clock.now()) }, env, {
      'X-Refresh-Token-Transport': 'body',
    });
    expect(done.status).toBe(200);
    expect(refreshCookieOf(done)).toBeUndefined();
    expect(await done.json()).toMatchObject({ refresh_token: expect.any(String), token: expect.any(String) });
  });

  it('refuses a TOTP code accepted once (and any older one), even with a new challenge', async () => {
    const { env, clock, user, totp } = await withTotp();
    const code = codeAt(totp, clock.now());
    const use = async (c: string) =>
      secondFactor({ mfa_token: await mfaTokenFor(user.email, env), code: c }, env);
    expect((await use(code)).status).toBe(200);
    await expectProblem(await use(code), 400, 'INVALID_MFA_CODE');
    await expectProblem(
      await use(codeAt(totp, new Date(clock.now().getTime() - 30_000))),
      400,
      'INVALID_MFA_CODE',
    );
    clock.advance(30);
    expect((await use(codeAt(totp, clock.now()))).status).toBe(200);
  });

  it('takes each recovery code once, normalised, and only for its own account', async () => {
    const user = await createUser();
    const other = await createUser();
    const { recoveryCodes: codes } = await enableTotp(user.email);
    await enableTotp(other.email);
    const foreign = await secondFactor({
      mfa_token: await mfaTokenFor(other.email),
      recovery_code: codes[0],
    });
    await expectProblem(foreign, 400, 'INVALID_MFA_CODE');
    const loose = ` ${codes[0]!.toUpperCase().replace('-', ' ')} `;
    expect(
      (await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: loose })).status,
    ).toBe(200);
    const again = await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: codes[0] });
    await expectProblem(again, 400, 'INVALID_MFA_CODE');
    expect(
      (await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: codes[1] })).status,
    ).toBe(200);
  });

  it('lets a token be tried 5 times, used once, and for 5 minutes', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { totp } = await enableTotp(user.email, { env, at: clock.now() });
    clock.advance(60);

    const tried = await mfaTokenFor(user.email, env);
    for (let i = 0; i < 5; i++) {
      await expectProblem(
        await secondFactor({ mfa_token: tried, code: '000000' }, env),
        400,
        'INVALID_MFA_CODE',
      );
    }
    await expectProblem(
      await secondFactor({ mfa_token: tried, code: codeAt(totp, clock.now()) }, env),
      401,
      'INVALID_MFA_TOKEN',
    );

    const used = await mfaTokenFor(user.email, env);
    expect((await secondFactor({ mfa_token: used, code: codeAt(totp, clock.now()) }, env)).status).toBe(200);
    clock.advance(60);
    await expectProblem(
      await secondFactor({ mfa_token: used, code: codeAt(totp, clock.now()) }, env),
      401,
      'INVALID_MFA_TOKEN',
    );

    const late = await mfaTokenFor(user.email, env);
    clock.advance(5 * 60 + 1);
    await expectProblem(
      await secondFactor({ mfa_token: late, code: codeAt(totp, clock.now()) }, env),
      401,
      'INVALID_MFA_TOKEN',
    );
  });

  it('lets exactly one of two racing requests with one code win', async () => {
    const { env, clock, user, totp } = await withTotp();
    const token = await mfaTokenFor(user.email, env);
    const code = codeAt(totp, clock.now());
    const sameToken = await Promise.all([
      secondFactor({ mfa_token: token, code }, env),
      secondFactor({ mfa_token: token, code }, env),
    ]);
    const statuses = sameToken.map((r) => r.status).sort();
    // The loser finds the code spent (400) or, when it came after the winner finished, the token (401).
    expect(statuses[0]).toBe(200);
    expect([400, 401]).toContain(statuses[1]);

    clock.advance(30);
    const next = codeAt(totp, clock.now());
    const [a, b] = [await mfaTokenFor(user.email, env), await mfaTokenFor(user.email, env)];
    const twoTokens = await Promise.all([
      secondFactor({ mfa_token: a, code: next }, env),
      secondFactor({ mfa_token: b, code: next }, env),
    ]);
    expect(twoTokens.map((r) => r.status).sort()).toEqual([200, 400]);
    const live = await db().select().from(sessions).where(eq(sessions.userId, user.id));
    // The confirming session, and one per winning race.
    expect(live.filter((row) => row.revokedAt === null)).toHaveLength(3);
  });

  it('burns nothing for the losers: racing recovery codes on one token leave the others usable', async () => {
    const user = await createUser();
    const { recoveryCodes: codes } = await enableTotp(user.email);
    const token = await mfaTokenFor(user.email);
    const raced = await Promise.all(
      codes.slice(0, 3).map((code) => secondFactor({ mfa_token: token, recovery_code: code })),
    );
    const statuses = raced.map((r) => r.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    for (const status of statuses) expect([200, 401]).toContain(status);
    const winner = statuses.indexOf(200);
    for (const [i, code] of codes.slice(0, 3).entries()) {
      const again = await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: code });
      expect(again.status).toBe(i === winner ? 400 : 200);
    }
  });

  it('caps wrong codes per account across challenges: after 10 in an hour even the right code waits', async () => {
    const { env, clock, user, totp } = await withTotp();
    for (let i = 0; i < 10; i++) {
      const token = await mfaTokenFor(user.email, env);
      await expectProblem(
        await secondFactor({ mfa_token: token, code: '000000' }, env),
        400,
        'INVALID_MFA_CODE',
      );
    }
    const capped = await secondFactor(
      { mfa_token: await mfaTokenFor(user.email, env), code: codeAt(totp, clock.now()) },
      env,
    );
    const problem = await expectProblem(capped, 429, 'RATE_LIMITED');
    expect(problem.detail).toBe('Too many wrong codes for this account; try again in an hour');
    // Another account is not held by it.
    const other = await withTotp();
    const fine = await secondFactor(
      {
        mfa_token: await mfaTokenFor(other.user.email, other.env),
        code: codeAt(other.totp, other.clock.now()),
      },
      other.env,
    );
    expect(fine.status).toBe(200);
  });

  it('asks for the second factor after a login code too', async () => {
    const { env, clock, user, totp } = await withTotp();
    await api('/request/login-code', { method: 'POST', json: { email: user.email } }, env);
    const code = codeIn(await waitForMailWith(user.email, /code/i));
    const response = await api('/login/code', { method: 'POST', json: { email: user.email, code } }, env);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ mfa_required: true });
    expect(body.token).toBeUndefined();
    const done = await secondFactor({ mfa_token: body.mfa_token, code: codeAt(totp, clock.now()) }, env);
    expect(done.status).toBe(200);
  });

  it('refuses malformed bodies with 422', async () => {
    for (const json of [
      {},
      { mfa_token: 'x'.repeat(43) },
      { mfa_token: 'x'.repeat(43), code: '123456', recovery_code: 'ab3de-fg7hk' },
      { mfa_token: 'x'.repeat(43), code: '12345' },
      { mfa_token: 'short', code: '123456' },
    ]) {
      await expectProblem(await secondFactor(json), 422, 'VALIDATION_FAILED');
    }
    await expectProblem(
      await secondFactor({ mfa_token: 'x'.repeat(43), code: '123456' }),
      401,
      'INVALID_MFA_TOKEN',
    );
  });
});

describe('Google sign-in with TOTP on', () => {
  it('answers the challenge instead of a session, in the body or in the redirect fragment', async () => {
    const { env, clock, user, totp } = await withTotp();
    const identity = googleIdentity(user.email);
    const body = await signInWith('google', identity, env);
    expect(body.status).toBe(200);
    expect(refreshCookieOf(body)).toBeUndefined();
    const challenge = (await body.json()) as Record<string, unknown>;
    expect(challenge).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });

    const spa = { ...env, FRONTEND_URL: 'http://app.edgeauth.test' };
    serveEnvWith(spa, workerFor(env));
    const started = await startLogin('google', `?redirect_to=${encodeURIComponent('/welcome')}`, spa);
    const redirected = await callback(await consent(started, identity), started.cookie, spa);
    expect(redirected.status).toBe(302);
    expect(refreshCookieOf(redirected)).toBeUndefined();
    const location = new URL(redirected.headers.get('location')!);
    expect(`${location.origin}${location.pathname}${location.search}`).toBe(
      'http://app.edgeauth.test/welcome',
    );
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('methods')).toBe('totp,recovery_code');
    const done = await secondFactor(
      { mfa_token: fragment.get('mfa_token'), code: codeAt(totp, clock.now()) },
      env,
    );
    expect(done.status).toBe(200);
  });
});

describe('what other flows do to a pending second step', () => {
  it('a password reset voids a challenge left by the old password', async () => {
    const user = await createUser();
    const { totp } = await enableTotp(user.email);
    const pending = await mfaTokenFor(user.email);
    await api('/forget-password', { method: 'POST', json: { email: user.email } });
    const link = linkIn(await waitForMailWith(user.email, /reset/i), '/reset-password');
    const reset = await api('/new-password', {
      method: 'POST',
      json: { token: link.searchParams.get('token'), password: 'a brand new password 1' },
    });
    expect(reset.status).toBe(200);
    await expectProblem(
      await secondFactor({ mfa_token: pending, code: codeAt(totp) }),
      401,
      'INVALID_MFA_TOKEN',
    );
  });
});

describe('step-up and turning TOTP off', () => {
  it('asks for a recent authentication, then turns TOTP off and its recovery codes with it', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token, recoveryCodes: codes } = await enableTotp(user.email, { env, at: clock.now() });
    clock.advance(601);
    const stale = await api('/mfa/totp', { method: 'DELETE', headers: bearer(token) }, env);
    await expectProblem(stale, 403, 'REAUTHENTICATION_REQUIRED');
    const regen = await api('/mfa/recovery-codes', { method: 'POST', headers: bearer(token) }, env);
    await expectProblem(regen, 403, 'REAUTHENTICATION_REQUIRED');

    const wrong = await api(
      '/reauthenticate',
      { method: 'POST', headers: bearer(token), json: { password: 'nope nope' } },
      env,
    );
    await expectProblem(wrong, 403, 'INCORRECT_PASSWORD');
    const step = await api(
      '/reauthenticate',
      { method: 'POST', headers: bearer(token), json: { password: PASSWORD } },
      env,
    );
    expect(step.status).toBe(200);
    expect(await step.json()).toEqual({
      authenticated_at: clock.now().toISOString(),
      valid_for_seconds: 600,
    });

    const off = await api('/mfa/totp', { method: 'DELETE', headers: bearer(token) }, env);
    expect(off.status).toBe(204);
    expect(await db().select().from(recoveryCodes).where(eq(recoveryCodes.userId, user.id))).toEqual([]);
    const { body } = await firstFactor(user.email, env);
    expect(body.token).toEqual(expect.any(String));
    await expectProblem(
      await api('/mfa/totp', { method: 'DELETE', headers: bearer(token) }, env),
      409,
      'MFA_STATE',
    );
    await waitForMailWith(user.email, /Two-step sign-in is off/);
    expect(codes).toHaveLength(10);
  });

  it('replaces the recovery codes: the old set stops working', async () => {
    const user = await createUser();
    const { token, recoveryCodes: old } = await enableTotp(user.email);
    const response = await api('/mfa/recovery-codes', { method: 'POST', headers: bearer(token) });
    expect(response.status).toBe(200);
    const { recovery_codes: fresh } = (await response.json()) as { recovery_codes: string[] };
    expect(fresh).toHaveLength(10);
    expect(fresh.some((code) => old.includes(code))).toBe(false);
    await expectProblem(
      await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: old[0] }),
      400,
      'INVALID_MFA_CODE',
    );
    expect(
      (await secondFactor({ mfa_token: await mfaTokenFor(user.email), recovery_code: fresh[0] })).status,
    ).toBe(200);
    await waitForMailWith(user.email, /New recovery codes/);
    const none = await createUser();
    const without = await api('/mfa/recovery-codes', {
      method: 'POST',
      headers: bearer((await login(none.email)).token),
    });
    await expectProblem(without, 409, 'MFA_STATE');
  });

  it('reauthenticates with an emailed code, and refuses a wrong one', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token } = await login(user.email, PASSWORD, {}, env);
    clock.advance(601);
    const change = () =>
      api(
        '/change-password',
        {
          method: 'POST',
          headers: bearer(token),
          json: { old_password: PASSWORD, new_password: 'another password 9' },
        },
        env,
      );
    await expectProblem(await change(), 403, 'REAUTHENTICATION_REQUIRED');
    await api('/request/login-code', { method: 'POST', json: { email: user.email } }, env);
    const code = codeIn(await waitForMail(user.email));
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await expectProblem(
      await api('/reauthenticate', { method: 'POST', headers: bearer(token), json: { code: wrong } }, env),
      400,
      'INVALID_LOGIN_CODE',
    );
    const ok = await api('/reauthenticate', { method: 'POST', headers: bearer(token), json: { code } }, env);
    expect(ok.status).toBe(200);
    expect((await change()).status).toBe(200);
  });

  it('refuses a body with both or neither proof', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    for (const json of [{}, { password: PASSWORD, code: '123456' }]) {
      await expectProblem(
        await api('/reauthenticate', { method: 'POST', headers: bearer(token), json }),
        422,
        'VALIDATION_FAILED',
      );
    }
  });
});
