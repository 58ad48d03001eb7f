// The benchmark Worker: the real entry (src/index.ts, which serves createApp()) plus /bench/* routes in the
// same isolate, so a bare Hono route and Argon2id can be measured beside the app without adding routes to it.
// Run by `npm run bench` as `wrangler dev scripts/bench/worker.ts`: every other setting is wrangler.toml's.
import { Hono } from 'hono';
import worker from '../../src/index';
import { hasherMemoryBytes, PasswordHasher } from '../../src/services/auth/password-hasher';

// The parameters the app hashes with (services.ts builds its hasher with the defaults too).
const hasher = new PasswordHasher();
const PASSWORD = 'correct horse battery staple';
const MAX_HASHES_PER_REQUEST = 1000;

const bench = new Hono<{ Bindings: Env }>()
  // No middleware at all: the floor every app route is compared with.
  .get('/bench/bare', (c) => c.json({ ok: true }))
  // Hashes n passwords one after another; the caller times the request (Date.now() does not advance
  // while a Worker computes without I/O, so the Worker cannot time itself).
  .get('/bench/hash', async (c) => {
    const n = Math.min(Math.max(Number(c.req.query('n') ?? 1) || 0, 0), MAX_HASHES_PER_REQUEST);
    let phc: string | null = null;
    for (let i = 0; i < n; i++) phc = await hasher.hash(PASSWORD);
    return c.json({
      n,
      phc,
      password: PASSWORD,
      params: hasher.params,
      memory_bytes: await hasherMemoryBytes(),
    });
  })
  .get('/bench/memory', async (c) => c.json({ memory_bytes: await hasherMemoryBytes() }));

export default {
  ...worker,
  fetch(request, env, ctx) {
    return new URL(request.url).pathname.startsWith('/bench/')
      ? bench.fetch(request, env, ctx)
      : worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env, unknown>;
