// The Worker bindings configured in vitest.config.ts, plus the test-only addresses of the stand-ins.
import { env } from 'cloudflare:workers';

export interface TestBindings extends Env {
  TEST_NEON_URL: string;
  TEST_UPSTASH_URL: string;
  TEST_MAIL_URL: string;
  TEST_OAUTH_URL: string;
  TEST_STRIPE_URL: string;
  TEST_ROTATED_SIGNING_KEYS: string;
  TEST_FOREIGN_SIGNING_KEYS: string;
}

export const bindings = env as TestBindings;
