// Request and response shapes of the passkey routes: WebAuthn's JSON forms (what
// PublicKeyCredential.toJSON() and @simplewebauthn/browser produce and take), as documented in OpenAPI.
import { z } from '@hono/zod-openapi';
import { safeText } from '../openapi/helpers';

const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'Must be base64url without padding');

const EXAMPLE_CHALLENGE = 'r1C9mVZ8q6Lx0bJ3yT5nWfK2pA7dE4sHgU0iOjQvBcM';

// A real registration and assertion (Ed25519, RP example.com, origin https://app.example.com).
export const EXAMPLE_REGISTRATION = {
  id: 'IRZAhgo7U2EESLK8k7Q5BQ',
  rawId: 'IRZAhgo7U2EESLK8k7Q5BQ',
  type: 'public-key' as const,
  response: {
    clientDataJSON:
      'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoicjFDOW1WWjhxNkx4MGJKM3lUNW5XZksycEE3ZEU0c0hnVTBpT2pRdkJjTSIsIm9yaWdpbiI6Imh0dHBzOi8vYXBwLmV4YW1wbGUuY29tIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ',
    attestationObject:
      'o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVhxo3mm9u6vuaVeN4wRgDTidR5oL6ufLTCrE9ISVYbOGUddAAAAAAAAAAAAAAAAAAAAAAAAAAAAECEWQIYKO1NhBEiyvJO0OQWkAQEDJyAGIVggn2DmCEzgvLQVfITqL470mMbNzBk_Vi8MxV-UIG86TxE',
    transports: ['internal', 'hybrid'],
  },
};
export const EXAMPLE_ASSERTION = {
  id: 'IRZAhgo7U2EESLK8k7Q5BQ',
  rawId: 'IRZAhgo7U2EESLK8k7Q5BQ',
  type: 'public-key' as const,
  response: {
    clientDataJSON:
      'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoicThIbjJWYlgwc0xyNXRXejhhRmg0ZEdjN2VVaTFvTW5CdkN4NlF5SjNrUCIsIm9yaWdpbiI6Imh0dHBzOi8vYXBwLmV4YW1wbGUuY29tIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ',
    authenticatorData: 'o3mm9u6vuaVeN4wRgDTidR5oL6ufLTCrE9ISVYbOGUcdAAAAAA',
    signature: 'V-4tNdMmwIWeBjyRnFSLtKGDM6BC24qGjffXNDzuMC_8nijQzCFrwwZ93jhAQtmCPTQiQr4ZJrIqENXgaUWaAA',
    userHandle: 'LwouHlt9TpqMPx0uP0pbbA',
  },
};

// Unknown members (authenticatorAttachment, clientExtensionResults, the browser's publicKey extras) are
// accepted and ignored.
const credentialIds = { id: base64url(1366), rawId: base64url(1366), type: z.literal('public-key') };

export const RegistrationResponseSchema = z
  .object({
    ...credentialIds,
    response: z.object({
      clientDataJSON: base64url(4096),
      attestationObject: base64url(16_384),
      transports: z.array(z.string().max(32)).max(10).optional(),
    }),
  })
  .openapi('RegistrationResponse', {
    description: 'RegistrationResponseJSON: the credential navigator.credentials.create() made, as JSON.',
    example: EXAMPLE_REGISTRATION,
  });

export const AuthenticationResponseSchema = z
  .object({
    ...credentialIds,
    response: z.object({
      clientDataJSON: base64url(4096),
      authenticatorData: base64url(4096),
      signature: base64url(2048),
      userHandle: base64url(128).nullish(),
    }),
  })
  .openapi('AuthenticationResponse', {
    description: 'AuthenticationResponseJSON: the assertion navigator.credentials.get() made, as JSON.',
    example: EXAMPLE_ASSERTION,
  });

export const PasskeyRegisterSchema = z
  .object({
    response: RegistrationResponseSchema,
    name: safeText(z.string().trim().min(1).max(64)).optional().openapi({
      description: 'What the owner calls it ("Work laptop"); "Passkey" when absent',
    }),
  })
  .openapi('PasskeyRegisterRequest', { example: { response: EXAMPLE_REGISTRATION, name: 'Work laptop' } });

export const PasskeyLoginSchema = z
  .object({ response: AuthenticationResponseSchema })
  .openapi('PasskeyLoginRequest', { example: { response: EXAMPLE_ASSERTION } });

const descriptor = z.object({
  id: z.string(),
  type: z.literal('public-key'),
  transports: z.array(z.string()),
});

export const CreationOptionsSchema = z
  .object({
    challenge: z.string(),
    rp: z.object({ id: z.string(), name: z.string() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    pubKeyCredParams: z.array(z.object({ type: z.literal('public-key'), alg: z.number().int() })),
    timeout: z.number().int(),
    excludeCredentials: z.array(descriptor),
    authenticatorSelection: z.object({
      residentKey: z.literal('required'),
      requireResidentKey: z.literal(true),
      userVerification: z.literal('required'),
    }),
    attestation: z.literal('none'),
    extensions: z.object({ credProps: z.boolean() }),
  })
  .openapi('PasskeyCreationOptions', {
    description:
      'PublicKeyCredentialCreationOptionsJSON: pass it to startRegistration({ optionsJSON }) or ' +
      'PublicKeyCredential.parseCreationOptionsFromJSON(). The challenge lives 5 minutes and works once.',
    example: {
      challenge: EXAMPLE_CHALLENGE,
      rp: { id: 'example.com', name: 'edgeauth' },
      user: { id: 'LwouHlt9TpqMPx0uP0pbbA', name: 'ann@example.com', displayName: 'ann' },
      pubKeyCredParams: [
        { type: 'public-key', alg: -8 },
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 },
      ],
      timeout: 300000,
      excludeCredentials: [],
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
      attestation: 'none',
      extensions: { credProps: true },
    },
  });

export const RequestOptionsSchema = z
  .object({
    challenge: z.string(),
    rpId: z.string(),
    timeout: z.number().int(),
    userVerification: z.literal('required'),
    allowCredentials: z.array(descriptor).optional(),
  })
  .openapi('PasskeyRequestOptions', {
    description:
      'PublicKeyCredentialRequestOptionsJSON: pass it to startAuthentication({ optionsJSON }) or ' +
      'PublicKeyCredential.parseRequestOptionsFromJSON(). The challenge lives 5 minutes and works once.',
    example: {
      challenge: EXAMPLE_CHALLENGE,
      rpId: 'example.com',
      timeout: 300000,
      userVerification: 'required',
    },
  });

export const PasskeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    created_at: z.string().openapi({ format: 'date-time' }),
    last_used_at: z.string().nullable().openapi({ format: 'date-time' }),
    backed_up: z.boolean().openapi({ description: 'Synced by its provider (iCloud Keychain, Google…)' }),
    transports: z.array(z.string()),
  })
  .openapi('Passkey', {
    example: {
      id: '7b0e4f8a-1c2d-4e3f-9a5b-6c7d8e9f0a1b',
      name: 'Work laptop',
      created_at: '2026-11-24T12:00:00.000Z',
      last_used_at: null,
      backed_up: true,
      transports: ['internal', 'hybrid'],
    },
  });

export const PasskeyListSchema = z.object({ passkeys: z.array(PasskeySchema) }).openapi('PasskeyList', {
  example: {
    passkeys: [
      {
        id: '7b0e4f8a-1c2d-4e3f-9a5b-6c7d8e9f0a1b',
        name: 'Work laptop',
        created_at: '2026-11-24T12:00:00.000Z',
        last_used_at: '2026-11-25T08:30:00.000Z',
        backed_up: true,
        transports: ['internal', 'hybrid'],
      },
    ],
  },
});
