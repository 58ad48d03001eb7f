// The security checks every bearer-protected route must pass, as one suite a test file runs per route:
// no token, malformed header, expired, tampered, forged, wrong token type, revoked session, deactivated
// account, unverified email. Each check answers in the problem+json envelope with its registered code.
import { eq } from 'drizzle-orm';
import { base64url, decodeJwt, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema';
import { parseEnv } from '../../src/env';
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import { issueEmailToken } from '../../src/services/auth/email-tokens';
import { createUser, db, PASSWORD, refreshCookieOf, type UserOverrides, uniqueIp } from './accounts';
import { bindings } from './bindings';
import { envWithClock, fakeClock } from './clock';
import { expectProblem } from './problem';
import { type KeyWithId, signingKeyOf } from './signing-keys';
import { api, testEnv } from './worker';

export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A concrete path (path parameters filled in). */
  path: string;
  /** A valid JSON body, for routes that take one. */
  body?: unknown;
  /** Whether the route refuses accounts whose email is not verified (403 EMAIL_NOT_VERIFIED). */
  requiresVerified: boolean;
}

const ACCESS_TOKEN_EXPIRE = 900;
const CHALLENGE = 'Bearer realm="api"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"';

interface SignedIn {
  userId: string;
  accessToken: string;
  refreshToken: string;
}

/** A fresh account signed in through POST /login (from its own IP, so no rate limit is shared). */
export async function signInFreshUser(overrides: UserOverrides = {}, env?: Env): Promise<SignedIn> {
  const user = await createUser(overrides);
  const response = await api(
    '/login',
    {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp() },
    },
    env,
  );
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { token: string };
  return { userId: user.id, accessToken: body.token, refreshToken: refreshCookieOf(response) ?? '' };
}

/** Calls `route` with the given Authorization header value (none when undefined). */
export function callRoute(
  route: ProtectedRoute,
  authorization: string | undefined,
  { env, body = route.body }: { env?: Env; body?: unknown } = {},
): Promise<Response> {
  return api(
    route.path,
    {
      method: route.method,
      json: body,
      headers: {
        'cf-connecting-ip': uniqueIp(),
        ...(authorization === undefined ? {} : { authorization }),
      },
    },
    env,
  );
}

/** The failure is the registered problem document; 401s carry the RFC 6750 challenge. */
export async function expectAuthFailure(response: Response, code: ErrorCode) {
  const { status, title } = ERROR_CODES[code];
  const body = await expectProblem(response, status, code);
  expect(body.title).toBe(title);
  if (status === 401) {
    expect(response.headers.get('www-authenticate')).toBe(
      code === 'UNAUTHORIZED' ? CHALLENGE : INVALID_TOKEN_CHALLENGE,
    );
  }
  return body;
}

/** Authentication let the request through: whatever the route answers, it is not an auth refusal. */
async function expectAuthenticated(response: Response) {
  expect(response.status, await response.clone().text()).toBeLessThan(500);
  expect([401, 403]).not.toContain(response.status);
}

const segmentsOf = (token: string) => {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) throw new Error('not a JWS');
  return { header, payload, signature };
};

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** Changes one character in the middle of the signature (the last one may only hold padding bits). */
export function withTamperedSignature(token: string): string {
  const { header, payload, signature } = segmentsOf(token);
  const middle = Math.floor(signature.length / 2);
  const replacement = signature[middle] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, middle)}${replacement}${signature.slice(middle + 1)}`;
}

/** Rewrites claims in the payload and keeps the original header and signature. */
export function withTamperedPayload(token: string, claims: JWTPayload): string {
  const { header, payload, signature } = segmentsOf(token);
  const original = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as JWTPayload;
  return `${header}.${encodeJson({ ...original, ...claims })}.${signature}`;
}

/** The token's claims under an `alg: none` header, with or without the original signature. */
export function withAlgNone(token: string, { keepSignature = false } = {}): string {
  const { payload, signature } = segmentsOf(token);
  return `${encodeJson({ alg: 'none', typ: 'JWT' })}.${payload}.${keepSignature ? signature : ''}`;
}

/** Re-signs the token's claims (with `claims` merged in) under an HMAC `secret` and `alg`. */
export async function resigned(
  token: string,
  {
    secret,
    alg = 'HS256',
    claims = {},
  }: { secret: string; alg?: 'HS256' | 'HS384' | 'HS512'; claims?: JWTPayload },
): Promise<string> {
  return new SignJWT({ ...decodeJwt(token), ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/** The signing key of the test configuration (ACCESS_SIGNING_KEYS), as the Worker holds it. */
export const ourSigningKey = (): KeyWithId => signingKeyOf(bindings.ACCESS_SIGNING_KEYS);

/**
 * Re-signs the token's claims (with `claims` merged in) with ES256 under `key` (default: our own signing
 * key) and its kid: only the claims can then be what the Worker refuses.
 */
export async function resignedEs256(
  token: string,
  { claims = {}, key = ourSigningKey() }: { claims?: JWTPayload; key?: JWK & { kid: string } } = {},
): Promise<string> {
  return new SignJWT({ ...decodeJwt(token), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
    .sign(await importJWK(key, 'ES256'));
}

/** A P-256 key that is not ours, under our kid. */
export async function strangerKey(): Promise<JWK & { kid: string }> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const jwk = (await crypto.subtle.exportKey('jwk', (pair as CryptoKeyPair).privateKey)) as JWK;
  return { ...jwk, kid: ourSigningKey().kid };
}

/** Runs the shared security checks for one protected route. */
export function describeProtectedRoute(route: ProtectedRoute): void {
  const call = (authorization: string | undefined, options?: { env?: Env; body?: unknown }) =>
    callRoute(route, authorization, options);

  describe(`${route.method} ${route.path} (security)`, () => {
    it('accepts a valid access token of a verified user', async () => {
      const { accessToken } = await signInFreshUser();
      await expectAuthenticated(await call(`Bearer ${accessToken}`));
    });

    it('answers 401 UNAUTHORIZED with a Bearer challenge when Authorization is missing', async () => {
      const problem = await expectAuthFailure(await call(undefined), 'UNAUTHORIZED');
      expect(problem.detail).toBe('Not authenticated');
    });

    if (route.body !== undefined) {
      it('authenticates before validating the body', async () => {
        await expectAuthFailure(await call(undefined, { body: { unexpected: true } }), 'UNAUTHORIZED');
      });
    }

    it.each(['Bearer', 'Basic x', 'Bearer a.b', 'Bearer a.b.c'])(
      'answers 401 INVALID_TOKEN for the malformed header "%s"',
      async (authorization) => {
        await expectAuthFailure(await call(authorization), 'INVALID_TOKEN');
      },
    );

    it('answers 401 INVALID_TOKEN for a valid token under another scheme', async () => {
      const { accessToken } = await signInFreshUser();
      await expectAuthFailure(await call(`Basic ${accessToken}`), 'INVALID_TOKEN');
    });

    it('answers 401 TOKEN_EXPIRED once the access token has expired', async () => {
      const clock = fakeClock();
      const env = envWithClock(clock);
      const { accessToken } = await signInFreshUser({}, env);
      clock.advance(ACCESS_TOKEN_EXPIRE + 1);
      const problem = await expectAuthFailure(await call(`Bearer ${accessToken}`, { env }), 'TOKEN_EXPIRED');
      expect(problem.detail).toBe('Token expired');
    });

    it('answers 401 INVALID_TOKEN for a tampered signature', async () => {
      const { accessToken } = await signInFreshUser();
      await expectAuthFailure(await call(`Bearer ${withTamperedSignature(accessToken)}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for a tampered payload (sub of another user)', async () => {
      const { accessToken } = await signInFreshUser();
      const victim = await createUser();
      const forged = withTamperedPayload(accessToken, { sub: victim.id });
      await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for alg "none", with or without a signature', async () => {
      const { accessToken } = await signInFreshUser();
      await expectAuthFailure(await call(`Bearer ${withAlgNone(accessToken)}`), 'INVALID_TOKEN');
      const keepingSignature = withAlgNone(accessToken, { keepSignature: true });
      await expectAuthFailure(await call(`Bearer ${keepingSignature}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for the same claims signed with a key not in the JWKS (under our kid)', async () => {
      const { accessToken } = await signInFreshUser();
      const forged = await resignedEs256(accessToken, { key: await strangerKey() });
      await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
      const hmac = await resigned(accessToken, { secret: 'not-our-secret-0123456789abcdefghijklmnop' });
      await expectAuthFailure(await call(`Bearer ${hmac}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for the other token secrets (refresh, validation) used as the key', async () => {
      const { accessToken } = await signInFreshUser();
      for (const secret of [bindings.REFRESH_SECRET_KEY, bindings.VALIDATION_SECRET_KEY]) {
        const forged = await resigned(accessToken, { secret });
        await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
      }
    });

    it('answers 401 INVALID_TOKEN for HMAC tokens: under the shared secret, or the public key as the secret', async () => {
      const { accessToken } = await signInFreshUser();
      const { d: _private, ...publicKey } = ourSigningKey();
      for (const secret of [bindings.ACCESS_SECRET_KEY, JSON.stringify(publicKey)]) {
        for (const alg of ['HS256', 'HS512'] as const) {
          const forged = await resigned(accessToken, { secret, alg });
          await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
        }
      }
    });

    it.each([
      ['another token type', { typ: 'refresh' }],
      ['another audience', { aud: 'someone-else:api' }],
      ['another issuer', { iss: 'https://evil.example' }],
      ['a session id that is not a UUID', { sid: 'not-a-uuid' }],
      ['a session that does not exist', { sid: '00000000-0000-4000-8000-000000000000' }],
    ])('answers 401 INVALID_TOKEN for a token signed with our key but for %s', async (_, claims) => {
      const { accessToken } = await signInFreshUser();
      const forged = await resignedEs256(accessToken, { claims });
      await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for a token signed with our key pairing one user with another’s session', async () => {
      const attacker = await signInFreshUser();
      const victim = await signInFreshUser();
      const forged = await resignedEs256(victim.accessToken, { claims: { sub: attacker.userId } });
      await expectAuthFailure(await call(`Bearer ${forged}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for a refresh token used as the bearer', async () => {
      const { refreshToken } = await signInFreshUser();
      expect(refreshToken).not.toBe('');
      await expectAuthFailure(await call(`Bearer ${refreshToken}`), 'INVALID_TOKEN');
    });

    it('answers 401 INVALID_TOKEN for an email (verification) token used as the bearer', async () => {
      const user = await createUser({ isVerified: false });
      const emailToken = await issueEmailToken(db(), parseEnv(testEnv()), {
        userId: user.id,
        purpose: 'verify_email',
        now: new Date(),
      });
      await expectAuthFailure(await call(`Bearer ${emailToken}`), 'INVALID_TOKEN');
    });

    it('answers 401 SESSION_REVOKED once the session has logged out', async () => {
      const { accessToken } = await signInFreshUser();
      const logout = await api('/logout', {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'cf-connecting-ip': uniqueIp() },
      });
      expect(logout.status).toBe(204);
      const problem = await expectAuthFailure(await call(`Bearer ${accessToken}`), 'SESSION_REVOKED');
      expect(problem.detail).toBe('This session has been signed out');
    });

    it('answers 403 ACCOUNT_DISABLED for a deactivated user whose session is still live', async () => {
      const { userId, accessToken } = await signInFreshUser();
      await db().update(users).set({ isActive: false }).where(eq(users.id, userId));
      const problem = await expectAuthFailure(await call(`Bearer ${accessToken}`), 'ACCOUNT_DISABLED');
      expect(problem.detail).toBe('User account is disabled');
    });

    if (route.requiresVerified) {
      it('answers 403 EMAIL_NOT_VERIFIED for an unverified user', async () => {
        const { accessToken } = await signInFreshUser({ isVerified: false });
        const problem = await expectAuthFailure(await call(`Bearer ${accessToken}`), 'EMAIL_NOT_VERIFIED');
        expect(problem.detail).toBe('Verify your email address first');
      });
    } else {
      it('lets an unverified user through', async () => {
        const { accessToken } = await signInFreshUser({ isVerified: false });
        await expectAuthenticated(await call(`Bearer ${accessToken}`));
      });
    }
  });
}
