// The WebAuthn checks a relying party makes (Level 3, §7.1 registration and §7.2 authentication), on Web
// Crypto and a small CBOR decoder. edgeauth asks for `attestation: "none"` and does not judge
// authenticator models, so attestation statements are not verified: what a registration proves is that
// the signed-in owner's authenticator made a key for this RP, over our challenge, with user verification.
// @simplewebauthn/server does the same and more, but weighs 85 KiB gzip in the Worker (its ASN.1 and
// attestation-format parsers); the tests check this module against it on the same responses.
import { decodeCBOR, decodePartialCBOR } from '@levischuck/tiny-cbor';
import { AppError } from '../../errors';
import { fromBase64, toBase64Url } from '../../lib/crypto';

/** COSE algorithms we accept, in our order of preference: EdDSA (Ed25519), ES256, RS256. */
export const COSE_ALGORITHMS = [-8, -7, -257] as const;
export type CoseAlgorithm = (typeof COSE_ALGORITHMS)[number];

export interface RelyingParty {
  id: string;
  origins: readonly string[];
}

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin?: boolean;
}

export interface RegistrationResponse {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports?: string[] | undefined };
}

export interface AuthenticationResponse {
  id: string;
  rawId: string;
  type: 'public-key';
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string | null | undefined;
  };
}

export interface VerifiedRegistration {
  credentialId: string;
  publicKey: string;
  algorithm: CoseAlgorithm;
  signCount: number;
  backedUp: boolean;
}

export interface StoredCredential {
  publicKey: string;
  algorithm: number;
  signCount: number;
}

export const rejected = (detail: string) => new AppError('PASSKEY_REJECTED', detail);

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_BACKUP_ELIGIBLE = 0x08;
const FLAG_BACKED_UP = 0x10;
const FLAG_ATTESTED_DATA = 0x40;
const FLAG_EXTENSIONS = 0x80;

/** base64url without padding; a length of 4n + 1 can encode nothing. */
const decodeBase64Url = (text: string, what: string) => {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw rejected(`${what} is not base64url`);
  return fromBase64(text);
};

/** The client data the browser signed over; its challenge says which stored challenge it answers. */
export function readClientData(encoded: string): ClientData {
  let data: unknown;
  try {
    data = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
        decodeBase64Url(encoded, 'clientDataJSON'),
      ),
    );
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw rejected('clientDataJSON is not JSON');
  }
  const { type, challenge, origin, crossOrigin } = (data ?? {}) as Record<string, unknown>;
  if (typeof type !== 'string' || typeof challenge !== 'string' || typeof origin !== 'string') {
    throw rejected('clientDataJSON lacks its type, challenge or origin');
  }
  return { type, challenge, origin, crossOrigin: crossOrigin === true };
}

function checkClientData(data: ClientData, type: string, challenge: string, rp: RelyingParty) {
  if (data.type !== type) throw rejected(`clientDataJSON.type is ${data.type}, not ${type}`);
  if (data.challenge !== challenge) throw rejected('The response answers another challenge');
  if (!rp.origins.includes(data.origin))
    throw rejected(`The origin ${data.origin} is not one of this service's`);
  if (data.crossOrigin) throw rejected('Cross-origin ceremonies are not accepted');
}

interface AuthenticatorData {
  flags: number;
  signCount: number;
  attested?: { credentialId: Uint8Array; publicKey: Uint8Array };
}

async function parseAuthenticatorData(bytes: Uint8Array, rp: RelyingParty): Promise<AuthenticatorData> {
  if (bytes.length < 37) throw rejected('authenticatorData is too short');
  const rpIdHash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(rp.id)));
  if (!rpIdHash.every((byte, i) => byte === bytes[i])) throw rejected(`The credential is not for ${rp.id}`);
  const flags = bytes[32] ?? 0;
  if (!(flags & FLAG_USER_PRESENT)) throw rejected('The authenticator did not see the user present');
  if (!(flags & FLAG_USER_VERIFIED)) throw rejected('The authenticator did not verify the user');
  if (flags & FLAG_BACKED_UP && !(flags & FLAG_BACKUP_ELIGIBLE)) {
    throw rejected('The authenticator says backed up but not backup eligible');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signCount = view.getUint32(33);
  // Nothing may follow what the flags announce (the extensions, when announced, are CBOR at the end).
  const endsAt = (offset: number) => {
    const end = flags & FLAG_EXTENSIONS ? offset + decodePartialCBOR(bytes, offset)[1] : offset;
    if (end !== bytes.length) throw rejected('authenticatorData has bytes its flags do not announce');
  };
  if (!(flags & FLAG_ATTESTED_DATA)) {
    endsAt(37);
    return { flags, signCount };
  }
  // aaguid (16) | credential id length (2) | credential id | COSE key (CBOR) | extensions (CBOR)
  if (bytes.length < 55) throw rejected('attested credential data is too short');
  const idLength = view.getUint16(53);
  const keyStart = 55 + idLength;
  if (idLength === 0 || idLength > 1023 || bytes.length <= keyStart) throw rejected('Bad credential ID');
  const [, keyLength] = decodePartialCBOR(bytes, keyStart);
  endsAt(keyStart + keyLength);
  return {
    flags,
    signCount,
    attested: {
      credentialId: bytes.slice(55, keyStart),
      publicKey: bytes.slice(keyStart, keyStart + keyLength),
    },
  };
}

type CoseKey = Map<string | number, unknown>;

/** The Web Crypto key and verify parameters for a COSE public key we accept. */
async function importCoseKey(coseBytes: Uint8Array) {
  const key = decodeCBOR(coseBytes) as unknown;
  if (!(key instanceof Map)) throw rejected('The public key is not a COSE key');
  const cose = key as CoseKey;
  const bytes = (label: number) => {
    const value = cose.get(label);
    if (!(value instanceof Uint8Array)) throw rejected('The COSE key is incomplete');
    return toBase64Url(value);
  };
  const alg = cose.get(3);
  const kty = cose.get(1);
  if (alg === -8 && kty === 1 && cose.get(-1) === 6) {
    const x = cose.get(-2);
    if (!(x instanceof Uint8Array) || x.length !== 32 || isSmallOrder(x)) {
      throw rejected('The Ed25519 key is not a valid public key');
    }
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: bytes(-2) };
    const cryptoKey = await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['verify']);
    return { alg: -8 as const, cryptoKey, params: { name: 'Ed25519' }, der: false };
  }
  if (alg === -7 && kty === 2 && cose.get(-1) === 1) {
    const jwk = { kty: 'EC', crv: 'P-256', x: bytes(-2), y: bytes(-3) };
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    return { alg: -7 as const, cryptoKey, params: { name: 'ECDSA', hash: 'SHA-256' }, der: true };
  }
  if (alg === -257 && kty === 3) {
    const n = cose.get(-1);
    const bits = n instanceof Uint8Array ? (n.length - (n[0] === 0 ? 1 : 0)) * 8 : 0;
    if (bits < 2048 || bits > 8192) throw rejected('RSA keys must be 2048 to 8192 bits');
    const jwk = { kty: 'RSA', n: bytes(-1), e: bytes(-2) };
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    return { alg: -257 as const, cryptoKey, params: { name: 'RSASSA-PKCS1-v1_5' }, der: false };
  }
  throw rejected('The key type is not one of EdDSA (Ed25519), ES256 or RS256');
}

/**
 * Ed25519 points of small order (and their non-canonical encodings, the sign bit ignored): a "public key"
 * for which one signature verifies every message. libsodium refuses the same list.
 */
const SMALL_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

function isSmallOrder(point: Uint8Array): boolean {
  const hex = [...point].map((byte, i) => (i === 31 ? byte & 0x7f : byte).toString(16).padStart(2, '0'));
  return SMALL_ORDER_POINTS.includes(hex.join(''));
}

/** An ECDSA signature from ASN.1 DER (SEQUENCE of two INTEGERs) to the r ‖ s form Web Crypto verifies. */
function derToRaw(der: Uint8Array): Uint8Array {
  const fail = () => rejected('The signature is not a DER ECDSA signature');
  if (der[0] !== 0x30 || der.length < 8 || der[1] !== der.length - 2) throw fail();
  const out = new Uint8Array(64);
  let offset = 2;
  for (const half of [0, 1]) {
    if (der[offset] !== 0x02) throw fail();
    const length = der[offset + 1] ?? 0;
    let value = der.slice(offset + 2, offset + 2 + length);
    if (value.length !== length) throw fail();
    while (value.length > 32 && value[0] === 0) value = value.slice(1);
    if (value.length > 32) throw fail();
    out.set(value, half * 32 + 32 - value.length);
    offset += 2 + length;
  }
  if (offset !== der.length) throw fail();
  return out;
}

/** Runs a parse step, turning whatever malformed input throws into 400 PASSKEY_REJECTED. */
async function parsing<T>(what: string, step: () => Promise<T> | T): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw rejected(`${what} is malformed`);
  }
}

function checkIds(response: { id: string; rawId: string }) {
  if (response.id !== response.rawId) throw rejected('id and rawId differ');
  return decodeBase64Url(response.rawId, 'rawId');
}

/** §7.1: a new credential, made over `challenge` for this RP with the user verified. */
export async function verifyRegistration(
  response: RegistrationResponse,
  challenge: string,
  rp: RelyingParty,
): Promise<VerifiedRegistration> {
  const rawId = checkIds(response);
  checkClientData(readClientData(response.response.clientDataJSON), 'webauthn.create', challenge, rp);
  const attestation = await parsing('attestationObject', () =>
    decodeCBOR(decodeBase64Url(response.response.attestationObject, 'attestationObject')),
  );
  const authData = attestation instanceof Map ? attestation.get('authData') : undefined;
  if (!(authData instanceof Uint8Array)) throw rejected('attestationObject has no authData');
  const parsed = await parsing('authenticatorData', () => parseAuthenticatorData(authData, rp));
  if (!parsed.attested) throw rejected('The response carries no new credential');
  const { credentialId, publicKey } = parsed.attested;
  if (toBase64Url(credentialId) !== toBase64Url(rawId))
    throw rejected('The credential ID does not match rawId');
  const { alg } = await parsing('The public key', () => importCoseKey(publicKey));
  return {
    credentialId: toBase64Url(credentialId),
    publicKey: toBase64Url(publicKey),
    algorithm: alg,
    signCount: parsed.signCount,
    backedUp: (parsed.flags & FLAG_BACKED_UP) !== 0,
  };
}

/**
 * §7.2: an assertion over `challenge` by `stored`, with the user verified. Returns the new counter; a
 * counter that did not move past a non-zero stored one means a cloned authenticator and is refused.
 */
export async function verifyAssertion(
  response: AuthenticationResponse,
  challenge: string,
  rp: RelyingParty,
  stored: StoredCredential,
): Promise<{ signCount: number; backedUp: boolean }> {
  checkIds(response);
  const clientDataBytes = decodeBase64Url(response.response.clientDataJSON, 'clientDataJSON');
  checkClientData(readClientData(response.response.clientDataJSON), 'webauthn.get', challenge, rp);
  const authData = decodeBase64Url(response.response.authenticatorData, 'authenticatorData');
  const parsed = await parsing('authenticatorData', () => parseAuthenticatorData(authData, rp));
  const key = await parsing('The stored public key', () => importCoseKey(fromBase64(stored.publicKey)));
  if (key.alg !== stored.algorithm) throw rejected('The stored key does not match its algorithm');
  const signature = decodeBase64Url(response.response.signature, 'signature');
  const clientDataHash = new Uint8Array(await crypto.subtle.digest('SHA-256', clientDataBytes));
  const signed = new Uint8Array(authData.length + clientDataHash.length);
  signed.set(authData);
  signed.set(clientDataHash, authData.length);
  const valid = await parsing('signature', () =>
    crypto.subtle.verify(key.params, key.cryptoKey, key.der ? derToRaw(signature) : signature, signed),
  );
  if (!valid) throw rejected('The signature does not verify');
  if ((parsed.signCount > 0 || stored.signCount > 0) && parsed.signCount <= stored.signCount) {
    throw rejected('The signature counter went backwards: this authenticator may have been cloned');
  }
  return { signCount: parsed.signCount, backedUp: (parsed.flags & FLAG_BACKED_UP) !== 0 };
}
