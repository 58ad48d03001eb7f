// Tests run inside workerd (the same runtime as production) with the local stand-ins started by
// test/support/global-setup.ts; their addresses arrive here through `inject` and become bindings.

import { readFile } from 'node:fs/promises';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { decodeKeySet, encodeKeySet, freshKeySet, rotateKeySet } from './scripts/signing-keys.mjs';
import { GUARD_WORKER, outboundGuardWorker } from './test/support/outbound-guard.ts';

/** The Stripe SDK's source maps name files it does not ship: without this, one warning per module. */
const stripeWithoutSourceMaps = {
  name: 'stripe-without-source-maps',
  enforce: 'pre' as const,
  async load(id: string) {
    if (!/\/node_modules\/stripe\/.*\.js$/.test(id)) return null;
    const code = await readFile(id, 'utf8');
    return { code: code.replace(/^\/\/# sourceMappingURL=.*$/m, ''), map: null };
  },
};

/** The test configuration's signing keys, and what one `npm run keys:rotate` makes of them. */
const SIGNING_KEYS = freshKeySet();
const ROTATED_SIGNING_KEYS = encodeKeySet(
  rotateKeySet(decodeKeySet(SIGNING_KEYS), { keepSeconds: 4500 }).keys,
);

const SECRET = (name: string) => `test-${name}-secret-0123456789abcdefghijklmnop`;

export default defineConfig({
  plugins: [
    stripeWithoutSourceMaps,
    cloudflareTest(({ inject }) => ({
      main: './src/index.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          APP_NAME: 'edgeauth-test',
          APP_ENV: 'test',
          APP_URL: 'http://api.edgeauth.test',
          FRONTEND_URL: '',
          CORS_ORIGINS: 'http://app.edgeauth.test,http://localhost:5173',
          DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${inject('neonDefaultDatabase')}`,
          NEON_FETCH_ENDPOINT: `${inject('neonUrl')}/sql`,
          DATABASE_TIMEOUT_MS: '2000',
          UPSTASH_REDIS_REST_URL: inject('upstashUrl'),
          UPSTASH_REDIS_REST_TOKEN: inject('upstashToken'),
          ACCESS_SIGNING_KEYS: SIGNING_KEYS,
          // Read by test/support only: the key set after one rotation, and a key set of strangers.
          TEST_ROTATED_SIGNING_KEYS: ROTATED_SIGNING_KEYS,
          TEST_FOREIGN_SIGNING_KEYS: freshKeySet(),
          // For the tests of ACCESS_TOKEN_ALG=HS256 and of forgeries under the shared secret.
          ACCESS_SECRET_KEY: SECRET('access'),
          ACCESS_TOKEN_EXPIRE: '900',
          REFRESH_SECRET_KEY: SECRET('refresh'),
          REFRESH_TOKEN_EXPIRE: '2592000',
          VALIDATION_SECRET_KEY: SECRET('validation'),
          VALIDATION_TOKEN_EXPIRE: '900',
          MAIL_PROVIDER: 'resend',
          MAIL_API_URL: inject('mailUrl'),
          MAIL_API_KEY: 'test-mail-key',
          MAIL_FROM: 'edgeauth test <no-reply@edgeauth.test>',
          ADMIN_EMAILS: 'admin@edgeauth.test',
          STRIPE_PUBLIC_KEY: 'pk_test_standin',
          STRIPE_SECRET_KEY: inject('stripeApiKey'),
          STRIPE_WEBHOOK_SECRET: inject('stripeWebhookSecret'),
          STRIPE_API_BASE: inject('stripeUrl'),
          BILLING_SUCCESS_URL: 'http://app.edgeauth.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
          BILLING_CANCEL_URL: 'http://app.edgeauth.test/billing/cancel',
          PAST_DUE_GRACE_DAYS: '7',
          ...inject('oauthUrls'),
          OAUTH_PROVIDER_TIMEOUT_MS: '1000',
          GOOGLE_CLIENT_ID: 'test-google-client',
          GOOGLE_CLIENT_SECRET: 'test-google-secret',
          GOOGLE_REDIRECT_URI: 'http://api.edgeauth.test/auth/social/callback/google',
          GITHUB_CLIENT_ID: 'test-github-client',
          GITHUB_CLIENT_SECRET: 'test-github-secret',
          GITHUB_REDIRECT_URI: 'http://api.edgeauth.test/auth/social/callback/github',
          REFRESH_REUSE_GRACE_SECONDS: '30',
          REAUTH_MAX_AGE_SECONDS: '600',
          MFA_SECRET_KEY: SECRET('mfa'),
          // The API is api.edgeauth.test, the app app.edgeauth.test: passkeys belong to the parent domain.
          PASSKEY_RP_ID: 'edgeauth.test',
          COOKIE_SECURE: 'true',
          COOKIE_SAMESITE: 'Lax',
          // Generous by default so tests of other behaviour never trip it; rate-limit tests lower it.
          RATE_LIMIT_MAX: '1000',
          RATE_LIMIT_WINDOW_SECONDS: '60',
          REFRESH_RATE_LIMIT_MAX: '1000',
          // Read by test/support only (not by the Worker): where the stand-ins' control routes live.
          TEST_NEON_URL: inject('neonUrl'),
          TEST_UPSTASH_URL: inject('upstashUrl'),
          TEST_MAIL_URL: inject('mailUrl'),
          TEST_OAUTH_URL: inject('oauthUrl'),
          TEST_STRIPE_URL: inject('stripeUrl'),
        },
        // A request to any host but loopback (where the stand-ins listen) fails the run.
        outboundService: GUARD_WORKER,
        workers: [outboundGuardWorker],
        // Deliver queued email almost at once, so tests read it from the mail sink without waiting.
        queueConsumers: { 'edgeauth-email': { maxBatchTimeout: 0.05, maxRetries: 6 } },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    setupFiles: ['./test/support/per-file-database.ts'],
    include: ['test/**/*.test.ts'],
    // Worker log lines are shown for failing tests only.
    silent: 'passed-only',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
