// `@edgeauth/client/server`: verifying edgeauth access tokens in a resource server (another Worker, a Node
// service) with the issuer's public keys alone, no call back per request and no shared secret. The JWK set
// is fetched from the issuer's jwks_uri and cached per isolate (jose's remote JWK set: refreshed when a
// token names a kid it does not hold, at most every 30 seconds, and at least every 10 minutes).
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from 'jose';

export interface VerifyOptions {
  /** edgeauth's APP_URL, e.g. 'https://auth.example.com': the tokens' `iss`. */
  issuer: string;
  /** The tokens' `aud`: `<APP_NAME>:api`, e.g. 'edgeauth:api'. */
  audience: string;
  /** Default: `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Fetches the JWK set (default: the global fetch); a Worker can pass a service binding's fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** What a verified access token says. */
export interface AccessTokenClaims extends JWTPayload {
  /** The user's id. */
  sub: string;
  /** The session's id. */
  sid: string;
  typ: 'access';
  email_verified: boolean;
  /**
   * What GET /billing/entitlements answered when the token was issued (at sign-in or /refresh-token):
   * null without a subscription that grants access. Use hasFeature()/accessOf() to read it.
   */
  entitlements: Entitlements | null;
  exp: number;
  iat: number;
}

/** The plan a token's user had access to when it was issued. */
export interface Entitlements {
  plan_code: string;
  tier: 'free' | 'pro' | 'vip';
  features: string[];
  /** ISO 8601; null for a subscription without an end (none today, kept for forward compatibility). */
  access_until: string | null;
}

/**
 * The token's entitlements if they still hold at `now`: null once `access_until` has passed, even
 * while the token itself is still valid. The claim may be up to one access-token lifetime old.
 */
export function accessOf(
  claims: Pick<AccessTokenClaims, 'entitlements'>,
  now = new Date(),
): Entitlements | null {
  const granted = claims.entitlements;
  if (!granted) return null;
  if (granted.access_until !== null && Date.parse(granted.access_until) <= now.getTime()) return null;
  return granted;
}

/** Whether the token's plan unlocks `feature` at `now`. */
export function hasFeature(
  claims: Pick<AccessTokenClaims, 'entitlements'>,
  feature: string,
  now = new Date(),
) {
  return accessOf(claims, now)?.features.includes(feature) ?? false;
}

/** Why a token was refused: `expired` (refresh and retry) or `invalid` (not ours, tampered, wrong kind). */
export class AccessTokenError extends Error {
  override name = 'AccessTokenError';
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

type Fetcher = NonNullable<VerifyOptions['fetch']>;
type KeySet = ReturnType<typeof createRemoteJWKSet>;
/** Per isolate: one remote key set per JWKS URL, and per custom fetch (a test's, a service binding's). */
const keySets = new Map<string, KeySet>();
const keySetsByFetch = new WeakMap<Fetcher, Map<string, KeySet>>();

function keySetFor(url: string, fetcher: Fetcher | undefined): KeySet {
  let cache = keySets;
  if (fetcher) {
    cache = keySetsByFetch.get(fetcher) ?? new Map();
    keySetsByFetch.set(fetcher, cache);
  }
  let keys = cache.get(url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(url), fetcher ? { [customFetch]: fetcher } : {});
    cache.set(url, keys);
  }
  return keys;
}

/**
 * Verifies an edgeauth access token: ES256 under a key of the issuer's JWK set, the issuer, the audience,
 * not expired, an access token (not another kind). Throws AccessTokenError otherwise.
 *
 * It does not know about sign-outs: a token stays valid until it expires (ACCESS_TOKEN_EXPIRE, 15 minutes
 * by default) even after its session ends. Call edgeauth itself where that matters.
 */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
  const jwksUrl = options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  try {
    const { payload } = await jwtVerify(token, keySetFor(jwksUrl, options.fetch), {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: ['ES256'],
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'typ'],
    });
    if (payload.typ !== 'access' || typeof payload.sid !== 'string') {
      throw new AccessTokenError('invalid', 'Not an access token');
    }
    return {
      ...payload,
      email_verified: payload.email_verified === true,
      entitlements: entitlementsOf(payload.entitlements),
    } as AccessTokenClaims;
  } catch (error) {
    if (error instanceof AccessTokenError) throw error;
    if (error instanceof errors.JWTExpired)
      throw new AccessTokenError('expired', 'The access token has expired');
    throw new AccessTokenError('invalid', error instanceof Error ? error.message : 'Invalid access token');
  }
}

/** The claim as issued, or null when absent (a token from before the claim existed) or malformed. */
function entitlementsOf(value: unknown): Entitlements | null {
  if (typeof value !== 'object' || value === null) return null;
  const claim = value as Record<string, unknown>;
  const valid =
    typeof claim.plan_code === 'string' &&
    (claim.tier === 'free' || claim.tier === 'pro' || claim.tier === 'vip') &&
    Array.isArray(claim.features) &&
    claim.features.every((feature) => typeof feature === 'string') &&
    (claim.access_until === null || typeof claim.access_until === 'string');
  return valid ? (claim as unknown as Entitlements) : null;
}
