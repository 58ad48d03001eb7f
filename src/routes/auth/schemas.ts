// Request and response shapes of the account routes, as documented in the OpenAPI output.
import { z } from '@hono/zod-openapi';

export const EmailSchema = z.email().max(254).openapi({ example: 'ann@example.com' });
export const PasswordSchema = z
  .string()
  .min(8, 'Password must be at least 8 characters')
  .max(128, 'Password must be at most 128 characters')
  .openapi({ example: 'correct horse battery staple' });
// Login accepts any length a stored password could have; anything wrong is the same 401.
const LoginPasswordSchema = z.string().min(1).max(128);
export const UsernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'Use letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
  .openapi({ example: 'ann' });

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
  .openapi('User');

export const UserEnvelopeSchema = z.object({ user: UserSchema }).openapi('UserEnvelope');

export const RegisterSchema = z
  .object({ email: EmailSchema, username: UsernameSchema, password: PasswordSchema })
  .openapi('RegisterRequest');

export const LoginSchema = z
  .object({ email: EmailSchema, password: LoginPasswordSchema })
  .openapi('LoginRequest');

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
  .openapi('Tokens');

export const SessionGrantSchema = TokenSchema.extend({ user: UserSchema }).openapi('SessionGrant');

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
  .openapi('NewPasswordRequest');

export const ChangePasswordSchema = z
  .object({ old_password: LoginPasswordSchema, new_password: PasswordSchema })
  .openapi('ChangePasswordRequest');

export const EmailOnlySchema = z.object({ email: EmailSchema }).openapi('EmailRequest');
