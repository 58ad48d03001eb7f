// POST /login through the Worker entry: the session grant and refresh cookie, the body transport for
// native clients, one indistinguishable 401, disabled accounts, rehash on login and database round trips.
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { sessions, users } from '../../src/db/schema';
import { PasswordHasher } from '../../src/services/auth/password-hasher';
import {
  bearer,
  createUser,
  db,
  PASSWORD,
  REFRESH_TOKEN_SHAPE,
  refreshCookieOf,
  reloadUser,
  uniqueEmail,
} from '../support/accounts';
import { expectProblem } from '../support/problem';
import { api, databaseRoundTrips } from '../support/worker';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const OWASP_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

const login = (json: unknown, headers: Record<string, string> = {}) =>
  api('/login', { method: 'POST', json, headers });

async function sessionsOf(userId: string) {
  return db().select().from(sessions).where(eq(sessions.userId, userId));
}

describe('POST /login', () => {
  it('answers 200 {token, token_type, expires_in, user} and sets the refresh cookie', async () => {
    const user = await createUser();
    const response = await login(
      { email: user.email, password: PASSWORD },
      { 'user-agent': 'login-test/1.0', 'cf-connecting-ip': '203.0.113.7' },
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toMatch(UUID);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      token: expect.stringMatching(JWT),
      token_type: 'Bearer',
      expires_in: 900,
      user: {
        id: user.id,
        email: user.email,
        username: user.username,
        is_verified: true,
        is_admin: false,
        has_password: true,
        created_at: user.createdAt.toISOString(),
      },
    });

    const claims = decodeJwt(body.token as string);
    expect(claims).toMatchObject({
      sub: user.id,
      sid: expect.stringMatching(UUID),
      typ: 'access',
      email_verified: true,
      iss: 'http://api.edgeauth.test',
      aud: 'edgeauth-test:api',
    });
    expect(claims.exp! - claims.iat!).toBe(900);

    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair, ...attributes] = cookies[0]!.split('; ');
    expect(pair!.slice('edgeauth_refresh='.length)).toMatch(REFRESH_TOKEN_SHAPE);
    expect(attributes.sort()).toEqual(
      ['HttpOnly', 'Max-Age=2592000', 'Path=/refresh-token', 'SameSite=Lax', 'Secure'].sort(),
    );

    const [session] = await sessionsOf(user.id);
    expect(session).toMatchObject({
      id: claims.sid,
      userAgent: 'login-test/1.0',
      ipAddress: '203.0.113.7',
      revokedAt: null,
    });

    const me = await api('/me', { headers: bearer(body.token as string) });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: body.user, mfa: { totp: false, passkeys: 0 } });
    const refreshed = await api('/refresh-token', {
      method: 'POST',
      headers: {
        cookie: `edgeauth_refresh=${refreshCookieOf(response)}`,
        origin: 'http://app.edgeauth.test',
      },
    });
    expect(refreshed.status).toBe(200);
  });

  it('returns the refresh token in the body, and sets no cookie, for X-Refresh-Token-Transport: body', async () => {
    const user = await createUser();
    const response = await login(
      { email: user.email, password: PASSWORD },
      { 'X-Refresh-Token-Transport': 'body' },
    );

    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      token: expect.stringMatching(JWT),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
      user: expect.objectContaining({ id: user.id, email: user.email }),
    });

    const refreshed = await api('/refresh-token', {
      method: 'POST',
      json: { refresh_token: body.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({
      refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
    });
  });

  it('gives unknown emails, wrong passwords and password-less accounts byte-identical 401s', async () => {
    const withPassword = await createUser();
    const passwordless = await createUser({ password: null });
    const deactivated = await createUser({ isActive: false });
    const requestId = `login-401-${crypto.randomUUID()}`;
    const attempts = [
      { email: uniqueEmail('nobody'), password: PASSWORD },
      { email: withPassword.email, password: 'not the right password' },
      { email: withPassword.email, password: 'short' },
      { email: passwordless.email, password: PASSWORD },
      { email: deactivated.email, password: 'not the right password' },
    ];

    const responses = [];
    for (const attempt of attempts) responses.push(await login(attempt, { 'x-request-id': requestId }));

    const texts = await Promise.all(responses.map((response) => response.clone().text()));
    for (const text of texts) expect(text).toBe(texts[0]);
    for (const response of responses) {
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(response.headers.getSetCookie()).toEqual([]);
      expect([...response.headers.keys()].sort()).toEqual([...responses[0]!.headers.keys()].sort());
    }
    const body = await expectProblem(responses[0]!, 401, 'INVALID_CREDENTIALS');
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Invalid credentials',
      status: 401,
      detail: 'Invalid email or password',
      code: 'INVALID_CREDENTIALS',
      request_id: requestId,
    });
    for (const user of [withPassword, passwordless, deactivated])
      expect(await sessionsOf(user.id)).toEqual([]);
  });

  it('answers a deactivated account 403 ACCOUNT_DISABLED only once the password matched', async () => {
    const user = await createUser({ isActive: false });

    const right = await login({ email: user.email, password: PASSWORD });
    expect(right.headers.getSetCookie()).toEqual([]);
    const body = await expectProblem(right, 403, 'ACCOUNT_DISABLED');
    expect(body.detail).toBe('User account is disabled');

    const wrong = await login({ email: user.email, password: 'not the right password' });
    await expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it('lets an unverified user sign in', async () => {
    const user = await createUser({ isVerified: false });
    const response = await login({ email: user.email, password: PASSWORD });

    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; user: Record<string, unknown> };
    expect(body.user).toMatchObject({ id: user.id, is_verified: false });
    expect(decodeJwt(body.token).email_verified).toBe(false);
  });

  it('finds the account whatever the letter case of the email', async () => {
    const email = `Ann.Case-${crypto.randomUUID().slice(0, 8)}@Example.com`;
    const user = await createUser({ email });
    for (const typed of [email, email.toLowerCase(), email.toUpperCase()]) {
      const response = await login({ email: typed, password: PASSWORD });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { user: { id: string } }).user.id).toBe(user.id);
    }
  });

  it('stores a hash with the OWASP parameters after signing in with a weaker one', async () => {
    const user = await createUser();
    const weak = await new PasswordHasher({ memoryKiB: 4096, passes: 1, parallelism: 1 }).hash(PASSWORD);
    expect(weak).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    await db().update(users).set({ passwordHash: weak }).where(eq(users.id, user.id));

    const response = await login({ email: user.email, password: PASSWORD });
    expect(response.status).toBe(200);

    const rehashed = (await reloadUser(user.id))!.passwordHash!;
    expect(rehashed.startsWith(OWASP_PREFIX)).toBe(true);
    expect(rehashed).not.toBe(weak);
    expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
    expect((await reloadUser(user.id))!.passwordHash).toBe(rehashed);
  });

  it('does not rewrite a hash that already has the current parameters', async () => {
    const user = await createUser();
    expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
    expect((await reloadUser(user.id))!.passwordHash).toBe(user.passwordHash);
  });

  it('does not rehash on a failed attempt', async () => {
    const user = await createUser();
    const weak = await new PasswordHasher({ memoryKiB: 4096, passes: 1, parallelism: 1 }).hash(PASSWORD);
    await db().update(users).set({ passwordHash: weak }).where(eq(users.id, user.id));

    await expectProblem(
      await login({ email: user.email, password: 'not the right password' }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect((await reloadUser(user.id))!.passwordHash).toBe(weak);
  });

  it.each([
    ['an invalid email', { email: 'not-an-email', password: PASSWORD }, ['email']],
    ['an empty password', { email: 'ann@example.com', password: '' }, ['password']],
    ['a password over 128 characters', { email: 'ann@example.com', password: 'p'.repeat(129) }, ['password']],
    ['a body without fields', {}, ['email', 'password']],
  ])('answers 422 VALIDATION_FAILED for %s', async (_case, json, paths) => {
    const body = await expectProblem(await login(json), 422, 'VALIDATION_FAILED');
    const errors = body.errors as { path: string; message: string }[];
    expect(errors.map((error) => error.path).sort()).toEqual(paths);
    for (const error of errors) expect(typeof error.message).toBe('string');
  });

  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const response = await api('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": "ann@example.com"',
    });
    const body = await expectProblem(response, 400, 'MALFORMED_REQUEST');
    expect(body.detail).toBe('Malformed JSON in request body');
  });

  it('needs at most two database round trips for a sign-in', async () => {
    const user = await createUser();
    const before = await databaseRoundTrips();
    const response = await login({ email: user.email, password: PASSWORD });
    const after = await databaseRoundTrips();

    expect(response.status).toBe(200);
    expect(after - before).toBeGreaterThan(0);
    expect(after - before).toBeLessThanOrEqual(2);
  });

  it('needs at most two database round trips for a sign-in that rehashes', async () => {
    const user = await createUser();
    const weak = await new PasswordHasher({ memoryKiB: 4096, passes: 1, parallelism: 1 }).hash(PASSWORD);
    await db().update(users).set({ passwordHash: weak }).where(eq(users.id, user.id));

    const before = await databaseRoundTrips();
    const response = await login({ email: user.email, password: PASSWORD });
    const after = await databaseRoundTrips();

    expect(response.status).toBe(200);
    expect(after - before).toBeLessThanOrEqual(2);
    expect((await reloadUser(user.id))!.passwordHash!.startsWith(OWASP_PREFIX)).toBe(true);
  });
});
