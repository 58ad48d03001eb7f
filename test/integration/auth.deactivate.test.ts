// POST /deactivate through the Worker entry: the account is disabled, every session and refresh token
// stops working, the refresh cookie is cleared, and the owner is told by email.
import { describe, expect, it } from 'vitest';
import { bearer, createUser, login, PASSWORD, reloadUser } from '../support/accounts';
import { waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const DEACTIVATED_SUBJECT = 'Your edgeauth-test account was deactivated';

const deactivate = (token: string) => api('/deactivate', { method: 'POST', headers: bearer(token) });

describe('POST /deactivate', () => {
  it('deactivates the account, clears the cookie, ends every session and sends a notice', async () => {
    const user = await createUser();
    const browser = await login(user.email);
    const native = await api('/login', {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'X-Refresh-Token-Transport': 'body' },
    });
    const nativeGrant = (await native.json()) as { token: string; refresh_token: string };

    const response = await deactivate(browser.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ message: 'User deactivated.' });
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

    for (const token of [browser.token, nativeGrant.token]) {
      const me = await api('/me', { headers: bearer(token) });
      expect(me.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
      await expectProblem(me, 401, 'SESSION_REVOKED');
    }
    const cookieRefresh = await api('/refresh-token', {
      method: 'POST',
      headers: { cookie: `edgeauth_refresh=${browser.refreshCookie}`, origin: 'http://app.edgeauth.test' },
    });
    await expectProblem(cookieRefresh, 401, 'INVALID_REFRESH_TOKEN');
    const bodyRefresh = await api('/refresh-token', {
      method: 'POST',
      json: { refresh_token: nativeGrant.refresh_token },
    });
    await expectProblem(bodyRefresh, 401, 'INVALID_REFRESH_TOKEN');

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

  it('lets an unverified user close the account too', async () => {
    const user = await createUser({ isVerified: false });
    const { token } = await login(user.email);

    expect((await deactivate(token)).status).toBe(200);
    expect((await reloadUser(user.id))!.isActive).toBe(false);
    await expectProblem(await api('/me', { headers: bearer(token) }), 401, 'SESSION_REVOKED');
  });

  it('answers 401 UNAUTHORIZED without a bearer token', async () => {
    const response = await api('/deactivate', { method: 'POST' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    await expectProblem(response, 401, 'UNAUTHORIZED');
  });
});
