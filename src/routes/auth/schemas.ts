// Request and response shapes of the account routes, as documented in the OpenAPI output.
import { z } from '@hono/zod-openapi';
import { AuthenticationResponseSchema } from './passkey-schemas';

export const EmailSchema = z.email().max(254).openapi({ example: 'ann@example.com' });
/**
 * Passwords must be text that encodes to UTF-8 as it is: a lone surrogate (sent in JSON as `\uD800`)
 * becomes U+FFFD when hashed, so different passwords would open the same account. NUL is refused too.
 * Characters outside the BMP (emoji), written as surrogate pairs, are fine.
 */
const passwordText = z
  .string()
  .refine(
    (value) => value.isWellFormed() && !value.includes('\u0000'),
    'Password must be valid Unicode text (no lone surrogates, no NUL characters)',
  );
export const PasswordSchema = passwordText
  .min(8, 'Password must be at least 8 characters')
  .max(128, 'Password must be at most 128 characters')
  .openapi({
    example: 'correct horse battery staple',
    description: '8 to 128 characters of well-formed Unicode text: no lone surrogates, no NUL.',
  });
// Login accepts any length a stored password could have; anything wrong is the same 401.
const LoginPasswordSchema = passwordText.min(1).max(128);
export const UsernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'Use letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
  .openapi({ example: 'ann' });

const EXAMPLE_USER = {
  id: '2f0a3c1e-5b7d-4e9a-8c3f-1d2e3f4a5b6c',
  email: 'ann@example.com',
  username: 'ann',
  is_verified: true,
  is_admin: false,
  has_password: true,
  created_at: '2026-11-24T12:00:00.000Z',
};

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    username: z.string(),
    is_verified: z.boolean(),
    is_admin: z.boolean(),
    has_password: z.boolean(),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('User', { example: EXAMPLE_USER });

export const UserEnvelopeSchema = z.object({ user: UserSchema }).openapi('UserEnvelope');

export const RegisterSchema = z
  .object({ email: EmailSchema, username: UsernameSchema, password: PasswordSchema })
  .openapi('RegisterRequest', {
    example: { email: 'ann@example.com', username: 'ann', password: 'correct horse battery staple' },
  });

export const LoginSchema = z
  .object({ email: EmailSchema, password: LoginPasswordSchema })
  .openapi('LoginRequest', {
    example: { email: 'ann@example.com', password: 'correct horse battery staple' },
  });

export const TokenSchema = z
  .object({
    token: z.string().openapi({ description: 'JWT access token for the Authorization: Bearer header' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Access-token lifetime in seconds' }),
    refresh_token: z
      .string()
      .optional()
      .openapi({ description: 'Only for native clients that asked for it (see X-Refresh-Token-Transport)' }),
  })
  .openapi('Tokens', {
    example: {
      token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyZjBhM2MxZSJ9.c2lnbmF0dXJl',
      token_type: 'Bearer',
      expires_in: 900,
    },
  });

export const SessionGrantSchema = TokenSchema.extend({ user: UserSchema }).openapi('SessionGrant', {
  example: {
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyZjBhM2MxZSJ9.c2lnbmF0dXJl',
    token_type: 'Bearer',
    expires_in: 900,
    user: EXAMPLE_USER,
  },
});

export const RefreshSchema = z
  .object({ refresh_token: z.string().min(16).max(256).optional() })
  .openapi('RefreshRequest', {
    description: 'Native clients send the refresh token here; browsers send nothing and rely on the cookie.',
  });

export const SessionSchema = z
  .object({
    id: z.uuid(),
    created_at: z.string(),
    last_used_at: z.string(),
    expires_at: z.string(),
    user_agent: z.string().nullable(),
    ip_address: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi('Session');

export const TokenQuerySchema = z.object({ token: z.string().min(16).max(256) });

export const NewPasswordSchema = z
  .object({ token: z.string().min(16).max(256), password: PasswordSchema })
  .openapi('NewPasswordRequest', {
    example: { token: 'iUwvaedPop4dod3ThN_NJpu91iSv1jAdxks1-3zu9Y8', password: 'a new strong password' },
  });

export const ChangePasswordSchema = z
  .object({ old_password: LoginPasswordSchema, new_password: PasswordSchema })
  .openapi('ChangePasswordRequest', {
    example: { old_password: 'correct horse battery staple', new_password: 'a new strong password' },
  });

export const EmailOnlySchema = z
  .object({ email: EmailSchema })
  .openapi('EmailRequest', { example: { email: 'ann@example.com' } });

/** The owner proving it again: the password, or (for any account) a code from POST /request/login-code. */
const ownerProofFields = {
  password: LoginPasswordSchema.optional().openapi({ description: 'The account password' }),
  code: z
    .string()
    .regex(/^\d{6}$/, 'The code is 6 digits')
    .optional()
    .openapi({ description: 'A code from POST /request/login-code (accounts without a password)' }),
};

const OwnerProofSchema = z
  .object(ownerProofFields)
  .refine((body) => (body.password === undefined) !== (body.code === undefined), {
    message: 'Send either password or code',
    path: ['password'],
  });

export const DeactivateSchema = OwnerProofSchema.openapi('DeactivateRequest', {
  example: { password: 'correct horse battery staple' },
});

export const DeactivatedSchema = z
  .object({
    message: z.string(),
    deleted: z.boolean().openapi({ description: 'True for an unverified account: it was deleted, not kept' }),
    subscription_canceled: z
      .boolean()
      .openapi({ description: 'A live subscription was cancelled at once (no further charge, no refund)' }),
  })
  .openapi('Deactivated');

export const SecondFactorRequiredSchema = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z.string().openapi({
      description: 'Opaque; send it to POST /login/mfa within 5 minutes. Single use, at most 5 tries.',
    }),
    methods: z.array(z.enum(['totp', 'recovery_code'])),
  })
  .openapi('SecondFactorRequired', {
    example: {
      mfa_required: true,
      mfa_token: 'Yq3Jx9VbN2kP0sLr5tWz8aFh4dGc7eUi1oMnBvCx6Qy',
      methods: ['totp', 'recovery_code'],
    },
  });

export const SignInResultSchema = z
  .union([SessionGrantSchema, SecondFactorRequiredSchema])
  .openapi('SignInResult', {
    description:
      'Tokens, or for an account with TOTP on a second-factor challenge (no token, no cookie) to complete at POST /login/mfa.',
  });

const TotpCodeSchema = z
  .string()
  .regex(/^\d{6}$/, 'A TOTP code is 6 digits')
  .openapi({ example: '123456' });
const RecoveryCodeSchema = z.string().min(10).max(32).openapi({ example: 'ab3de-fg7hk' });

export const SecondFactorLoginSchema = z
  .object({
    mfa_token: z.string().min(16).max(128),
    code: TotpCodeSchema.optional(),
    recovery_code: RecoveryCodeSchema.optional(),
  })
  .refine((body) => (body.code === undefined) !== (body.recovery_code === undefined), {
    message: 'Send exactly one of code and recovery_code',
    path: ['code'],
  })
  .openapi('SecondFactorLoginRequest', {
    description: 'The mfa_token and exactly one of code (from the authenticator app) and recovery_code.',
    example: { mfa_token: 'Yq3Jx9VbN2kP0sLr5tWz8aFh4dGc7eUi1oMnBvCx6Qy', code: '123456' },
  });

export const TotpSetupSchema = z
  .object({
    secret: z.string().openapi({ description: 'Base32, for typing into an authenticator app' }),
    otpauth_url: z.string().openapi({ description: 'The otpauth:// URI an authenticator app scans' }),
    qr_svg: z.string().openapi({ description: 'The otpauth_url as an SVG QR code' }),
  })
  .openapi('TotpSetup', {
    example: {
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      otpauth_url:
        'otpauth://totp/edgeauth:ann%40example.com?issuer=edgeauth&algorithm=SHA1&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=30&digits=6',
      qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29">…</svg>',
    },
  });

export const TotpConfirmSchema = z.object({ code: TotpCodeSchema }).openapi('TotpConfirmRequest', {
  example: { code: '123456' },
});

export const RecoveryCodesSchema = z
  .object({ recovery_codes: z.array(z.string()).length(10) })
  .openapi('RecoveryCodes', {
    description: 'Shown once: store them somewhere safe. Each works once, instead of a TOTP code.',
    example: {
      recovery_codes: [
        'ab3de-fg7hk',
        'mn4pq-rs5tv',
        'wx6yz-ab7cd',
        'ef2gh-ij3kl',
        'mn5op-qr6st',
        'uv7wx-yz2ab',
        'cd3ef-gh4ij',
        'kl5mn-op6qr',
        'st7uv-wx2yz',
        'ab4cd-ef5gh',
      ],
    },
  });

export const ReauthenticateSchema = z
  .object({
    ...ownerProofFields,
    response: AuthenticationResponseSchema.optional().openapi({
      description: 'An assertion by one of your passkeys, over options from POST /reauthenticate/options',
    }),
  })
  .refine((body) => [body.password, body.code, body.response].filter((v) => v !== undefined).length === 1, {
    message: 'Send exactly one of password, code and response',
    path: ['password'],
  })
  .openapi('ReauthenticateRequest', { example: { password: 'correct horse battery staple' } });

export const ReauthenticatedSchema = z
  .object({
    authenticated_at: z.string().openapi({ format: 'date-time' }),
    valid_for_seconds: z.number().int(),
  })
  .openapi('Reauthenticated', {
    example: { authenticated_at: '2026-11-24T12:00:00.000Z', valid_for_seconds: 600 },
  });

export const MeSchema = z
  .object({
    user: UserSchema,
    mfa: z.object({
      totp: z.boolean().openapi({ description: 'TOTP is on: signing in asks for a code' }),
      passkeys: z.number().int().openapi({ description: 'Registered passkeys' }),
    }),
  })
  .openapi('Me', { example: { user: EXAMPLE_USER, mfa: { totp: false, passkeys: 0 } } });
