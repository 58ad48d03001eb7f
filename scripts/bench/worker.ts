// The benchmark Worker: the real entry (src/index.ts, which serves createApp()) plus /bench/* routes in the
// same isolate, so a bare Hono route and Argon2id can be measured beside the app without adding routes to it.
// `npm run bench` bundles it in place of wrangler.toml's entry: every other setting is wrangler.toml's.
import noSimdModule from 'argon2id/dist/no-simd.wasm';
import simdModule from 'argon2id/dist/simd.wasm';
import argon2id from 'argon2id/lib/argon2id.js';
import { Hono } from 'hono';
import { type Config, parseEnv } from '../../src/env';
import worker from '../../src/index';
import { issueAccessToken, verifyAccessToken } from '../../src/services/auth/access-tokens';
import { hasherMemoryBytes, PasswordHasher } from '../../src/services/auth/password-hasher';

// The parameters the app hashes with (services.ts builds its hasher with the defaults too).
const hasher = new PasswordHasher();
const PASSWORD = 'correct horse battery staple';
const MAX_HASHES_PER_REQUEST = 1000;

const TOKEN_CLAIMS = {
  userId: '2f0a3c1e-5b7d-4e9a-8c3f-1d2e3f4a5b6c',
  sessionId: '7b0e4f8a-1c2d-4e3f-9a5b-6c7d8e9f0a1b',
  emailVerified: true,
  // What a subscriber's token carries: as large as the claim gets for a plan with a few features.
  entitlements: {
    plan_code: 'pro-monthly',
    tier: 'pro' as const,
    features: ['api-access', 'priority-support', 'exports'],
    access_until: '2027-01-01T00:00:00.000Z',
  },
};
// The builds issue 16 had tried before the app's (the reference C for WASM, @phi-ag/argon2): the argon2id
// package (a devDependency now), whose JS drives the block loop and calls WASM per block, in its SIMD and
// no-SIMD builds, at the app's parameters, each with one instance and memory per isolate.
const argon2idBuilds = new Map<
  string,
  Promise<{ memory: WebAssembly.Memory; instance: WebAssembly.Instance }>
>();
function argon2idWasm(build: 'simd' | 'no-simd') {
  let loaded = argon2idBuilds.get(build);
  if (!loaded) {
    const memory = new WebAssembly.Memory({ initial: 1040, maximum: 65_536 });
    loaded = WebAssembly.instantiate(build === 'simd' ? simdModule : noSimdModule, { env: { memory } }).then(
      (instance) => ({ memory, instance }),
    );
    argon2idBuilds.set(build, loaded);
  }
  return loaded;
}

const configs = new Map<string, Config>();
/** The app's configuration with ACCESS_TOKEN_ALG as asked (parsed once per algorithm). */
function configFor(env: Env, alg: 'ES256' | 'HS256'): Config {
  let config = configs.get(alg);
  if (!config) {
    config = parseEnv({ ...env, ACCESS_TOKEN_ALG: alg });
    configs.set(alg, config);
  }
  return config;
}
const algOf = (value: string | undefined) => (value === 'HS256' ? 'HS256' : 'ES256');
const countOf = (value: string | undefined) => Math.min(Math.max(Number(value ?? 1) || 0, 0), 10_000);

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
  // ?build=simd|no-simd
  .get('/bench/hash-argon2id', async (c) => {
    const build = c.req.query('build') === 'no-simd' ? 'no-simd' : 'simd';
    const n = Math.min(Math.max(Number(c.req.query('n') ?? 1) || 0, 0), MAX_HASHES_PER_REQUEST);
    const { memoryKiB, passes, parallelism } = hasher.params;
    const password = new TextEncoder().encode(PASSWORD);
    for (let i = 0; i < n; i++) {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const wasm = await argon2idWasm(build);
      argon2id({ password, salt, memorySize: memoryKiB, passes, parallelism, tagLength: 32 }, wasm);
    }
    return c.json({ n });
  })
  .get('/bench/memory', async (c) => c.json({ memory_bytes: await hasherMemoryBytes() }))
  // Signs n access tokens as /login and /refresh-token do, under ?alg= (ES256 default, or HS256).
  .get('/bench/tokens/sign', async (c) => {
    const config = configFor(c.env, algOf(c.req.query('alg')));
    const n = countOf(c.req.query('n'));
    for (let i = 0; i < n; i++) await issueAccessToken(config, new Date(), TOKEN_CLAIMS);
    return c.json({ n });
  })
  // Signs n access tokens and verifies each once, as the first request with a new token does (the caller
  // takes the signing route's cost off); ?repeat=1 verifies one token n times, as every later request
  // with it does (the isolate remembers the tokens it verified).
  .get('/bench/tokens/verify', async (c) => {
    const config = configFor(c.env, algOf(c.req.query('alg')));
    const n = countOf(c.req.query('n'));
    const repeat = c.req.query('repeat') === '1';
    let token = '';
    for (let i = 0; i < n; i++) {
      if (!repeat || i === 0) ({ token } = await issueAccessToken(config, new Date(), TOKEN_CLAIMS));
      if (!(await verifyAccessToken(config, new Date(), token)).ok) return c.json({ error: 'refused' }, 500);
    }
    return c.json({ n });
  });

export default {
  ...worker,
  fetch(request, env, ctx) {
    return new URL(request.url).pathname.startsWith('/bench/')
      ? bench.fetch(request, env, ctx)
      : worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env, unknown>;
