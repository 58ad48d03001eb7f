// Access-token signing keys as ACCESS_SIGNING_KEYS holds them: base64url of a JWK set, newest first, the
// first one private (it signs) and the rest public (they still verify tokens signed before a rotation).
// Shared by `npm run dev` (a fresh key for .dev.vars), the tests and `npm run keys:rotate`.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';

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

/** What the Worker accepts (src/env.ts): at most this many keys in a set. */
export const MAX_KEYS = 10;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Throws unless `keys` is a set the Worker accepts and can use: P-256 keys with their own kids, at most
 * MAX_KEYS, the first private and matching its public half, the others public and valid points. The
 * messages never quote key material.
 */
export function checkKeySet(keys, { requirePrivate = true } = {}) {
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('no keys');
  if (keys.length > MAX_KEYS)
    throw new Error(`${keys.length} keys, more than the ${MAX_KEYS} the Worker accepts`);
  const kids = new Set();
  for (const [index, key] of keys.entries()) {
    const label = `key ${index + 1}`;
    if (key?.kty !== 'EC' || key.crv !== 'P-256') throw new Error(`${label} is not an EC P-256 key`);
    if (!COORDINATE.test(key.x ?? '') || !COORDINATE.test(key.y ?? ''))
      throw new Error(`${label} has bad x or y`);
    if (typeof key.kid !== 'string' || key.kid.length === 0 || key.kid.length > 128) {
      throw new Error(`${label} needs a kid of 1 to 128 characters`);
    }
    if (kids.has(key.kid)) throw new Error(`${label} repeats a kid`);
    kids.add(key.kid);
    const isPrivate = key.d !== undefined;
    if (isPrivate !== (index === 0 && requirePrivate)) {
      throw new Error(index === 0 ? `${label} must be the private signing key` : `${label} must be public`);
    }
    try {
      createPublicKey({ key: publicPart(key), format: 'jwk' });
    } catch {
      throw new Error(`${label} is not a point on P-256`);
    }
  }
  if (!requirePrivate) return;
  const probe = Buffer.from('keys:rotate self-test');
  try {
    const signature = sign('sha256', probe, createPrivateKey({ key: keys[0], format: 'jwk' }));
    if (!verify('sha256', probe, createPublicKey({ key: publicPart(keys[0]), format: 'jwk' }), signature)) {
      throw new Error('mismatch');
    }
  } catch {
    throw new Error('key 1: the private key does not match its public half');
  }
}

export function encodeKeySet(keys) {
  checkKeySet(keys);
  return Buffer.from(JSON.stringify({ keys })).toString('base64url');
}

/** The keys of an ACCESS_SIGNING_KEYS value; errors say what is wrong without quoting the value. */
export function decodeKeySet(value) {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error('not base64url');
  let keys;
  try {
    ({ keys } = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
  } catch {
    throw new Error('not base64url JSON');
  }
  checkKeySet(keys);
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
  if (kept.length + 1 > MAX_KEYS) {
    throw new Error(
      `the new set would hold ${kept.length + 1} keys (at most ${MAX_KEYS}): rotate less often than every ` +
        `${Math.ceil(keepSeconds / MAX_KEYS)} s, or wait until older keys have expired`,
    );
  }
  const rotated = [newSigningKey(now), ...kept];
  checkKeySet(rotated);
  return { keys: rotated, dropped };
}
