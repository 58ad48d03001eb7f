// A software authenticator for the tests: it answers creation and request options the way a platform
// authenticator does (a discoverable credential, user verified, attestation "none"), on Web Crypto.
// test/unit/webauthn.test.ts shows @simplewebauthn/server accepts what it makes, so the Worker's verifier
// is checked against responses an independent verifier agrees are real.
import { type CBORType, encodeCBOR } from '@levischuck/tiny-cbor';

export type Algorithm = -7 | -8 | -257;

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
const fromB64url = (text: string) => {
  const normal = text.replaceAll('-', '+').replaceAll('_', '/');
  return Uint8Array.from(atob(normal + '='.repeat((4 - (normal.length % 4)) % 4)), (c) => c.charCodeAt(0));
};
const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const KEY_PARAMS = {
  [-7]: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  [-8]: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  [-257]: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
} as const;

async function coseKeyOf(alg: Algorithm, publicKey: CryptoKey): Promise<Uint8Array> {
  const jwk = (await crypto.subtle.exportKey('jwk', publicKey)) as JsonWebKey;
  const bytes = (value: string | undefined) => fromB64url(value ?? '');
  if (alg === -7) {
    return encodeCBOR(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, bytes(jwk.x)],
        [-3, bytes(jwk.y)],
      ]),
    );
  }
  if (alg === -8)
    return encodeCBOR(
      new Map<number, number | Uint8Array>([
        [1, 1],
        [3, -8],
        [-1, 6],
        [-2, bytes(jwk.x)],
      ]),
    );
  return encodeCBOR(
    new Map<number, number | Uint8Array>([
      [1, 3],
      [3, -257],
      [-1, bytes(jwk.n)],
      [-2, bytes(jwk.e)],
    ]),
  );
}

/** Web Crypto's r ‖ s to the ASN.1 DER form WebAuthn carries ECDSA signatures in. */
function rawToDer(raw: Uint8Array): Uint8Array {
  const integer = (half: Uint8Array) => {
    let i = 0;
    while (i < half.length - 1 && half[i] === 0) i++;
    const trimmed = half.slice(i);
    const value = (trimmed[0] ?? 0) & 0x80 ? concat(new Uint8Array([0]), trimmed) : trimmed;
    return concat(new Uint8Array([0x02, value.length]), value);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export interface CreationOptions {
  challenge: string;
  rp: { id: string };
  user: { id: string };
}
export interface RequestOptions {
  challenge: string;
  rpId: string;
}

export interface Ceremony {
  /** The page the ceremony runs on; the Worker under test allows http://app.edgeauth.test. */
  origin?: string;
  /** Sign for another RP ID than the options name. */
  rpId?: string;
  userVerified?: boolean;
  type?: string;
  /** Overrides the counter this assertion carries (the authenticator's own goes up by one each time). */
  counter?: number;
  /** Overrides the flags byte of the authenticator data. */
  flags?: number;
  /** Bytes appended to the authenticator data (after what its flags announce). */
  trailing?: Uint8Array;
  /** A COSE key to register instead of the authenticator's own. */
  publicKey?: Uint8Array;
}

export const TEST_ORIGIN = 'http://app.edgeauth.test';
export const FLAGS = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 };

export interface SoftwarePasskey {
  credentialId: string;
  userHandle: string | null;
  counter: number;
  register(options: CreationOptions, ceremony?: Ceremony): Promise<RegistrationResponseJson>;
  assert(options: RequestOptions, ceremony?: Ceremony): Promise<AuthenticationResponseJson>;
}

export interface RegistrationResponseJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: ('internal' | 'hybrid')[] };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment: 'platform';
}

export interface AuthenticationResponseJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment: 'platform';
}

/**
 * A new authenticator holding one credential. Its counter starts at `counter` (0: counters unused, as
 * synced passkeys do) and, if not 0, goes up by one on each assertion.
 */
export async function softwarePasskey({
  alg = -7 as Algorithm,
  counter = 0,
  rsaBits = 2048,
} = {}): Promise<SoftwarePasskey> {
  const params = KEY_PARAMS[alg];
  const generate = alg === -257 ? { ...KEY_PARAMS[-257].generate, modulusLength: rsaBits } : params.generate;
  const keys = (await crypto.subtle.generateKey(generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const rawId = crypto.getRandomValues(new Uint8Array(16));
  const credentialId = b64url(rawId);
  const cose = await coseKeyOf(alg, keys.publicKey);
  const authenticator: SoftwarePasskey = {
    credentialId,
    userHandle: null,
    counter,
    async register(options, ceremony = {}) {
      authenticator.userHandle = options.user.id;
      const clientData = json({
        type: ceremony.type ?? 'webauthn.create',
        challenge: options.challenge,
        origin: ceremony.origin ?? TEST_ORIGIN,
        crossOrigin: false,
      });
      const flags =
        ceremony.flags ??
        FLAGS.up | FLAGS.at | FLAGS.be | FLAGS.bs | (ceremony.userVerified === false ? 0 : FLAGS.uv);
      const authData = concat(
        await sha256(new TextEncoder().encode(ceremony.rpId ?? options.rp.id)),
        new Uint8Array([flags]),
        counterBytes(authenticator.counter),
        new Uint8Array(16),
        new Uint8Array([rawId.length >> 8, rawId.length & 0xff]),
        rawId,
        ceremony.publicKey ?? cose,
        ceremony.trailing ?? new Uint8Array(),
      );
      const attestationObject = encodeCBOR(
        new Map<string, CBORType>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, CBORType>()],
          ['authData', authData],
        ]),
      );
      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientData),
          attestationObject: b64url(attestationObject),
          transports: ['internal', 'hybrid'],
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
    async assert(options, ceremony = {}) {
      if (authenticator.counter > 0) authenticator.counter += 1;
      const clientData = json({
        type: ceremony.type ?? 'webauthn.get',
        challenge: options.challenge,
        origin: ceremony.origin ?? TEST_ORIGIN,
        crossOrigin: false,
      });
      const flags =
        ceremony.flags ?? FLAGS.up | FLAGS.be | FLAGS.bs | (ceremony.userVerified === false ? 0 : FLAGS.uv);
      const authData = concat(
        await sha256(new TextEncoder().encode(ceremony.rpId ?? options.rpId)),
        new Uint8Array([flags]),
        counterBytes(ceremony.counter ?? authenticator.counter),
        ceremony.trailing ?? new Uint8Array(),
      );
      const signed = concat(authData, await sha256(clientData));
      const raw = new Uint8Array(await crypto.subtle.sign(params.sign, keys.privateKey, signed));
      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientData),
          authenticatorData: b64url(authData),
          signature: b64url(alg === -7 ? rawToDer(raw) : raw),
          ...(authenticator.userHandle ? { userHandle: authenticator.userHandle } : {}),
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
  };
  return authenticator;
}

function counterBytes(counter: number) {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, counter);
  return bytes;
}

export { b64url, concat, fromB64url, sha256 };
