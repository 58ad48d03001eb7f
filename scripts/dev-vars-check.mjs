// `npm run dev-vars:check`: proves that under the dev runner the user's settings beat the stand-ins.
// Starts the stack the way `npm run dev` does, with a .dev.vars naming the user's own Stripe keys and
// webhook secret, Google client and endpoints, admin and database, and a shell naming their own mail
// relay; then checks over HTTP that each reached the Worker (and no stand-in answered in its place),
// and that no secret appears on any process's command line. Exits non-zero on any finding.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { neon, neonConfig } from '@neondatabase/serverless';
import Stripe from 'stripe';
import { findFreePort, renderDevVars, root, startDevStack } from './dev-stack.mjs';
import { startNeonHttp } from './standins/neon-http.mjs';

const secret = (label) => `${label}_${randomBytes(12).toString('hex')}`;
const mine = {
  stripeKey: secret('sk_test_mine'),
  webhookSecret: secret('whsec_mine'),
  googleClient: 'mine.apps.googleusercontent.com',
  googleSecret: secret('google_secret_mine'),
  mailKey: secret('re_mine'),
};
const ADMIN = 'owner@example.com';

/** A stand-in for a third party of the user's own: records each request, answers with `reply`. */
async function recorder(reply) {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const { status, json } = reply(req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

/** Every secret of the test that shows on some process's command line (Linux /proc). */
function secretsInProcessList() {
  const found = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // the process ended meanwhile
    }
    for (const [name, value] of Object.entries(mine))
      if (argv.includes(value)) found.push(`${name} in pid ${pid}`);
  }
  return found;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-dev-vars-'));
const logDir = path.join(root, 'test-results/dev-vars');
mkdirSync(logDir, { recursive: true });
const stripe = await recorder(() => ({
  status: 400,
  json: { error: { type: 'invalid_request_error', message: 'recorded' } },
}));
const mail = await recorder(() => ({ status: 200, json: { id: 'mail_1' } }));
const database = await startNeonHttp({ port: 0 });
let stack;
try {
  const envFile = path.join(scratch, '.dev.vars');
  const own = {
    STRIPE_SECRET_KEY: mine.stripeKey,
    STRIPE_WEBHOOK_SECRET: mine.webhookSecret,
    STRIPE_API_BASE: stripe.url,
    GOOGLE_CLIENT_ID: mine.googleClient,
    GOOGLE_CLIENT_SECRET: mine.googleSecret,
    GOOGLE_AUTH_URL: 'https://accounts.mine.example/authorize',
    DATABASE_URL: `postgres://me:pw@127.0.0.1/${database.defaultDatabase}`,
    NEON_FETCH_ENDPOINT: database.sqlUrl,
    ADMIN_EMAILS: ADMIN,
    RATE_LIMIT_MAX: '1000',
  };
  writeFileSync(envFile, renderDevVars(own), { mode: 0o600 });
  stack = await startDevStack({
    apiPort: await findFreePort(),
    standinPorts: { neon: 0, upstash: 0, mail: 0, oauth: 0, stripe: 0 },
    envFile,
    shell: { MAIL_API_URL: mail.url, MAIL_API_KEY: mine.mailKey, PATH: process.env.PATH },
    persistTo: path.join(scratch, 'state'),
    wranglerOutput: openSync(path.join(logDir, 'wrangler.log'), 'w'),
  });
  assert.ok(await stack.waitForHealth(), `the Worker did not become healthy; see ${logDir}/wrangler.log`);
  const { api } = stack;
  assert.deepEqual(stack.sources, {
    database: '.dev.vars',
    redis: 'stand-in',
    mail: 'shell',
    google: '.dev.vars',
    github: 'stand-in',
    stripe: '.dev.vars',
  });

  // Mail: the verification email goes to the relay named in the shell, with its key.
  const register = await fetch(`${api}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN, username: 'owner', password: 'correct horse battery staple' }),
  });
  assert.equal(register.status, 201, await register.text());
  const sent = await waitFor(
    () => mail.requests.find((r) => r.body.includes(ADMIN)),
    'the verification email',
  );
  assert.equal(sent.headers.authorization, `Bearer ${mine.mailKey}`);
  assert.equal(stack.standins.mail.messages.length, 0, 'the local mail sink got nothing');

  // Database: the account is in the database .dev.vars names, not in the stand-in's.
  neonConfig.fetchEndpoint = database.sqlUrl;
  const rows = await neon(`postgres://me:pw@127.0.0.1/${database.defaultDatabase}`)`select email from users`;
  assert.deepEqual(rows, [{ email: ADMIN }]);

  // Google: sign-in sends the browser to the user's own provider with their client id.
  const google = await fetch(`${api}/google/login`, { redirect: 'manual' });
  const location = new URL(google.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, 'https://accounts.mine.example/authorize');
  assert.equal(location.searchParams.get('client_id'), mine.googleClient);

  // Stripe: webhooks verify with the user's secret only; API calls carry the user's key to their base.
  const event = JSON.stringify({
    id: 'evt_dev_vars_check',
    object: 'event',
    type: 'customer.created',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'cus_dev_vars_check', object: 'customer' } },
  });
  const deliver = (webhookSecret) =>
    fetch(`${api}/billing/stripe/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({
          payload: event,
          secret: webhookSecret,
        }),
      },
      body: event,
    });
  const withMine = await deliver(mine.webhookSecret);
  assert.equal(withMine.status, 200, await withMine.text());
  const withStandin = await deliver(stack.standins.stripe.webhookSecret);
  assert.equal(withStandin.status, 400, 'the stand-in secret is refused');

  const link = new URL(/href="([^"]*\/verify\?token=[^"]+)"/.exec(JSON.parse(sent.body).html)?.[1] ?? '');
  assert.equal((await fetch(link, { redirect: 'manual' })).status < 400, true, 'verification link works');
  const login = await fetch(`${api}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: api },
    body: JSON.stringify({ email: ADMIN, password: 'correct horse battery staple' }),
  });
  const session = await login.text();
  assert.equal(login.status, 200, session);
  const { token } = JSON.parse(session);
  await fetch(`${api}/billing/plans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      code: 'pro',
      name: 'Pro',
      price_cents: 900,
      currency: 'usd',
      billing_period: 'monthly',
    }),
  });
  const toStripe = stripe.requests.find((r) => r.url?.startsWith('/v1/products'));
  assert.ok(
    toStripe,
    `creating a plan called the Stripe API named in .dev.vars (got ${stripe.requests.length})`,
  );
  assert.equal(toStripe.headers.authorization, `Bearer ${mine.stripeKey}`);

  assert.deepEqual(secretsInProcessList(), [], 'no secret on a command line');
  console.log(
    'dev-vars check passed: .dev.vars and the shell win per integration; no secret in the process list.',
  );
} finally {
  await stack?.stop();
  await Promise.allSettled([stripe.close(), mail.close(), database.close()]);
  rmSync(scratch, { recursive: true, force: true });
}

async function waitFor(find, what) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}
