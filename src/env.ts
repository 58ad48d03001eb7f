// Parses and validates the Worker's bindings and variables once per env object.
// The only module that reads raw `env`; everything else receives the typed `Config`.
import { z } from 'zod';
import { LOG_LEVELS } from './lib/log';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalUrl = optionalText.pipe(z.url().optional());
const csv = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
const secret = z.string().min(32, 'must be at least 32 characters');

/** A public EC P-256 JWK, as published at /.well-known/jwks.json. */
export interface PublicSigningKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

const ecKey = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  d: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
  kid: z.string().min(1).max(128),
});

/**
 * ACCESS_SIGNING_KEYS: base64url of a JWK set (from `npm run keys:rotate`), newest first. The first key is
 * private and signs; the others are public halves of retired keys that still verify.
 */
const signingKeys = z
  .string()
  .transform((value, ctx) => {
    try {
      const binary = atob(value.replaceAll('-', '+').replaceAll('_', '/'));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a key set from npm run keys:rotate (base64url JSON)',
      });
      return z.NEVER;
    }
  })
  .pipe(z.object({ keys: z.array(ecKey).min(1).max(10) }))
  .refine(({ keys }) => keys[0]?.d !== undefined && keys.slice(1).every((key) => key.d === undefined), {
    message: 'the first key must be private (it signs) and the others public',
  })
  .refine(({ keys }) => new Set(keys.map((key) => key.kid)).size === keys.length, {
    message: 'every key needs its own kid',
  })
  .transform(({ keys }) => ({
    signer: keys[0] as z.output<typeof ecKey> & { d: string },
    published: keys.map(
      ({ kty, crv, x, y, kid }): PublicSigningKey => ({ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }),
    ),
  }));

const schema = z
  .object({
    APP_NAME: z.string().min(1).default('edgeauth'),
    APP_ENV: z.enum(['production', 'staging', 'development', 'test']).default('production'),
    APP_URL: z.url(),
    FRONTEND_URL: optionalUrl,
    CORS_ORIGINS: csv.pipe(z.array(z.url())),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/[^/]+\/[^/?]+/, 'must be a postgres:// connection string'),
    NEON_FETCH_ENDPOINT: optionalUrl,
    DATABASE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    UPSTASH_REDIS_REST_URL: z.url(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
    ACCESS_TOKEN_ALG: z.enum(['ES256', 'HS256']).default('ES256'),
    ACCESS_SIGNING_KEYS: optionalText.pipe(signingKeys.optional()),
    ACCESS_SECRET_KEY: optionalText.pipe(secret.optional()),
    ACCESS_TOKEN_EXPIRE: seconds(900),
    REFRESH_SECRET_KEY: secret,
    REFRESH_TOKEN_EXPIRE: seconds(2_592_000),
    VALIDATION_SECRET_KEY: secret,
    VALIDATION_TOKEN_EXPIRE: seconds(900),
    REFRESH_REUSE_GRACE_SECONDS: seconds(30),
    REAUTH_MAX_AGE_SECONDS: seconds(600),
    // How long a session check (and the account data read with it) may be served from isolate memory;
    // 0 asks the database on every request. Capped so that revocation never lags by minutes.
    AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
    // Which log lines are written; a request that succeeded quickly is logged at debug (see README).
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    MFA_SECRET_KEY: optionalText.pipe(secret.optional()),
    PASSKEY_RP_ID: optionalText.pipe(
      z
        .string()
        .regex(/^[a-z0-9.-]+$/, 'must be a host name (no scheme, port or path)')
        .optional(),
    ),
    PASSKEY_ORIGINS: csv.pipe(z.array(z.url())),
    COOKIE_SECURE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    COOKIE_SAMESITE: z.enum(['Lax', 'Strict', 'None']).default('Lax'),
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(5),
    RATE_LIMIT_WINDOW_SECONDS: seconds(60),
    REFRESH_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(30),
    MAIL_PROVIDER: z.enum(['resend', 'postmark']).default('resend'),
    MAIL_API_URL: optionalUrl,
    MAIL_API_KEY: optionalText,
    MAIL_FROM: z.string().min(3).default('edgeauth <no-reply@example.com>'),
    OAUTH_PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    GOOGLE_CLIENT_ID: optionalText,
    GOOGLE_CLIENT_SECRET: optionalText,
    GOOGLE_REDIRECT_URI: optionalUrl,
    GOOGLE_AUTH_URL: z.url().default('https://accounts.google.com/o/oauth2/v2/auth'),
    GOOGLE_TOKEN_URL: z.url().default('https://oauth2.googleapis.com/token'),
    GOOGLE_USERINFO_URL: z.url().default('https://openidconnect.googleapis.com/v1/userinfo'),
    GITHUB_CLIENT_ID: optionalText,
    GITHUB_CLIENT_SECRET: optionalText,
    GITHUB_REDIRECT_URI: optionalUrl,
    GITHUB_AUTHORIZE_URL: z.url().default('https://github.com/login/oauth/authorize'),
    GITHUB_TOKEN_URL: z.url().default('https://github.com/login/oauth/access_token'),
    GITHUB_USER_API: z.url().default('https://api.github.com/user'),
    GITHUB_EMAILS: z.url().default('https://api.github.com/user/emails'),
    STRIPE_PUBLIC_KEY: optionalText,
    STRIPE_SECRET_KEY: optionalText,
    STRIPE_WEBHOOK_SECRET: optionalText,
    STRIPE_API_BASE: optionalUrl,
    BILLING_SUCCESS_URL: optionalUrl,
    BILLING_CANCEL_URL: optionalUrl,
    PAST_DUE_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(7),
    ADMIN_EMAILS: csv.transform((emails) => emails.map((email) => email.toLowerCase())),
  })
  .superRefine((config, ctx) => {
    // The algorithm names the key it needs: asymmetric by default, the shared secret only when asked for.
    const [key, name] =
      config.ACCESS_TOKEN_ALG === 'HS256'
        ? [config.ACCESS_SECRET_KEY, 'ACCESS_SECRET_KEY']
        : [config.ACCESS_SIGNING_KEYS, 'ACCESS_SIGNING_KEYS'];
    if (key === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `required with ACCESS_TOKEN_ALG=${config.ACCESS_TOKEN_ALG}`,
      });
    }
  });

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const cache = new WeakMap<object, Config>();

/** Validates `env` once; a missing or malformed variable is named in the thrown ConfigError. */
export function parseEnv(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  cache.set(env, result.data);
  return result.data;
}
