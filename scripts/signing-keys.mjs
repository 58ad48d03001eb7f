// Access-token signing keys as ACCESS_SIGNING_KEYS holds them: base64url of a JWK set, newest first, the
// first one private (it signs) and the rest public (they still verify tokens signed before a rotation).
// Shared by `npm run dev` (a fresh key for .dev.vars), the tests and `npm run keys:rotate`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** `20261203T150405Z-1a2b3c4d`: a key's id says when it was made, which is when the one before it retired. */
const kidAt = (now) =>
  `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;

/** A new ES256 (P-256) private key as a JWK, with its kid. */
export function newSigningKey(now = new Date()) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: kidAt(now), alg: 'ES256', use: 'sig' };
}

export const encodeKeySet = (keys) => Buffer.from(JSON.stringify({ keys })).toString('base64url');

export function decodeKeySet(value) {
  const { keys } = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('not a key set: no "keys"');
  return keys;
}

/** The public half of a JWK: what may be published and kept after the key stops signing. */
export const publicPart = ({ d: _private, ...rest }) => rest;

/** When a key was made, from its kid; null for a kid not made here. */
export function createdAt(kid) {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(kid ?? '');
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

/** A fresh key set with one new key (for .dev.vars and the tests). */
export const freshKeySet = (now = new Date()) => encodeKeySet([newSigningKey(now)]);

/**
 * The key set after one rotation: a new signing key first, then the previous keys' public halves for as
 * long as tokens they signed may be alive. A key retired when the key after it was made; it is kept
 * until `keepSeconds` after that (the access-token lifetime plus the time a deploy takes).
 * @returns {{ keys: object[], dropped: string[] }}
 */
export function rotateKeySet(keys, { now = new Date(), keepSeconds }) {
  const kept = [];
  const dropped = [];
  let retiredAt = now;
  for (const key of keys) {
    if (now.getTime() - retiredAt.getTime() < keepSeconds * 1000) kept.push(publicPart(key));
    else dropped.push(key.kid);
    retiredAt = createdAt(key.kid) ?? retiredAt;
  }
  return { keys: [newSigningKey(now), ...kept], dropped };
}
