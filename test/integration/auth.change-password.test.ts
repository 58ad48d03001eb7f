// POST /change-password through the Worker entry: the old password is checked, the caller's session
// survives while every other one ends, and the owner is told by email.
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env';
import { issueAccessToken } from '../../src/services/auth/access-tokens';
import { startSession } from '../../src/services/auth/sessions';
import { bearer, createUser, db, login, PASSWORD, reloadUser, type SignedIn } from '../support/accounts';
import { codeIn, linkIn, mailsTo, waitForMail, waitForMailWith } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api, testEnv } from '../support/worker';

const NEW_PASSWORD = 'a brand new password';
const CHANGED_SUBJECT = 'Your edgeauth-test password was changed';

const changePassword = (token: string, json: unknown) =>
  api('/change-password', { method: 'POST', json, headers: bearer(token) });

const loginStatus = async (email: string, password: string) =>
  (await api('/login', { method: 'POST', json: { email, password } })).status;

const refreshWithCookie = (signedIn: SignedIn) =>
  api('/refresh-token', {
    method: 'POST',
    headers: { cookie: `edgeauth_refresh=${signedIn.refreshCookie}`, origin: 'http://app.edgeauth.test' },
  });

/** A session for an account that cannot use /login (no password), made with the Worker's own services. */
async function sessionFor(userId: string): Promise<string> {
  const config = parseEnv(testEnv());
  const now = new Date();
  const session = await startSession(db(), config, { userId, now, client: {} });
  await session.statement;
  const { token } = await issueAccessToken(config, now, {
    userId,
    sessionId: session.sessionId,
    emailVerified: true,
    entitlements: null,
  });
  return token;
}

describe('POST /change-password', () => {
  it('voids the reset links and login codes asked for before the change', async () => {
    const user = await createUser();
    const current = await login(user.email);
    await api('/forget-password', { method: 'POST', json: { email: user.email } });
    const resetToken = linkIn(
      await waitForMailWith(user.email, /reset/i),
      '/reset-password',
    ).searchParams.get('token');
    await api('/request/login-code', { method: 'POST', json: { email: user.email } });
    const code = codeIn(await waitForMailWith(user.email, /sign-in code/));

    const changed = await changePassword(current.token, {
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(changed.status).toBe(200);

    const reset = await api('/new-password', {
      method: 'POST',
      json: { token: resetToken, password: 'whoever had the old link' },
    });
    await expectProblem(reset, 400, 'INVALID_EMAIL_TOKEN');
    await expectProblem(
      await api('/login/code', { method: 'POST', json: { email: user.email, code } }),
      400,
      'INVALID_LOGIN_CODE',
    );
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  });

  it('changes the password, keeps this session, ends the others and sends a notice', async () => {
    const user = await createUser();
    const current = await login(user.email);
    const other = await login(user.email);

    const response = await changePassword(current.token, {
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toEqual({ message: 'Password has been changed successfully' });

    expect((await api('/me', { headers: bearer(current.token) })).status).toBe(200);
    expect((await refreshWithCookie(current)).status).toBe(200);

    const otherMe = await api('/me', { headers: bearer(other.token) });
    expect(otherMe.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
    await expectProblem(otherMe, 401, 'SESSION_REVOKED');
    await expectProblem(await refreshWithCookie(other), 401, 'INVALID_REFRESH_TOKEN');

    expect(await loginStatus(user.email, PASSWORD)).toBe(401);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);

    const notice = await waitForMail(user.email);
    expect(notice.Subject).toBe(CHANGED_SUBJECT);
    expect(notice.Text).toContain(`Hi ${user.username},`);
    expect(notice.Text).toContain('your other devices were signed out');
    expect(notice.Text).not.toContain(NEW_PASSWORD);
  });

  it('answers 403 INCORRECT_PASSWORD for a wrong old password and changes nothing', async () => {
    const user = await createUser();
    const current = await login(user.email);
    const other = await login(user.email);

    const response = await changePassword(current.token, {
      old_password: 'not the right password',
      new_password: NEW_PASSWORD,
    });
    const body = await expectProblem(response, 403, 'INCORRECT_PASSWORD');
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Incorrect password',
      status: 403,
      detail: "Old password isn't correct",
      code: 'INCORRECT_PASSWORD',
      request_id: expect.any(String),
    });

    expect((await reloadUser(user.id))!.passwordHash).toBe(user.passwordHash);
    expect((await api('/me', { headers: bearer(other.token) })).status).toBe(200);
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
  });

  it('answers 403 EMAIL_NOT_VERIFIED for an unverified user and changes nothing', async () => {
    const user = await createUser({ isVerified: false });
    const { token } = await login(user.email);

    const response = await changePassword(token, { old_password: PASSWORD, new_password: NEW_PASSWORD });
    const body = await expectProblem(response, 403, 'EMAIL_NOT_VERIFIED');
    expect(body.detail).toBe('Verify your email address first');
    expect((await reloadUser(user.id))!.passwordHash).toBe(user.passwordHash);
  });

  it('answers 403 for an account without a password, and does not give it one', async () => {
    const user = await createUser({ password: null });
    const token = await sessionFor(user.id);
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);

    const response = await changePassword(token, {
      old_password: 'anything at all',
      new_password: NEW_PASSWORD,
    });
    await expectProblem(response, 403, 'INCORRECT_PASSWORD');
    expect((await reloadUser(user.id))!.passwordHash).toBeNull();
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(401);
  });

  it('answers 401 UNAUTHORIZED without a bearer token', async () => {
    const response = await api('/change-password', {
      method: 'POST',
      json: { old_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    await expectProblem(response, 401, 'UNAUTHORIZED');
  });

  it.each([
    [
      'a new password under 8 characters',
      { old_password: PASSWORD, new_password: 'short12' },
      ['new_password'],
    ],
    [
      'a new password over 128 characters',
      { old_password: PASSWORD, new_password: 'p'.repeat(129) },
      ['new_password'],
    ],
    ['a missing old password', { new_password: NEW_PASSWORD }, ['old_password']],
    ['an empty body', {}, ['new_password', 'old_password']],
  ])('answers 422 VALIDATION_FAILED for %s', async (_case, json, paths) => {
    const user = await createUser();
    const { token } = await login(user.email);
    const body = await expectProblem(await changePassword(token, json), 422, 'VALIDATION_FAILED');
    expect((body.errors as { path: string }[]).map((error) => error.path).sort()).toEqual(paths);
    expect((await reloadUser(user.id))!.passwordHash).toBe(user.passwordHash);
  });

  it('sends no notice when the change is refused', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    await expectProblem(
      await changePassword(token, { old_password: 'not the right password', new_password: NEW_PASSWORD }),
      403,
      'INCORRECT_PASSWORD',
    );

    // A later successful change sends the first and only notice: nothing was queued before it.
    expect((await changePassword(token, { old_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(
      200,
    );
    await waitForMail(user.email);
    expect((await mailsTo(user.email)).map((mail) => mail.Subject)).toEqual([CHANGED_SUBJECT]);
  });
});
