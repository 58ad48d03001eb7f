// Short-lived JWT access tokens (jose, HS256). Refresh and email tokens are opaque and keyed with
// other secrets, so no other kind of token can ever verify here.
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../env';
import { randomToken } from '../../lib/crypto';

export const ACCESS_TOKEN_TYPE = 'access';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  emailVerified: boolean;
}

type TokenConfig = Pick<Config, 'ACCESS_SECRET_KEY' | 'ACCESS_TOKEN_EXPIRE' | 'APP_URL' | 'APP_NAME'>;

const key = (config: TokenConfig) => new TextEncoder().encode(config.ACCESS_SECRET_KEY);
const audience = (config: TokenConfig) => `${config.APP_NAME}:api`;

export async function issueAccessToken(config: TokenConfig, now: Date, claims: AccessClaims) {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({
    sid: claims.sessionId,
    typ: ACCESS_TOKEN_TYPE,
    email_verified: claims.emailVerified,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(config.APP_URL)
    .setAudience(audience(config))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + config.ACCESS_TOKEN_EXPIRE)
    .setJti(randomToken(16))
    .sign(key(config));
  return { token, expiresIn: config.ACCESS_TOKEN_EXPIRE };
}

export type VerifiedAccess =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'expired' | 'invalid' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function verifyAccessToken(
  config: TokenConfig,
  now: Date,
  token: string,
): Promise<VerifiedAccess> {
  try {
    const { payload } = await jwtVerify(token, key(config), {
      algorithms: ['HS256'],
      issuer: config.APP_URL,
      audience: audience(config),
      currentDate: now,
      requiredClaims: ['sub', 'sid', 'exp', 'iat', 'typ'],
    });
    const { sub, sid, typ, email_verified: emailVerified } = payload;
    if (typ !== ACCESS_TOKEN_TYPE || typeof sid !== 'string' || !UUID.test(sid) || !sub || !UUID.test(sub)) {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, claims: { userId: sub, sessionId: sid, emailVerified: emailVerified === true } };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
