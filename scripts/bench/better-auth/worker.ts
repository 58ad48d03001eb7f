// The peer a user would pick instead: better-auth (pinned devDependency, never in edgeauth's bundle) set up
// as its docs recommend for Workers: Hono mounts `auth.handler` at /api/auth/*, the Drizzle adapter over
// Neon's HTTP driver, email + password, cookie sessions. `npm run bench` runs it on the same
// Miniflare / workerd and wrangler.toml as edgeauth, against its own database in the same Neon
// stand-in, with rate limiting off, as the benchmark's edgeauth Worker runs with its limits raised.
import { neon, neonConfig } from '@neondatabase/serverless';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { hashPassword } from 'better-auth/crypto';
import { drizzle } from 'drizzle-orm/neon-http';
import { Hono } from 'hono';
import * as schema from './schema';

interface PeerEnv {
  DATABASE_URL: string;
  NEON_FETCH_ENDPOINT: string;
  APP_URL: string;
  REFRESH_SECRET_KEY: string;
  /** '1': one JSON log line per request, the line edgeauth writes (better-auth writes none itself). */
  LOG_REQUESTS: string;
}

/** The second instance, under this prefix, refreshes the session on every read (`updateAge: 0`). */
const REFRESHING_PREFIX = '/refreshing';
const PASSWORD = 'correct horse battery staple';
const MAX_HASHES_PER_REQUEST = 1000;

function createAuth(env: PeerEnv, { refreshEveryRead }: { refreshEveryRead: boolean }) {
  return betterAuth({
    baseURL: env.APP_URL,
    basePath: `${refreshEveryRead ? REFRESHING_PREFIX : ''}/api/auth`,
    secret: env.REFRESH_SECRET_KEY,
    database: drizzleAdapter(drizzle({ client: neon(env.DATABASE_URL), schema }), { provider: 'pg', schema }),
    emailAndPassword: { enabled: true },
    session: {
      // The documented cookie cache (5 minutes); `?disableCookieCache=true` reads the database instead.
      cookieCache: { enabled: true, maxAge: 5 * 60 },
      // Defaults (7-day sessions, extended once a day) except on the refreshing instance.
      ...(refreshEveryRead ? { updateAge: 0 } : {}),
    },
    // Its documented performance setting: the session and its user in one joined query.
    advanced: { database: { joins: true } },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
  });
}

type Auth = ReturnType<typeof createAuth>;
let instances: { auth: Auth; refreshing: Auth } | undefined;
/** One instance per isolate, built on the first request (bindings are not visible before). */
function authOf(env: PeerEnv) {
  if (!instances) {
    neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
    instances = {
      auth: createAuth(env, { refreshEveryRead: false }),
      refreshing: createAuth(env, { refreshEveryRead: true }),
    };
  }
  return instances;
}

export default new Hono<{ Bindings: PeerEnv }>()
  .use(async (c, next) => {
    if (c.env.LOG_REQUESTS !== '1') return next();
    const started = performance.now();
    await next();
    const durationMs = performance.now() - started;
    console.info(
      JSON.stringify({
        level: 'info',
        msg: 'request',
        time: new Date().toISOString(),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        duration_ms: Math.round(durationMs * 10) / 10,
      }),
    );
  })
  // The floor of this Worker: a route that does nothing.
  .get('/bench/bare', (c) => c.json({ ok: true }))
  // better-auth's password hash at its defaults (scrypt N=16384, r=16, p=1 through node:crypto in workerd).
  .get('/bench/hash', async (c) => {
    const n = Math.min(Math.max(Number(c.req.query('n') ?? 1) || 0, 0), MAX_HASHES_PER_REQUEST);
    let phc: string | null = null;
    for (let i = 0; i < n; i++) phc = await hashPassword(PASSWORD);
    return c.json({ n, phc });
  })
  .on(['GET', 'POST'], `${REFRESHING_PREFIX}/api/auth/*`, (c) => authOf(c.env).refreshing.handler(c.req.raw))
  .on(['GET', 'POST'], '/api/auth/*', (c) => authOf(c.env).auth.handler(c.req.raw));
