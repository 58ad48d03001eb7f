// Account pre-hijacking: a squatter registers someone else's address with a password of their own and
// signs in. The first proof of the mailbox (link, code, Google, GitHub, reset) must leave the squatter
// nothing: no session, no refresh token and, where the owner signed in without it, no password.
import { describe, expect, it } from 'vitest';
import { bearer, refreshCookieOf, reloadUser, uniqueEmail } from '../support/accounts';
import { codeIn, linkIn, waitForMailWith } from '../support/mailbox';
import { githubIdentity, googleIdentity, signInWith } from '../support/oauth';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const SQUATTER_PASSWORD = 'the squatter knows this one';
const ORIGIN = 'http://app.edgeauth.test';

interface Squat {
  email: string;
  userId: string;
  token: string;
  refreshCookie: string;
  refreshToken: string;
}

/** The squatter registers `email` and signs in twice: once with the cookie, once as a native client. */
async function squat(): Promise<Squat> {
  const email = uniqueEmail('victim');
  const registered = await api('/register', {
    method: 'POST',
    json: { email, username: `sq${crypto.randomUUID().slice(0, 8)}`, password: SQUATTER_PASSWORD },
  });
  expect(registered.status).toBe(201);
  const browser = await api('/login', { method: 'POST', json: { email, password: SQUATTER_PASSWORD } });
  expect(browser.status).toBe(200);
  const native = await api('/login', {
    method: 'POST',
    json: { email, password: SQUATTER_PASSWORD },
    headers: { 'X-Refresh-Token-Transport': 'body' },
  });
  const grant = (await browser.json()) as { token: string; user: { id: string } };
  return {
    email,
    userId: grant.user.id,
    token: grant.token,
    refreshCookie: refreshCookieOf(browser)!,
    refreshToken: ((await native.json()) as { refresh_token: string }).refresh_token,
  };
}

async function expectSquatterSignedOut(squatter: Squat) {
  await expectProblem(await api('/me', { headers: bearer(squatter.token) }), 401, 'SESSION_REVOKED');
  const byCookie = await api('/refresh-token', {
    method: 'POST',
    headers: { cookie: `edgeauth_refresh=${squatter.refreshCookie}`, origin: ORIGIN },
  });
  await expectProblem(byCookie, 401, 'INVALID_REFRESH_TOKEN');
  const byBody = await api('/refresh-token', {
    method: 'POST',
    json: { refresh_token: squatter.refreshToken },
  });
  await expectProblem(byBody, 401, 'INVALID_REFRESH_TOKEN');
}

async function expectSquatterPasswordGone(squatter: Squat) {
  const login = await api('/login', {
    method: 'POST',
    json: { email: squatter.email, password: SQUATTER_PASSWORD },
  });
  await expectProblem(login, 401, 'INVALID_CREDENTIALS');
  expect(await reloadUser(squatter.userId)).toMatchObject({ isVerified: true, passwordHash: null });
}

async function expectOwnerSignedIn(response: Response, squatter: Squat) {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; user: Record<string, unknown> };
  expect(body.user).toMatchObject({ id: squatter.userId, is_verified: true, has_password: false });
  expect((await api('/me', { headers: bearer(body.token) })).status).toBe(200);
}

describe('the first proof of the mailbox ends what a squatter set up before it', () => {
  it('a sign-in with an emailed code ends the squatter’s sessions and drops their password', async () => {
    const squatter = await squat();
    expect(
      (await api('/request/login-code', { method: 'POST', json: { email: squatter.email } })).status,
    ).toBe(202);
    const code = codeIn(await waitForMailWith(squatter.email, /sign-in code/));

    const owner = await api('/login/code', { method: 'POST', json: { email: squatter.email, code } });

    await expectOwnerSignedIn(owner, squatter);
    await expectSquatterSignedOut(squatter);
    await expectSquatterPasswordGone(squatter);
  });

  it('a Google sign-in links the account, ends the squatter’s sessions and drops their password', async () => {
    const squatter = await squat();
    const owner = await signInWith('google', googleIdentity(squatter.email));
    await expectOwnerSignedIn(owner, squatter);
    await expectSquatterSignedOut(squatter);
    await expectSquatterPasswordGone(squatter);
  });

  it('a GitHub sign-in does the same', async () => {
    const squatter = await squat();
    const owner = await signInWith('github', githubIdentity(squatter.email));
    await expectOwnerSignedIn(owner, squatter);
    await expectSquatterSignedOut(squatter);
    await expectSquatterPasswordGone(squatter);
  });

  it('the verification link ends every earlier session; the registration’s password stays', async () => {
    const squatter = await squat();
    const link = linkIn(await waitForMailWith(squatter.email, /verify/i), '/verify');

    const verified = await api(`${link.pathname}${link.search}`);
    expect(verified.status).toBe(200);

    await expectSquatterSignedOut(squatter);
    // Clicking "yes, I created this account" confirms the registration it was sent for, password included.
    const again = await api('/login', {
      method: 'POST',
      json: { email: squatter.email, password: SQUATTER_PASSWORD },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { user: { is_verified: boolean } }).user.is_verified).toBe(true);
  });

  it('a password reset ends every session and replaces the password', async () => {
    const squatter = await squat();
    expect((await api('/forget-password', { method: 'POST', json: { email: squatter.email } })).status).toBe(
      202,
    );
    const token = linkIn(await waitForMailWith(squatter.email, /reset/i), '/reset-password').searchParams.get(
      'token',
    );
    const reset = await api('/new-password', {
      method: 'POST',
      json: { token, password: 'the owner picks this one' },
    });
    expect(reset.status).toBe(200);

    await expectSquatterSignedOut(squatter);
    const old = await api('/login', {
      method: 'POST',
      json: { email: squatter.email, password: SQUATTER_PASSWORD },
    });
    await expectProblem(old, 401, 'INVALID_CREDENTIALS');
    const owner = await api('/login', {
      method: 'POST',
      json: { email: squatter.email, password: 'the owner picks this one' },
    });
    expect(owner.status).toBe(200);
  });

  it('a later code sign-in of a verified account keeps its password and its other sessions', async () => {
    const squatter = await squat();
    const link = linkIn(await waitForMailWith(squatter.email, /verify/i), '/verify');
    expect((await api(`${link.pathname}${link.search}`)).status).toBe(200);
    const session = await api('/login', {
      method: 'POST',
      json: { email: squatter.email, password: SQUATTER_PASSWORD },
    });
    const { token } = (await session.json()) as { token: string };

    await api('/request/login-code', { method: 'POST', json: { email: squatter.email } });
    const code = codeIn(await waitForMailWith(squatter.email, /sign-in code/));
    expect((await api('/login/code', { method: 'POST', json: { email: squatter.email, code } })).status).toBe(
      200,
    );

    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
    expect((await reloadUser(squatter.userId))!.passwordHash).not.toBeNull();
  });
});
