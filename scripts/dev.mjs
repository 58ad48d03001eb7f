// `npm run dev`: the whole API on one machine with nothing but Node. Creates .dev.vars from the example
// (with fresh secrets) when missing, starts the local stand-ins, then `wrangler dev` wired to them.
// Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyDocsAssets } from './docs-assets.mjs';
import { DEFAULT_PORTS, startStandins } from './standins/index.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = (name, fallback) => Number(process.env[name] ?? fallback);
const apiPort = port('API_PORT', 8787);

function ensureDevVars() {
  const target = path.join(root, '.dev.vars');
  if (existsSync(target)) return false;
  const example = readFileSync(path.join(root, '.dev.vars.example'), 'utf8');
  writeFileSync(
    target,
    example.replaceAll('generate-me', () => randomBytes(48).toString('base64url')),
    {
      mode: 0o600,
    },
  );
  return true;
}

async function waitForHealth(url, child) {
  for (let attempt = 0; attempt < 240 && child.exitCode === null; attempt++) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return true;
    } catch {
      // wrangler is still starting
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

const created = ensureDevVars();
copyDocsAssets();
const dataDir = path.join(root, '.standins/pglite');
if (!process.env.LOCAL_POSTGRES_URL) mkdirSync(dataDir, { recursive: true });
const standins = await startStandins({
  ports: {
    neon: port('NEON_PORT', DEFAULT_PORTS.neon),
    upstash: port('UPSTASH_PORT', DEFAULT_PORTS.upstash),
    mail: port('MAIL_PORT', DEFAULT_PORTS.mail),
    oauth: port('OAUTH_PORT', DEFAULT_PORTS.oauth),
    stripe: port('STRIPE_PORT', DEFAULT_PORTS.stripe),
  },
  postgresUrl: process.env.LOCAL_POSTGRES_URL,
  redisUrl: process.env.LOCAL_REDIS_URL,
  dataDir: process.env.LOCAL_POSTGRES_URL ? undefined : dataDir,
  log: (line) => console.error(line),
});

// The stand-ins' real addresses win over .dev.vars, so changed ports or a real server just work.
const vars = {
  DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${standins.neon.defaultDatabase}`,
  NEON_FETCH_ENDPOINT: standins.neon.sqlUrl,
  UPSTASH_REDIS_REST_URL: standins.upstash.url,
  UPSTASH_REDIS_REST_TOKEN: standins.upstash.token,
  MAIL_API_URL: standins.mail.url,
  APP_URL: `http://127.0.0.1:${apiPort}`,
  // Offline Google and GitHub: their consent pages are served by the local OAuth stand-in.
  ...standins.oauth.urls,
  GOOGLE_CLIENT_ID: process.env.GOOGLE_CLIENT_ID ?? 'local-google-client',
  GOOGLE_CLIENT_SECRET: process.env.GOOGLE_CLIENT_SECRET ?? 'local-google-secret',
  GITHUB_CLIENT_ID: process.env.GITHUB_CLIENT_ID ?? 'local-github-client',
  GITHUB_CLIENT_SECRET: process.env.GITHUB_CLIENT_SECRET ?? 'local-github-secret',
  // The offline billing sandbox, unless real Stripe test keys are given in the environment.
  ...(process.env.STRIPE_SECRET_KEY
    ? {}
    : {
        STRIPE_SECRET_KEY: standins.stripe.apiKey,
        STRIPE_WEBHOOK_SECRET: standins.stripe.webhookSecret,
        STRIPE_API_BASE: standins.stripe.url,
      }),
};
standins.stripe.setWebhookUrl(`http://127.0.0.1:${apiPort}/billing/stripe/webhook`);
const wrangler = spawn(
  path.join(root, 'node_modules/.bin/wrangler'),
  [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(apiPort),
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
  ],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null) {
    wrangler.kill('SIGTERM');
    await new Promise((resolve) => wrangler.once('exit', resolve));
  }
  await standins.close();
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
wrangler.once('exit', (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the stand-ins.`);
    stop(code ?? 1);
  }
});

const api = `http://127.0.0.1:${apiPort}`;
if (await waitForHealth(`${api}/health`, wrangler)) {
  console.log(
    [
      '',
      `edgeauth is running${created ? ' (created .dev.vars with fresh secrets)' : ''}:`,
      `  API       ${api}`,
      `  Docs      ${api}/docs`,
      `  OpenAPI   ${api}/openapi.json`,
      `  Mailbox   ${standins.mail.url}`,
      `  Sign-in   ${api}/google/login  ${api}/github/login  (local consent pages)`,
      `  Billing   ${process.env.STRIPE_SECRET_KEY ? 'Stripe (your keys)' : `offline Stripe sandbox at ${standins.stripe.url}`}`,
      `  Database  ${standins.neon.backend === 'pglite' ? 'embedded PGlite (.standins/pglite)' : process.env.LOCAL_POSTGRES_URL}`,
      `  Redis     ${standins.upstash.backend === 'embedded' ? 'embedded engine' : process.env.LOCAL_REDIS_URL}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
} else if (!stopping) {
  console.error(`The API did not become healthy at ${api}/health; see the wrangler output above.`);
}
