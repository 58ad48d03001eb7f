// The Worker's WebAuthn verifier against @simplewebauthn/server on the same responses: what one accepts
// the other accepts, for each algorithm we offer (Ed25519, ES256, RS256); and what a relying party must
// refuse (another challenge, origin or RP, no user verification, a bad signature, a counter going
// backwards, malformed bytes) is refused with 400 PASSKEY_REJECTED, never an exception of another kind.

import { encodeCBOR } from '@levischuck/tiny-cbor';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { EXAMPLE_ASSERTION, EXAMPLE_REGISTRATION } from '../../src/routes/auth/passkey-schemas';
import {
  type AuthenticationResponse,
  type RegistrationResponse,
  readClientData,
  verifyAssertion,
  verifyRegistration,
} from '../../src/services/auth/webauthn';
import { type Algorithm, b64url, FLAGS, fromB64url, softwarePasskey, TEST_ORIGIN } from '../support/passkeys';

const rp = { id: 'edgeauth.test', origins: [TEST_ORIGIN] };
const challenge = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const creation = (c: string) => ({ challenge: c, rp: { id: rp.id }, user: { id: 'dXNlci1oYW5kbGU' } });

async function registered(alg: Algorithm, counter = 0) {
  const key = await softwarePasskey({ alg, counter });
  const c = challenge();
  const response = await key.register(creation(c));
  const stored = await verifyRegistration(response, c, rp);
  return { key, stored: { ...stored, signCount: stored.signCount } };
}

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('PASSKEY_REJECTED');
  return (error as AppError).message;
}

describe.each([-8, -7, -257] as const)('COSE algorithm %i', (alg) => {
  it('registers: @simplewebauthn/server and our verifier accept the same credential and key', async () => {
    const key = await softwarePasskey({ alg });
    const c = challenge();
    const response = await key.register(creation(c));
    const theirs = await verifyRegistrationResponse({
      response,
      expectedChallenge: c,
      expectedOrigin: TEST_ORIGIN,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    expect(theirs.verified).toBe(true);
    const ours = await verifyRegistration(response, c, rp);
    expect(ours.credentialId).toBe(theirs.registrationInfo?.credential.id);
    expect(ours.publicKey).toBe(b64url(theirs.registrationInfo?.credential.publicKey ?? new Uint8Array()));
    expect(ours.algorithm).toBe(alg);
    expect(ours.backedUp).toBe(true);
  });

  it('signs in: both verify the assertion and agree on the new counter', async () => {
    const { key, stored } = await registered(alg, 5);
    const c = challenge();
    const response = await key.assert({ challenge: c, rpId: rp.id });
    const theirs = await verifyAuthenticationResponse({
      response,
      expectedChallenge: c,
      expectedOrigin: TEST_ORIGIN,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: {
        id: stored.credentialId,
        publicKey: fromB64url(stored.publicKey),
        counter: stored.signCount,
      },
    });
    expect(theirs.verified).toBe(true);
    const ours = await verifyAssertion(response, c, rp, stored);
    expect(ours.signCount).toBe(theirs.authenticationInfo.newCounter);
    expect(ours.signCount).toBe(6);
  });
});

describe('registration refuses', () => {
  it('another challenge, origin, RP, ceremony type, or no user verification', async () => {
    const key = await softwarePasskey();
    const c = challenge();
    expect(await rejection(verifyRegistration(await key.register(creation(c)), challenge(), rp))).toMatch(
      /another challenge/,
    );
    const cases = [
      [{ origin: 'https://evil.example' }, /origin/],
      [{ rpId: 'evil.example' }, /not for edgeauth.test/],
      [{ type: 'webauthn.get' }, /type/],
      [{ userVerified: false }, /verify the user/],
    ] as const;
    for (const [ceremony, message] of cases) {
      const response = await key.register(creation(c), ceremony);
      expect(await rejection(verifyRegistration(response, c, rp))).toMatch(message);
    }
  });

  it('malformed bytes of every part, as PASSKEY_REJECTED', async () => {
    const key = await softwarePasskey();
    const c = challenge();
    const good = await key.register(creation(c));
    const variants: RegistrationResponse[] = [
      { ...good, rawId: 'AAAA' },
      { ...good, response: { ...good.response, clientDataJSON: 'not+base64url' } },
      { ...good, response: { ...good.response, clientDataJSON: b64url(new TextEncoder().encode('{')) } },
      { ...good, response: { ...good.response, attestationObject: 'AAAA' } },
      {
        ...good,
        response: { ...good.response, attestationObject: b64url(new Uint8Array([0xbf, 0xff, 0xff])) },
      },
      {
        ...good,
        response: { ...good.response, attestationObject: good.response.attestationObject.slice(0, 200) },
      },
    ];
    for (const response of variants) await rejection(verifyRegistration(response, c, rp));
  });
});

describe('an assertion is refused', () => {
  it('with a signature over other bytes, another challenge, origin or RP, or no user verification', async () => {
    const { key, stored } = await registered(-7);
    const c = challenge();
    const good = await key.assert({ challenge: c, rpId: rp.id });
    const signature = fromB64url(good.response.signature);
    signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 1;
    const tampered: AuthenticationResponse = {
      ...good,
      response: { ...good.response, signature: b64url(signature) },
    };
    expect(await rejection(verifyAssertion(tampered, c, rp, stored))).toMatch(/signature/);
    expect(await rejection(verifyAssertion(good, challenge(), rp, stored))).toMatch(/another challenge/);
    for (const ceremony of [
      { origin: 'http://localhost:1' },
      { rpId: 'other.test' },
      { userVerified: false },
    ]) {
      await rejection(
        verifyAssertion(await key.assert({ challenge: c, rpId: rp.id }, ceremony), c, rp, stored),
      );
    }
  });

  it('when the counter does not move past a stored non-zero one (a cloned authenticator)', async () => {
    const { key, stored } = await registered(-8, 10);
    const c = challenge();
    const stale = await key.assert({ challenge: c, rpId: rp.id }, { counter: 10 });
    expect(await rejection(verifyAssertion(stale, c, rp, stored))).toMatch(/counter/);
    // Counters that stay 0 on both sides (synced passkeys) are fine.
    const synced = await registered(-8, 0);
    const zero = await synced.key.assert({ challenge: c, rpId: rp.id });
    expect((await verifyAssertion(zero, c, rp, synced.stored)).signCount).toBe(0);
  });

  it('by another credential’s key', async () => {
    const { stored } = await registered(-7);
    const stranger = await softwarePasskey({ alg: -7 });
    const c = challenge();
    const response = await stranger.assert({ challenge: c, rpId: rp.id });
    expect(await rejection(verifyAssertion(response, c, rp, stored))).toMatch(/signature/);
  });
});

describe('the OpenAPI examples', () => {
  it('are a real registration and an assertion by its key', async () => {
    const site = { id: 'example.com', origins: ['https://app.example.com'] };
    const stored = await verifyRegistration(
      EXAMPLE_REGISTRATION,
      readClientData(EXAMPLE_REGISTRATION.response.clientDataJSON).challenge,
      site,
    );
    const { challenge } = readClientData(EXAMPLE_ASSERTION.response.clientDataJSON);
    expect(await verifyAssertion(EXAMPLE_ASSERTION, challenge, site, stored)).toEqual({
      signCount: 0,
      backedUp: true,
    });
  });
});

describe('what an attacker can craft is refused', () => {
  it('base64url of a length no encoding has (4n + 1), in every field', async () => {
    const { key, stored } = await registered(-7);
    const c = challenge();
    const good = await key.assert({ challenge: c, rpId: rp.id });
    for (const response of [
      { ...good, id: 'AAAAA', rawId: 'AAAAA' },
      { ...good, response: { ...good.response, authenticatorData: 'AAAAA' } },
      { ...good, response: { ...good.response, signature: 'AAAAA' } },
      { ...good, response: { ...good.response, clientDataJSON: 'AAAAA' } },
    ]) {
      expect(await rejection(verifyAssertion(response, c, rp, stored))).toMatch(/base64url/);
    }
  });

  it('an Ed25519 key of small order (one signature verifies every message), and small RSA keys', async () => {
    const key = await softwarePasskey({ alg: -8 });
    const c = challenge();
    for (const hex of [
      '01'.padEnd(64, '0'),
      '00'.repeat(32),
      `ec${'ff'.repeat(30)}7f`,
      `01${'00'.repeat(30)}80`,
    ]) {
      const x = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
      const publicKey = encodeCBOR(
        new Map<number, number | Uint8Array>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, x],
        ]),
      );
      const response = await key.register(creation(c), { publicKey });
      expect(await rejection(verifyRegistration(response, c, rp))).toMatch(/Ed25519/);
    }
    const small = await softwarePasskey({ alg: -257, rsaBits: 1024 });
    expect(await rejection(verifyRegistration(await small.register(creation(c)), c, rp))).toMatch(/2048/);
  });

  it('bytes the flags do not announce, "backed up" without "backup eligible", and DER with trailing bytes', async () => {
    const { key, stored } = await registered(-7);
    const c = challenge();
    const trailing = new Uint8Array([0xa0]);
    expect(await rejection(verifyRegistration(await key.register(creation(c), { trailing }), c, rp))).toMatch(
      /do not announce/,
    );
    const extra = await key.assert({ challenge: c, rpId: rp.id }, { trailing });
    expect(await rejection(verifyAssertion(extra, c, rp, stored))).toMatch(/do not announce/);
    const inconsistent = await key.assert(
      { challenge: c, rpId: rp.id },
      { flags: FLAGS.up | FLAGS.uv | FLAGS.bs },
    );
    expect(await rejection(verifyAssertion(inconsistent, c, rp, stored))).toMatch(/backup eligible/);
    const good = await key.assert({ challenge: c, rpId: rp.id });
    const der = fromB64url(good.response.signature);
    const padded = {
      ...good,
      response: { ...good.response, signature: b64url(new Uint8Array([...der, 0])) },
    };
    expect(await rejection(verifyAssertion(padded, c, rp, stored))).toMatch(/DER/);
    expect((await verifyAssertion(good, c, rp, stored)).signCount).toBe(0);
  });
});
