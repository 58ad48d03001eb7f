// The whole account journey through the Worker entry and the real mail pipeline (queue → relay → sink).
import { describe, expect, it } from 'vitest';
import { bearer, refreshCookieOf, uniqueEmail } from '../support/accounts';
import { linkIn, waitForMail } from '../support/mailbox';
import { API_ORIGIN, api } from '../support/worker';

describe('register → verify → login → me → refresh → logout', () => {
  it('works end to end with the emailed link', async () => {
    const email = uniqueEmail('journey');
    const registered = await api('/register', {
      method: 'POST',
      json: { email, username: `journey${Date.now()}`, password: 'a strong password' },
    });
    expect(registered.status).toBe(201);
    const { user } = (await registered.json()) as { user: Record<string, unknown> };
    expect(user).toMatchObject({ email, is_verified: false, has_password: true, is_admin: false });

    const mail = await waitForMail(email);
    expect(mail.Subject).toBe('Verify your email for edgeauth-test');
    expect(mail.Text).toContain('expires in 15 minutes');
    const link = linkIn(mail, '/verify');
    expect(link.origin).toBe(API_ORIGIN);

    const verified = await api(`${link.pathname}${link.search}`);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ message: 'Email is verified' });

    const login = await api('/login', { method: 'POST', json: { email, password: 'a strong password' } });
    expect(login.status).toBe(200);
    const grant = (await login.json()) as {
      token: string;
      token_type: string;
      expires_in: number;
      user: unknown;
    };
    expect(grant).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      user: { email, is_verified: true },
    });
    expect(grant).not.toHaveProperty('refresh_token');
    const setCookie = login.headers.getSetCookie().find((c) => c.startsWith('edgeauth_refresh='));
    expect(setCookie).toMatch(/; Max-Age=2592000; Path=\/refresh-token; HttpOnly; Secure; SameSite=Lax$/);

    const me = await api('/me', { headers: bearer(grant.token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: grant.user, mfa: { totp: false, passkeys: 0 } });

    const refreshed = await api('/refresh-token', {
      method: 'POST',
      headers: { cookie: `edgeauth_refresh=${refreshCookieOf(login)}`, origin: 'http://app.edgeauth.test' },
    });
    expect(refreshed.status).toBe(200);
    const tokens = (await refreshed.json()) as { token: string };
    expect(refreshCookieOf(refreshed)).toBeDefined();
    expect(refreshCookieOf(refreshed)).not.toBe(refreshCookieOf(login));

    const logout = await api('/logout', { method: 'POST', headers: bearer(tokens.token) });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()[0]).toMatch(/^edgeauth_refresh=; Max-Age=0; Path=\/refresh-token/);
    expect((await api('/me', { headers: bearer(tokens.token) })).status).toBe(401);
  });
});
