// Access tokens on asymmetric keys, checked the way a resource server checks them: jose's remote JWK set
// fetched from the Worker's /.well-known/jwks.json, never our own verification code. Rotation (the key
// set `npm run keys:rotate` makes, built in vitest.config.ts) keeps every token and session alive; a key
// not in the set verifies nothing, here or at the resource server.
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessTokenError, verifyAccessToken } from '../../packages/client/src/server';
import { bearer, createUser, login } from '../support/accounts';
import { bindings } from '../support/bindings';
import { envWithClock, fakeClock } from '../support/clock';
import { expectProblem } from '../support/problem';
import { signingKeyOf } from '../support/signing-keys';
import { API_ORIGIN, api, testEnv } from '../support/worker';

const ISSUER = API_ORIGIN;
const AUDIENCE = 'edgeauth-test:api';
const rotatedEnv = () => testEnv({ ACCESS_SIGNING_KEYS: bindings.TEST_ROTATED_SIGNING_KEYS });
/** A deployment whose keys are all someone else's: the old kids are gone from its set. */
const foreignEnv = () => testEnv({ ACCESS_SIGNING_KEYS: bindings.TEST_FOREIGN_SIGNING_KEYS });

/** What a resource server does: the JWKS from the issuer (fetched from the Worker under test), then verify. */
function resourceServer(env?: Env) {
  const keys = createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`), {
    [customFetch]: (url) => api(new URL(url).pathname, {}, env),
  });
  return (token: string) =>
    jwtVerify(token, keys, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] });
}

const jwksOf = async (env?: Env) =>
  (await (await api('/.well-known/jwks.json', {}, env)).json()) as { keys: (JWK & { kid: string })[] };

const privateKeyOf = signingKeyOf;

describe('GET /.well-known/jwks.json and /.well-known/openid-configuration', () => {
  it('publish the public key only, cacheable for less than a key stays published', async () => {
    const response = await api('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: privateKeyOf(bindings.ACCESS_SIGNING_KEYS).kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    const discovery = await api('/.well-known/openid-configuration');
    expect(discovery.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await discovery.json()).toEqual({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json` });
  });
});

describe('a token from /login', () => {
  it('is ES256 with a kid, and verifies with the public JWKS alone', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: privateKeyOf(bindings.ACCESS_SIGNING_KEYS).kid });
    const { payload } = await resourceServer()(token);
    expect(payload).toMatchObject({
      sub: user.id,
      typ: 'access',
      email_verified: true,
      iss: ISSUER,
      aud: AUDIENCE,
    });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('signed by a key not in the JWKS (under our kid) is refused by the resource server and the Worker', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
    ])) as CryptoKeyPair;
    const forged = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: decodeProtectedHeader(token).kid! })
      .sign(pair.privateKey);
    await expect(resourceServer()(forged)).rejects.toThrow(/signature verification failed/);
    await expectProblem(await api('/me', { headers: bearer(forged) }), 401, 'INVALID_TOKEN');
  });
});

describe('the test key', () => {
  it('re-signs a token so that it still verifies: forgery tests then refuse claims, not the key', async () => {
    const key = privateKeyOf(bindings.ACCESS_SIGNING_KEYS);
    const user = await createUser();
    const { token } = await login(user.email);
    const copy = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .sign(await importJWK(key, 'ES256'));
    expect((await api('/me', { headers: bearer(copy) })).status).toBe(200);
  });
});

describe('rotating the signing key', () => {
  it('signs new tokens with the new kid, keeps old tokens and sessions valid, and publishes both keys', async () => {
    const user = await createUser();
    const before = await login(user.email);
    const oldKid = decodeProtectedHeader(before.token).kid;
    const env = rotatedEnv();

    const { keys } = await jwksOf(env);
    expect(keys.map((key) => key.kid)).toEqual([
      privateKeyOf(bindings.TEST_ROTATED_SIGNING_KEYS).kid,
      oldKid,
    ]);
    expect(keys.every((key) => !('d' in key))).toBe(true);

    // The old token still works, at the Worker and at a resource server reading the new JWKS.
    expect((await api('/me', { headers: bearer(before.token) }, env)).status).toBe(200);
    await expect(resourceServer(env)(before.token)).resolves.toBeTruthy();
    // Nobody is signed out: the session refreshes, and its new token carries the new kid.
    const refreshed = await api(
      '/refresh-token',
      {
        method: 'POST',
        headers: { cookie: `edgeauth_refresh=${before.refreshCookie}`, origin: 'http://app.edgeauth.test' },
      },
      env,
    );
    expect(refreshed.status).toBe(200);
    const { token } = (await refreshed.json()) as { token: string };
    expect(decodeProtectedHeader(token).kid).toBe(keys[0]!.kid);
    await expect(resourceServer(env)(token)).resolves.toBeTruthy();
    const after = await login(user.email, undefined, {}, env);
    expect(decodeProtectedHeader(after.token).kid).toBe(keys[0]!.kid);
  });

  it('refuses a token whose kid has left the set, even one verified before under the old set', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
    await expectProblem(await api('/me', { headers: bearer(token) }, foreignEnv()), 401, 'INVALID_TOKEN');
    await expect(resourceServer(foreignEnv())(token)).rejects.toThrow(/no applicable key found/);
  });
});

// The Worker remembers the tokens it verified (by their exact text) so a repeat skips the signature check;
// what it remembered must still expire on time and never vouch for any other text.
describe('a token the Worker has verified before', () => {
  it('still expires at its exp to the second', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token } = await login(user.email, undefined, {}, env);
    expect((await api('/me', { headers: bearer(token) }, env)).status).toBe(200);
    const secondsLeft = (decodeJwt(token).exp as number) - Math.floor(clock.now().getTime() / 1000);
    clock.advance(secondsLeft - 1);
    expect((await api('/me', { headers: bearer(token) }, env)).status).toBe(200);
    clock.advance(1);
    await expectProblem(await api('/me', { headers: bearer(token) }, env), 401, 'TOKEN_EXPIRED');
    // And stays refused: the expired entry is gone, the signature check refuses it as expired too.
    await expectProblem(await api('/me', { headers: bearer(token) }, env), 401, 'TOKEN_EXPIRED');
  });

  it('vouches for that exact text only: a copy with another signature or payload is refused', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const otherSignature = `${head}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const claims = { ...decodeJwt(token), email_verified: true, sub: crypto.randomUUID() };
    const base64url = (text: string) =>
      btoa(text).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
    const otherPayload = `${head}.${base64url(JSON.stringify(claims))}.${signature}`;
    const otherHeader = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.${signature}`;
    for (const forged of [otherSignature, otherPayload, otherHeader]) {
      await expectProblem(await api('/me', { headers: bearer(forged) }), 401, 'INVALID_TOKEN');
    }
  });
});

describe('ACCESS_TOKEN_ALG=HS256', () => {
  it('signs with the shared secret, publishes no key, and refuses ES256 tokens', async () => {
    const env = testEnv({ ACCESS_TOKEN_ALG: 'HS256' });
    const user = await createUser();
    const { token } = await login(user.email, undefined, {}, env);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect((await api('/me', { headers: bearer(token) }, env)).status).toBe(200);
    expect(await jwksOf(env)).toEqual({ keys: [] });
    const es256 = (await login(user.email)).token;
    await expectProblem(await api('/me', { headers: bearer(es256) }, env), 401, 'INVALID_TOKEN');
    await expectProblem(await api('/me', { headers: bearer(token) }), 401, 'INVALID_TOKEN');
  });
});

describe('verifyAccessToken from @edgeauth/client/server', () => {
  /** A resource server's options; its fetch reaches the Worker under test (one per env, as a binding). */
  const fetchers = new Map<Env | undefined, (url: string) => Promise<Response>>();
  const options = (env?: Env) => {
    if (!fetchers.has(env)) fetchers.set(env, (url: string) => api(new URL(url).pathname, {}, env));
    return { issuer: ISSUER, audience: AUDIENCE, fetch: fetchers.get(env)! };
  };

  it('gives the claims of a live token, and says expired or invalid otherwise', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const claims = await verifyAccessToken(token, options());
    expect(claims).toMatchObject({ sub: user.id, typ: 'access', email_verified: true });

    const past = envWithClock(fakeClock(new Date(Date.now() - 3600_000)));
    const old = await login(user.email, undefined, {}, past);
    const expired = await verifyAccessToken(old.token, options(past)).catch((error: unknown) => error);
    expect(expired).toBeInstanceOf(AccessTokenError);
    expect((expired as AccessTokenError).reason).toBe('expired');

    const [head, payload] = token.split('.');
    const tampered = await verifyAccessToken(`${head}.${payload}.${'A'.repeat(86)}`, options()).catch(
      (error: unknown) => error,
    );
    expect((tampered as AccessTokenError).reason).toBe('invalid');
    const otherAudience = await verifyAccessToken(token, {
      ...options(),
      audience: 'someone-else:api',
    }).catch((error: unknown) => error);
    expect((otherAudience as AccessTokenError).reason).toBe('invalid');
  });
});
