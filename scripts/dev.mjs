// `npm run dev`: the whole API on one machine with nothing but Node. Creates .dev.vars from the example
// (with fresh secrets) when missing, starts the local stand-ins, then `wrangler dev` wired to them.
// Ctrl-C stops everything.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderDevVars, root, startDevStack } from './dev-stack.mjs';
import { seedSandboxPlans } from './sandbox-seed.mjs';
import { DEFAULT_PORTS } from './standins/index.mjs';

const port = (name, fallback) => Number(process.env[name] ?? fallback);

function ensureDevVars() {
  const target = path.join(root, '.dev.vars');
  if (existsSync(target)) return false;
  writeFileSync(target, renderDevVars(), { mode: 0o600 });
  return true;
}

const created = ensureDevVars();
// The offline Stripe sandbox keeps its objects in memory. A database kept on disk would outlive them
// (plans pointing at prices the sandbox no longer knows), so with the sandbox the database starts fresh
// too; with real Stripe keys the embedded database is kept in .standins/pglite.
const dataDir =
  process.env.STRIPE_SECRET_KEY && !process.env.LOCAL_POSTGRES_URL
    ? path.join(root, '.standins/pglite')
    : undefined;
if (dataDir) mkdirSync(dataDir, { recursive: true });
const stack = await startDevStack({
  apiPort: port('API_PORT', 8787),
  standinPorts: {
    neon: port('NEON_PORT', DEFAULT_PORTS.neon),
    upstash: port('UPSTASH_PORT', DEFAULT_PORTS.upstash),
    mail: port('MAIL_PORT', DEFAULT_PORTS.mail),
    oauth: port('OAUTH_PORT', DEFAULT_PORTS.oauth),
    stripe: port('STRIPE_PORT', DEFAULT_PORTS.stripe),
  },
  postgresUrl: process.env.LOCAL_POSTGRES_URL,
  redisUrl: process.env.LOCAL_REDIS_URL,
  dataDir,
  log: (line) => console.error(line),
});
const { api, standins } = stack;

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
stack.exited.then(({ code }) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the stand-ins.`);
    stop(code ?? 1);
  }
});

// The sandbox forgets its products at every start: demo plans let billing work without an admin.
const demoPlans = process.env.STRIPE_SECRET_KEY
  ? []
  : await seedSandboxPlans(standins).catch((error) => {
      console.error(`Could not create the demo plans: ${error.message}`);
      return stop(1);
    });
if (await stack.waitForHealth()) {
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
      ...(demoPlans?.length ? [`  Plans     ${demoPlans.join(', ')} (demo plans in the sandbox)`] : []),
      `  Database  ${standins.neon.backend === 'pglite' ? `embedded PGlite (${dataDir ? '.standins/pglite' : 'in memory, fresh each start'})` : process.env.LOCAL_POSTGRES_URL}`,
      `  Redis     ${standins.upstash.backend === 'embedded' ? 'embedded engine' : process.env.LOCAL_REDIS_URL}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
} else if (!stopping) {
  console.error(`The API did not become healthy at ${api}/health; see the wrangler output above.`);
}
