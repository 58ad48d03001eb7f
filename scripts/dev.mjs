// `npm run dev`: the whole API on one machine with nothing but Node. Creates .dev.vars from the example
// (with fresh secrets) when missing, starts the local stand-ins, then `wrangler dev` wired to them.
// Ctrl-C stops everything.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { INTEGRATIONS, integrationSources } from './dev-settings.mjs';
import { missingSecretLines, readUserSettings, renderDevVars, root, startDevStack } from './dev-stack.mjs';
import { seedSandboxPlans } from './sandbox-seed.mjs';
import { DEFAULT_PORTS } from './standins/index.mjs';

const port = (name, fallback) => Number(process.env[name] ?? fallback);

function ensureDevVars() {
  const target = path.join(root, '.dev.vars');
  if (!existsSync(target)) {
    writeFileSync(target, renderDevVars(), { mode: 0o600 });
    return true;
  }
  const text = readFileSync(target, 'utf8');
  const added = missingSecretLines(text);
  if (added.length > 0) {
    writeFileSync(target, `${text.trimEnd()}\n${added.join('\n')}\n`, { mode: 0o600 });
    console.error(
      `Added ${added.map((line) => line.split('=')[0]).join(', ')} to .dev.vars (new since it was made).`,
    );
  }
  return false;
}

const created = ensureDevVars();
const planned = integrationSources(readUserSettings(path.join(root, '.dev.vars'), process.env));
// The offline Stripe sandbox keeps its objects in memory. A database kept on disk would outlive them
// (plans pointing at prices the sandbox no longer knows), so with the sandbox the database starts fresh
// too; with your own Stripe keys the embedded database is kept in .standins/pglite.
const dataDir =
  planned.stripe !== 'stand-in' && !process.env.LOCAL_POSTGRES_URL
    ? path.join(root, '.standins/pglite')
    : undefined;
if (dataDir) mkdirSync(dataDir, { recursive: true });
const PORT_VARIABLES = 'API_PORT, NEON_PORT, UPSTASH_PORT, MAIL_PORT, OAUTH_PORT, STRIPE_PORT';
function portInUse(error) {
  if (error?.code !== 'EADDRINUSE') throw error;
  // The usual cause is another `npm run dev`: say so instead of printing a stack trace.
  console.error(
    `Port ${error.port} on ${error.address ?? '127.0.0.1'} is already in use (is another \`npm run dev\` running?). ` +
      `Stop it, or pick other ports with ${PORT_VARIABLES}.`,
  );
  process.exit(1);
}
/** Fails like a stand-in would, before wrangler starts, when the API's port is taken. */
const apiPort = port('API_PORT', 8787);
await new Promise((resolve, reject) => {
  const probe = net.createServer().once('error', reject);
  probe.listen(apiPort, '127.0.0.1', () => probe.close(resolve));
}).catch(portInUse);
const stack = await startDevStack({
  apiPort,
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
  shell: process.env,
  log: (line) => console.error(line),
}).catch(portInUse);
const { api, standins, sources } = stack;

/** The banner's line for one integration: the user's own, or which stand-in serves it. */
function describe(id) {
  if (sources[id] !== 'stand-in') return `yours (from ${sources[id]})`;
  const database =
    standins.neon.backend === 'pglite'
      ? `embedded PGlite (${dataDir ? '.standins/pglite' : 'in memory, fresh each start'})`
      : `${process.env.LOCAL_POSTGRES_URL} through the Neon stand-in`;
  const redis =
    standins.upstash.backend === 'embedded'
      ? 'embedded engine'
      : `${process.env.LOCAL_REDIS_URL} through the Upstash stand-in`;
  return {
    database,
    redis,
    mail: `local mail sink; mailbox at ${standins.mail.url}`,
    google: `local consent page at ${api}/google/login`,
    github: `local consent page at ${api}/github/login`,
    stripe: `offline Stripe sandbox at ${standins.stripe.url}`,
  }[id];
}

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
// They go into the stand-in database, so only when both Stripe and the database are stand-ins.
const demoPlans =
  sources.stripe !== 'stand-in' || sources.database !== 'stand-in'
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
      ...INTEGRATIONS.map(({ id, label }) => `  ${label.padEnd(9)} ${describe(id)}`),
      ...(demoPlans?.length ? [`  Plans     ${demoPlans.join(', ')} (demo plans in the sandbox)`] : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
} else if (!stopping) {
  // Say which dependency is down and who serves it: a leftover DATABASE_URL in the shell is the usual cause.
  const health = await fetch(`${api}/health`)
    .then((response) => response.text())
    .catch((error) => `no answer (${error.message})`);
  console.error(
    [
      `The API did not become healthy at ${api}/health: ${health}`,
      ...INTEGRATIONS.map(({ id, label }) => `  ${label.padEnd(9)} ${describe(id)}`),
      'See the wrangler output above; a value of yours (from .dev.vars or the shell) may point somewhere wrong.',
    ].join('\n'),
  );
  await stop(1);
}
