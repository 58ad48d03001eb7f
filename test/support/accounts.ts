// Test factories for accounts and sessions, written through the Worker's own services and routes.
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { createDatabase } from '../../src/db/client';
import { users } from '../../src/db/schema';
import { parseEnv } from '../../src/env';
import { PasswordHasher } from '../../src/services/auth/password-hasher';
import { expectProblem } from './problem';
import { api, testEnv } from './worker';

const hasher = new PasswordHasher();
export const PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

export function uniqueIp(): string {
  const n = crypto.getRandomValues(new Uint8Array(3));
  return `10.${n[0]}.${n[1]}.${n[2]}`;
}

export const db = () => createDatabase(parseEnv(testEnv()));

export interface UserOverrides {
  email?: string;
  username?: string;
  password?: string | null;
  isVerified?: boolean;
  isActive?: boolean;
  isAdmin?: boolean;
}

/** Inserts an account directly (fast, no email round trip); use the routes when the flow is the subject. */
export async function createUser(overrides: UserOverrides = {}) {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password === undefined ? PASSWORD : overrides.password;
  const [user] = await db()
    .insert(users)
    .values({
      email,
      username: overrides.username ?? `u${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`,
      passwordHash: password === null ? null : await hasher.hash(password),
      isVerified: overrides.isVerified ?? true,
      isActive: overrides.isActive ?? true,
      isAdmin: overrides.isAdmin ?? false,
    })
    .returning();
  return { ...user!, password };
}

export async function reloadUser(id: string) {
  const [user] = await db().select().from(users).where(eq(users.id, id));
  return user;
}

export interface SignedIn {
  token: string;
  refreshCookie: string;
  body: Record<string, unknown>;
}

/** Signs in through POST /login and returns the access token and the refresh cookie value. */
export async function login(
  email: string,
  password = PASSWORD,
  headers: Record<string, string> = {},
  env?: Env,
): Promise<SignedIn> {
  const response = await api('/login', { method: 'POST', json: { email, password }, headers }, env);
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as Record<string, unknown>;
  return { token: body.token as string, refreshCookie: refreshCookieOf(response) ?? '', body };
}

export function refreshCookieOf(response: Response): string | undefined {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('edgeauth_refresh='));
  return cookie?.split(';')[0]?.slice('edgeauth_refresh='.length) || undefined;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface TwoSessions {
  /** A browser session: its refresh token travels in the cookie. */
  browser: SignedIn;
  /** A native client's session: its refresh token travels in the body. */
  nativeGrant: { token: string; refresh_token: string };
}

/** Signs the user in twice, once as a browser and once as a native client. */
export async function signInTwice(email: string): Promise<TwoSessions> {
  const browser = await login(email);
  const native = await api('/login', {
    method: 'POST',
    json: { email, password: PASSWORD },
    headers: { 'X-Refresh-Token-Transport': 'body' },
  });
  return { browser, nativeGrant: (await native.json()) as TwoSessions['nativeGrant'] };
}

/** Neither session's access token nor refresh token (cookie or body) is accepted any more. */
export async function expectSignedOut({ browser, nativeGrant }: TwoSessions): Promise<void> {
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
}

/** A refresh token: `<session id>.<secret>.<tag>`, all URL- and cookie-safe. */
export const REFRESH_TOKEN_SHAPE = /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/;
