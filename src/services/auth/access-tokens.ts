// Short-lived JWT access tokens (jose). ES256 by default: the first key of ACCESS_SIGNING_KEYS signs,
// with its `kid` in the header, and every key in the set (published at /.well-known/jwks.json) verifies,
// so resource servers check tokens with the public keys alone and a rotation signs no one out. HS256
// under ACCESS_SECRET_KEY only when ACCESS_TOKEN_ALG=HS256. Refresh and email tokens are opaque and
// keyed with other secrets, so no other kind of token can ever verify here.
import { createLocalJWKSet, errors, importJWK, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { type Config, ConfigError, type PublicSigningKey } from '../../env';
import { randomToken } from '../../lib/crypto';
import type { PublicEntitlement } from '../billing/access';

export const ACCESS_TOKEN_TYPE = 'access';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  emailVerified: boolean;
}

type TokenConfig = Pick<
  Config,
  | 'ACCESS_TOKEN_ALG'
  | 'ACCESS_SIGNING_KEYS'
  | 'ACCESS_SECRET_KEY'
  | 'ACCESS_TOKEN_EXPIRE'
  | 'APP_URL'
  | 'APP_NAME'
>;

interface Keys {
  alg: 'ES256' | 'HS256';
  kid: string | undefined;
  signWith: CryptoKey | Uint8Array;
  verifyWith: Uint8Array | JWTVerifyGetKey;
  published: PublicSigningKey[];
  /** Tokens this isolate has verified with these keys, by their exact text: see verifyAccessToken. */
  verified: Map<string, { claims: AccessClaims; exp: number }>;
}

/** Verified tokens remembered per key set (about 2 MiB at ~500 bytes a token); the least recently used go first. */
const VERIFIED_TOKENS_MAX = 4096;

const keysByConfig = new WeakMap<TokenConfig, Promise<Keys>>();

/** The imported keys, once per isolate and configuration. */
function keysOf(config: TokenConfig): Promise<Keys> {
  let keys = keysByConfig.get(config);
  if (!keys) {
    keys = (async (): Promise<Keys> => {
      if (config.ACCESS_TOKEN_ALG === 'HS256') {
        const secret = new TextEncoder().encode(config.ACCESS_SECRET_KEY);
        return {
          alg: 'HS256',
          kid: undefined,
          signWith: secret,
          verifyWith: secret,
          published: [],
          verified: new Map(),
        };
      }
      const set = config.ACCESS_SIGNING_KEYS;
      if (!set) throw new Error('ACCESS_SIGNING_KEYS is not set'); // env.ts refuses such a config
      const keys: Keys = {
        alg: 'ES256',
        kid: set.signer.kid,
        signWith: await importJWK({ ...set.signer, alg: 'ES256' }, 'ES256').catch(() => {
          throw badKeySet();
        }),
        verifyWith: createLocalJWKSet({ keys: set.published }),
        published: set.published,
        verified: new Map(),
      };
      await selfTest(keys);
      return keys;
    })();
    keysByConfig.set(config, keys);
  }
  return keys;
}

const badKeySet = () =>
  new ConfigError(
    'Invalid configuration: ACCESS_SIGNING_KEYS: a key is not a valid P-256 key, or the signing key does not ' +
      'match its public half; make a new value with npm run keys:rotate',
  );

/**
 * Every published key imports, and a token signed with the private key verifies with its published
 * half: a key set that only looks right fails here, once per isolate, not at the first sign-in.
 */
async function selfTest(keys: Keys) {
  try {
    for (const key of keys.published) await importJWK(key, 'ES256');
    const probe = await new SignJWT({ typ: 'self-test' })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid ?? '' })
      .sign(keys.signWith);
    if (keys.verifyWith instanceof Uint8Array) throw new Error('unreachable');
    await jwtVerify(probe, keys.verifyWith, { algorithms: ['ES256'] });
  } catch {
    throw badKeySet();
  }
}

/** Resolves once the keys are imported and checked; rejects with a ConfigError (GET /health uses it). */
export async function checkSigningKeys(config: TokenConfig): Promise<void> {
  await keysOf(config);
}

/** The public keys, for GET /.well-known/jwks.json. */
export async function publishedKeys(config: TokenConfig): Promise<{ keys: PublicSigningKey[] }> {
  return { keys: (await keysOf(config)).published };
}

export const accessTokenAudience = (config: Pick<Config, 'APP_NAME'>) => `${config.APP_NAME}:api`;

/**
 * `entitlements` is what GET /billing/entitlements answered when the token was issued (null: no access),
 * so a resource server can gate features with the token alone; it may be one token lifetime old.
 */
export async function issueAccessToken(
  config: TokenConfig,
  now: Date,
  claims: AccessClaims & { entitlements: PublicEntitlement | null },
) {
  const keys = await keysOf(config);
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({
    sid: claims.sessionId,
    typ: ACCESS_TOKEN_TYPE,
    email_verified: claims.emailVerified,
    entitlements: claims.entitlements,
  })
    .setProtectedHeader({ alg: keys.alg, typ: 'JWT', ...(keys.kid ? { kid: keys.kid } : {}) })
    .setSubject(claims.userId)
    .setIssuer(config.APP_URL)
    .setAudience(accessTokenAudience(config))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + config.ACCESS_TOKEN_EXPIRE)
    .setJti(randomToken(16))
    .sign(keys.signWith);
  return { token, expiresIn: config.ACCESS_TOKEN_EXPIRE };
}

export type VerifiedAccess =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'expired' | 'invalid' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Verifies a token's signature and claims. A token is a client's for its whole lifetime and comes back on
 * every request, so the isolate remembers the tokens it verified with these keys by their exact text: a
 * repeat skips the ES256 check (the most CPU of a cached authenticated read), and only its expiry is
 * checked again. The same text verified by the same keys always verifies; a retired key is a new config,
 * so new keys and an empty memory.
 */
export async function verifyAccessToken(
  config: TokenConfig,
  now: Date,
  token: string,
): Promise<VerifiedAccess> {
  try {
    const keys = await keysOf(config);
    const seconds = Math.floor(now.getTime() / 1000);
    const known = keys.verified.get(token);
    if (known) {
      keys.verified.delete(token);
      // jose's rule: expired once exp <= now.
      if (known.exp <= seconds) return { ok: false, reason: 'expired' };
      // Back to the newest end: the tokens in use stay, the ones no longer sent go first.
      keys.verified.set(token, known);
      return { ok: true, claims: known.claims };
    }
    const options = {
      algorithms: [keys.alg],
      issuer: config.APP_URL,
      audience: accessTokenAudience(config),
      currentDate: now,
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'typ'],
    };
    // A kid not in the set (unknown, or retired past every token it signed) finds no key: refused.
    const { payload } =
      keys.verifyWith instanceof Uint8Array
        ? await jwtVerify(token, keys.verifyWith, options)
        : await jwtVerify(token, keys.verifyWith, options);
    const { sub, sid, typ, exp, email_verified: emailVerified } = payload;
    if (typ !== ACCESS_TOKEN_TYPE || typeof sid !== 'string' || !UUID.test(sid) || !sub || !UUID.test(sub)) {
      return { ok: false, reason: 'invalid' };
    }
    // Frozen: every later request with this token gets this same object.
    const claims = Object.freeze({ userId: sub, sessionId: sid, emailVerified: emailVerified === true });
    if (keys.verified.size >= VERIFIED_TOKENS_MAX) {
      keys.verified.delete(keys.verified.keys().next().value as string);
    }
    keys.verified.set(token, { claims, exp: exp as number });
    return { ok: true, claims };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
