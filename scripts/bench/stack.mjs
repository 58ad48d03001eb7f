// The system under test: the local stand-ins (once, with a throwaway in-memory PGlite) and Workers on
// Miniflare on free ports, wired to them with the vars scripts/dev.mjs gives `npm run dev`, plus fresh secrets.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freshKeySet } from '../signing-keys.mjs';
import { startStandins } from '../standins/index.mjs';
import { freePort, startLocalWorker } from './processes.mjs';

export const ADMIN_EMAIL = 'admin@bench.test';
/**
 * So load generation measures the work, not 429s (the refresh chains reuse a handful of sessions); the limiter
 * still runs (and calls Redis) on every request.
 */
export const BENCH_RATE_LIMIT = 1_000_000;

export async function startStack({ root, tmpDir }) {
  const standins = await startStandins({ ports: { neon: 0, upstash: 0, mail: 0, oauth: 0, stripe: 0 } });
  const secret = () => randomBytes(48).toString('base64url');
  // Shared by every Worker of the run, so tokens issued by one are valid in the next.
  const secrets = {
    ACCESS_SIGNING_KEYS: freshKeySet(),
    ACCESS_SECRET_KEY: secret(),
    REFRESH_SECRET_KEY: secret(),
    VALIDATION_SECRET_KEY: secret(),
  };
  const running = new Set();

  /**
   * A Worker with wrangler.toml (processes.mjs startLocalWorker); `script` replaces its entry (the benchmark Worker), `vars` override the
   * stack's settings, `healthPath` is what answers 200 once it is up. Its output goes to
   * <tmpDir>/worker-<label>.log.
   */
  async function startWorker({ label, script, vars: overrides = {}, healthPath }) {
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const vars = {
      DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${standins.neon.defaultDatabase}`,
      NEON_FETCH_ENDPOINT: standins.neon.sqlUrl,
      UPSTASH_REDIS_REST_URL: standins.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: standins.upstash.token,
      MAIL_API_URL: standins.mail.url,
      MAIL_API_KEY: 'bench-mail-key',
      APP_URL: apiUrl,
      APP_ENV: 'development',
      FRONTEND_URL: '',
      CORS_ORIGINS: '',
      ADMIN_EMAILS: ADMIN_EMAIL,
      RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT),
      REFRESH_RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT),
      ...secrets,
      ...standins.oauth.urls,
      GOOGLE_CLIENT_ID: 'local-google-client',
      GOOGLE_CLIENT_SECRET: 'local-google-secret',
      GITHUB_CLIENT_ID: 'local-github-client',
      GITHUB_CLIENT_SECRET: 'local-github-secret',
      STRIPE_SECRET_KEY: standins.stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: standins.stripe.webhookSecret,
      STRIPE_API_BASE: standins.stripe.url,
      ...overrides,
    };
    standins.stripe.setWebhookUrl(`${apiUrl}/billing/stripe/webhook`);
    const server = await startLocalWorker({
      root,
      script,
      port,
      buildDir: path.join(tmpDir, 'build'),
      persistTo: path.join(tmpDir, `state-${label}`),
      vars,
      healthPath,
      logFile: path.join(tmpDir, `worker-${label}.log`),
    });
    running.add(server);
    const stop = server.stop;
    server.stop = async () => {
      running.delete(server);
      await stop();
    };
    return server;
  }

  return {
    standins,
    startWorker,
    async close() {
      for (const server of [...running]) await server.stop();
      await standins.close();
    },
    /** Last resort on an abrupt exit: kill what is still running, synchronously. */
    killSync() {
      for (const server of running) server.killSync();
    },
  };
}
