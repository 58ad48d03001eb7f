// POST /deactivate through the Worker entry: the owner confirms with the password or an emailed code; the
// account is disabled, every session, refresh token, link and code stops working, billing ends at Stripe,
// the refresh cookie is cleared, and the owner is told by email. Unverified accounts are deleted.

import { and, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loginCodes } from '../../src/db/schema';
import {
  bearer,
  createUser,
  db,
  expectSignedOut,
  login,
  PASSWORD,
  reloadUser,
  signInTwice,
  uniqueEmail,
} from '../support/accounts';
import { codeIn, linkIn, waitForMail, waitForMailWith } from '../support/mailbox';
import { googleIdentity, signInWith } from '../support/oauth';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const DEACTIVATED_SUBJECT = 'Your edgeauth-test account was deactivated';

const deactivate = (token: string, json: unknown = { password: PASSWORD }) =>
  api('/deactivate', { method: 'POST', headers: bearer(token), json });

describe('POST /deactivate', () => {
  it('deactivates the account, clears the cookie, ends every session and sends a notice', async () => {
    const user = await createUser();
    const sessions = await signInTwice(user.email);
    const { browser } = sessions;

    const response = await deactivate(browser.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      message: 'User deactivated.',
      deleted: false,
      subscription_canceled: false,
    });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair, ...attributes] = cookies[0]!.split('; ');
    expect(pair).toBe('edgeauth_refresh=');
    expect(attributes.sort()).toEqual([
      'HttpOnly',
      'Max-Age=0',
      'Path=/refresh-token',
      'SameSite=Lax',
      'Secure',
    ]);

    const row = await reloadUser(user.id);
    expect(row).toMatchObject({ isActive: false, deactivatedAt: expect.any(Date) });

    await expectSignedOut(sessions);

    const notice = await waitForMail(user.email);
    expect(notice.Subject).toBe(DEACTIVATED_SUBJECT);
    expect(notice.Text).toContain(`Hi ${user.username},`);
    expect(notice.Text).toContain('every device was signed out');
  });

  it('refuses /login afterwards with 403 ACCOUNT_DISABLED, or 401 with a wrong password', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    expect((await deactivate(token)).status).toBe(200);

    const right = await api('/login', { method: 'POST', json: { email: user.email, password: PASSWORD } });
    expect(right.headers.getSetCookie()).toEqual([]);
    const body = await expectProblem(right, 403, 'ACCOUNT_DISABLED');
    expect(body.detail).toBe('User account is disabled');

    const wrong = await api('/login', {
      method: 'POST',
      json: { email: user.email, password: 'not the right password' },
    });
    await expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
  });

  it('cannot be repeated with the token that did it', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    expect((await deactivate(token)).status).toBe(200);
    await expectProblem(await deactivate(token), 401, 'SESSION_REVOKED');
  });

  it('deletes an unverified account, so its address can sign up again', async () => {
    const user = await createUser({ isVerified: false });
    const { token } = await login(user.email);

    const response = await deactivate(token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      message: 'User deleted.',
      deleted: true,
      subscription_canceled: false,
    });
    expect(await reloadUser(user.id)).toBeUndefined();
    await expectProblem(await api('/me', { headers: bearer(token) }), 401, 'INVALID_TOKEN');

    const again = await api('/register', {
      method: 'POST',
      json: { email: user.email, username: `re${crypto.randomUUID().slice(0, 8)}`, password: PASSWORD },
    });
    expect(again.status).toBe(201);
    const { user: created } = (await again.json()) as { user: { id: string } };
    expect(await reloadUser(created.id)).toMatchObject({ email: user.email, isActive: true });
  });

  it('refuses a wrong password with 403 and changes nothing', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const body = await expectProblem(
      await deactivate(token, { password: 'not my password' }),
      403,
      'INCORRECT_PASSWORD',
    );
    expect(body.detail).toBe("Password isn't correct");
    expect((await reloadUser(user.id))!.isActive).toBe(true);
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
  });

  it.each([
    ['no body', undefined],
    ['an empty object', {}],
    ['both password and code', { password: PASSWORD, code: '123456' }],
    ['a code that is not 6 digits', { code: '12345' }],
  ])('answers 422 for %s and changes nothing', async (_case, json) => {
    const user = await createUser();
    const { token } = await login(user.email);
    const response = await api('/deactivate', {
      method: 'POST',
      headers: bearer(token),
      ...(json === undefined ? {} : { json }),
    });
    await expectProblem(response, 422, 'VALIDATION_FAILED');
    expect((await reloadUser(user.id))!.isActive).toBe(true);
  });

  it('lets an account without a password confirm with an emailed code, and refuses a wrong one', async () => {
    const identity = googleIdentity(uniqueEmail('passwordless'));
    const signedIn = (await (await signInWith('google', identity)).json()) as {
      token: string;
      user: { id: string; email: string };
    };
    const email = signedIn.user.email;
    await expectProblem(await deactivate(signedIn.token, { password: PASSWORD }), 403, 'INCORRECT_PASSWORD');

    await api('/request/login-code', { method: 'POST', json: { email } });
    const code = codeIn(await waitForMailWith(email, /sign-in code/));
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await expectProblem(await deactivate(signedIn.token, { code: wrong }), 400, 'INVALID_LOGIN_CODE');
    expect((await reloadUser(signedIn.user.id))!.isActive).toBe(true);

    expect((await deactivate(signedIn.token, { code })).status).toBe(200);
    expect((await reloadUser(signedIn.user.id))!.isActive).toBe(false);
  });

  it('voids pending reset links and login codes', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    await api('/forget-password', { method: 'POST', json: { email: user.email } });
    const resetToken = linkIn(
      await waitForMailWith(user.email, /reset/i),
      '/reset-password',
    ).searchParams.get('token');
    expect((await deactivate(token)).status).toBe(200);

    const reset = await api('/new-password', {
      method: 'POST',
      json: { token: resetToken, password: 'a new password 1' },
    });
    await expectProblem(reset, 400, 'INVALID_EMAIL_TOKEN');
    const rows = await db()
      .select()
      .from(loginCodes)
      .where(and(eq(loginCodes.userId, user.id), isNull(loginCodes.consumedAt)));
    expect(rows).toEqual([]);
  });

  it('answers 401 UNAUTHORIZED without a bearer token', async () => {
    const response = await api('/deactivate', { method: 'POST' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    await expectProblem(response, 401, 'UNAUTHORIZED');
  });
});
