// Google and GitHub sign-in end to end against the local fake providers, through the real callback.
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { oauthAccounts, users } from '../../src/db/schema';
import { bearer, createUser, db, uniqueEmail } from '../support/accounts';
import {
  callback,
  consent,
  githubIdentity,
  googleIdentity,
  providerFault,
  signInWith,
  startLogin,
} from '../support/oauth';
import { expectProblem } from '../support/problem';
import { api, testEnv } from '../support/worker';

afterEach(() => providerFault('none', '/'));

const linkedAccounts = (userId: string) =>
  db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, userId));

describe('GET /{provider}/login', () => {
  it('redirects to Google with state, PKCE S256 and a nonce, and sets a short-lived flow cookie', async () => {
    const response = await api('/google/login');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.pathname).toBe('/google/o/oauth2/v2/auth');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'test-google-client',
      redirect_uri: 'http://api.edgeauth.test/auth/social/callback/google',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.any(String),
    });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('edgeauth_oauth='));
    expect(cookie).toMatch(/; Max-Age=600; Path=\/auth\/social\/callback; HttpOnly; Secure; SameSite=Lax$/);
    expect(cookie).not.toContain(location.searchParams.get('state')!);
  });

  it('redirects to GitHub with state and the user:email scope', async () => {
    const location = (await startLogin('github')).location;
    expect(location.pathname).toBe('/github/login/oauth/authorize');
    expect(location.searchParams.get('scope')).toBe('user:email');
    expect(location.searchParams.get('state')).toBeTruthy();
  });

  it('refuses a redirect_to outside the allow-list', async () => {
    for (const target of [
      'https://evil.example/x',
      '//evil.example',
      'javascript:alert(1)',
      '/relative-without-frontend',
    ]) {
      const response = await api(`/google/login?redirect_to=${encodeURIComponent(target)}`);
      await expectProblem(response, 400, 'INVALID_REDIRECT');
    }
  });

  it('answers 503 when the provider is not configured', async () => {
    const response = await api('/github/login', {}, testEnv({ GITHUB_CLIENT_SECRET: '' }));
    await expectProblem(response, 503, 'FEATURE_NOT_CONFIGURED');
  });
});

describe('callback: sign-in and provisioning', () => {
  it('creates a verified account from Google and signs in like /login', async () => {
    const email = uniqueEmail('google-new');
    const response = await signInWith('google', googleIdentity(email, { name: 'Ann Example' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; user: Record<string, unknown> };
    expect(body.user).toMatchObject({ email, is_verified: true, has_password: false });
    expect(body.user.username).toMatch(/^ann_example\d{0,4}$/);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('edgeauth_refresh='))).toBe(true);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('edgeauth_oauth=; Max-Age=0'))).toBe(
      true,
    );
    expect((await api('/me', { headers: bearer(body.token) })).status).toBe(200);
  });

  it('signs the same provider identity into the same account next time, even if its email changed', async () => {
    const identity = googleIdentity(uniqueEmail('stable'));
    const first = (await (await signInWith('google', identity)).json()) as { user: { id: string } };
    const again = await signInWith('google', { ...identity, email: uniqueEmail('changed') });
    expect(((await again.json()) as { user: { id: string } }).user.id).toBe(first.user.id);
  });

  it('creates an account from GitHub using the primary verified email and a unique username', async () => {
    const email = uniqueEmail('gh');
    const taken = await createUser({ username: 'octo-taken' });
    const response = await signInWith('github', githubIdentity(email, { login: taken.username }));
    expect(response.status).toBe(200);
    const { user } = (await response.json()) as { user: { email: string; username: string } };
    expect(user.email).toBe(email);
    expect(user.username).toMatch(/^octo-taken\d{4}$/);
  });

  it('links to an existing account when both sides verified the email', async () => {
    const local = await createUser({ isVerified: true });
    const response = await signInWith('google', googleIdentity(local.email.toUpperCase()));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { user: { id: string } }).user.id).toBe(local.id);
    expect(await linkedAccounts(local.id)).toHaveLength(1);
  });

  it('links an unverified local account, verifying it and dropping the password set before', async () => {
    const local = await createUser({ isVerified: false });
    const response = await signInWith('google', googleIdentity(local.email));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: Record<string, unknown> };
    expect(body.user).toMatchObject({ id: local.id, is_verified: true, has_password: false });
    expect(await linkedAccounts(local.id)).toHaveLength(1);
  });

  it('refuses to link or create when the provider did not verify the email', async () => {
    const local = await createUser({ isVerified: true });
    await expectProblem(
      await signInWith('google', googleIdentity(local.email, { email_verified: false })),
      400,
      'OAUTH_EMAIL_NOT_VERIFIED',
    );
    const fresh = uniqueEmail('unverified-google');
    await expectProblem(
      await signInWith('google', googleIdentity(fresh, { email_verified: false })),
      400,
      'OAUTH_EMAIL_NOT_VERIFIED',
    );
    expect(await db().select().from(users).where(eq(users.email, fresh))).toHaveLength(0);
  });

  it('never invents an address when GitHub has no verified primary email', async () => {
    const email = uniqueEmail('gh-unverified');
    const unverified = githubIdentity(null, {
      emails: [
        { email, primary: true, verified: false, visibility: null },
        { email: uniqueEmail('secondary'), primary: false, verified: true, visibility: null },
      ],
    });
    const body = await expectProblem(await signInWith('github', unverified), 400, 'OAUTH_EMAIL_NOT_VERIFIED');
    expect(body.detail).toBe('Your GitHub account has no verified email address');
    await expectProblem(await signInWith('github', githubIdentity(null)), 400, 'OAUTH_EMAIL_NOT_VERIFIED');
  });

  it('refuses a deactivated account', async () => {
    const identity = googleIdentity(uniqueEmail('deactivated'));
    const { user } = (await (await signInWith('google', identity)).json()) as { user: { id: string } };
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    await expectProblem(await signInWith('google', identity), 403, 'ACCOUNT_DISABLED');
  });

  it('redirects to the front end (cookie set, no token in the URL) when FRONTEND_URL is configured', async () => {
    const env = testEnv({ FRONTEND_URL: 'http://app.edgeauth.test' });
    const started = await startLogin('google', `?redirect_to=${encodeURIComponent('/welcome')}`, env);
    const response = await callback(
      await consent(started, googleIdentity(uniqueEmail('spa'))),
      started.cookie,
      env,
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://app.edgeauth.test/welcome');
    expect(response.headers.getSetCookie().some((c) => c.startsWith('edgeauth_refresh='))).toBe(true);
  });
});

describe('callback: state, cookie and PKCE checks', () => {
  it('rejects a state that does not match the cookie', async () => {
    const started = await startLogin('google');
    const path = (await consent(started, googleIdentity(uniqueEmail('csrf')))).replace(
      /state=[^&]+/,
      'state=forged',
    );
    const body = await expectProblem(await callback(path, started.cookie), 400, 'OAUTH_CALLBACK_INVALID');
    expect(body.detail).toBe('Invalid OAuth state');
  });

  it('rejects a callback without the flow cookie', async () => {
    const started = await startLogin('github');
    const path = await consent(started, githubIdentity(uniqueEmail('nocookie')));
    await expectProblem(await callback(path, null), 400, 'OAUTH_CALLBACK_INVALID');
  });

  it('rejects a replayed callback even with the cookie', async () => {
    const started = await startLogin('google');
    const path = await consent(started, googleIdentity(uniqueEmail('replay')));
    expect((await callback(path, started.cookie)).status).toBe(200);
    const body = await expectProblem(await callback(path, started.cookie), 400, 'OAUTH_CALLBACK_INVALID');
    expect(body.detail).toBe('This sign-in callback was already used');
  });

  it('fails when the code was issued for another PKCE challenge', async () => {
    const started = await startLogin('google');
    // As if an attacker injected their own authorization request: the challenge is not ours.
    started.location.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const path = await consent(started, googleIdentity(uniqueEmail('pkce')));
    await expectProblem(await callback(path, started.cookie), 400, 'OAUTH_EXCHANGE_FAILED');
  });

  it('reports the user cancelling at the provider', async () => {
    const started = await startLogin('github');
    const path = await consent(started, githubIdentity(uniqueEmail('deny')), { decision: 'deny' });
    await expectProblem(await callback(path, started.cookie), 400, 'OAUTH_DENIED');
  });

  it('rejects a tampered flow cookie', async () => {
    const started = await startLogin('google');
    const path = await consent(started, googleIdentity(uniqueEmail('tamper')));
    await expectProblem(await callback(path, `${started.cookie}x`), 400, 'OAUTH_CALLBACK_INVALID');
  });
});

describe('callback: provider failures', () => {
  it('answers 502 when the token endpoint fails', async () => {
    await providerFault('error', '/google/token');
    await expectProblem(
      await signInWith('google', googleIdentity(uniqueEmail('t500'))),
      502,
      'PROVIDER_ERROR',
    );
  });

  it('answers 502 when the profile endpoint returns invalid JSON', async () => {
    await providerFault('malformed', '/github/user');
    await expectProblem(
      await signInWith('github', githubIdentity(uniqueEmail('badjson'))),
      502,
      'PROVIDER_ERROR',
    );
  });

  it('answers 503 when the provider does not answer in time', async () => {
    await providerFault('slow', '/google/token', { delay_ms: 3000, count: 1 });
    const response = await signInWith('google', googleIdentity(uniqueEmail('slow')));
    await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
  });

  it('answers 503 when the provider drops the connection', async () => {
    await providerFault('down', '/github/login/oauth/access_token');
    await expectProblem(
      await signInWith('github', githubIdentity(uniqueEmail('down'))),
      503,
      'DEPENDENCY_UNAVAILABLE',
    );
  });

  it('stores nothing when the provider fails', async () => {
    const email = uniqueEmail('nothing');
    await providerFault('error', '/google/userinfo');
    await signInWith('google', googleIdentity(email));
    expect(
      await db()
        .select()
        .from(users)
        .where(and(eq(users.email, email))),
    ).toHaveLength(0);
  });
});
