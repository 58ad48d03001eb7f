// The local stack behind `npm run dev`, `npm run openapi:check` and `npm run test:browser`: the
// stand-ins, then `wrangler dev` wired to them. One place, so every tool runs the Worker the same way.
// startTestStack() is the throw-away variant: free ports, fresh secrets and state, no .dev.vars;
// startHealthyTestStack() also waits until it answers.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnvFile, resolveDevSettings } from './dev-settings.mjs';
import { copyDocsAssets } from './docs-assets.mjs';
import { freshKeySet } from './signing-keys.mjs';
import { startStandins } from './standins/index.mjs';
import { renderEnvFile, wranglerDevArgs } from './wrangler-dev.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * .dev.vars.example with every "generate-me" replaced by a fresh random secret (and "generate-signing-key"
 * by a fresh access-token key set), and `settings` in place
 * of the example's values (or added), as a user would edit the file.
 * @param {Record<string, string>} [settings]
 */
/** The value a placeholder of .dev.vars.example stands for, fresh; undefined for any other value. */
function generated(placeholder) {
  if (placeholder === 'generate-signing-key') return freshKeySet();
  if (placeholder === 'generate-me') return randomBytes(48).toString('base64url');
  return undefined;
}

/**
 * Lines to append to an existing .dev.vars for the secrets the example gained since it was made (a new
 * placeholder, like ACCESS_SIGNING_KEYS), so an old .dev.vars keeps working.
 * @param {string} devVarsText
 */
export function missingSecretLines(devVarsText) {
  const example = parseEnvFile(readFileSync(path.join(root, '.dev.vars.example'), 'utf8'));
  const present = parseEnvFile(devVarsText);
  return Object.entries(example).flatMap(([name, value]) => {
    const fresh = name in present ? undefined : generated(value);
    return fresh === undefined ? [] : [`${name}=${fresh}`];
  });
}

export function renderDevVars(settings = {}) {
  const example = readFileSync(path.join(root, '.dev.vars.example'), 'utf8');
  const rest = new Map(Object.entries(settings));
  // Only values: the word also appears in the file's comments, which must keep saying what it means.
  const edited = example.replace(/^([A-Z_][A-Z0-9_]*)=(.*)$/gm, (line, name, value) => {
    if (rest.has(name)) {
      const setting = rest.get(name);
      rest.delete(name);
      return renderEnvFile({ [name]: setting }).trimEnd();
    }
    const fresh = generated(value);
    return fresh === undefined ? line : `${name}=${fresh}`;
  });
  return edited + renderEnvFile(Object.fromEntries(rest));
}

/**
 * The example, the user's env file and the shell, for dev-settings.mjs to decide who serves what.
 * @param {string} envFile @param {Record<string, string | undefined>} shell
 */
export function readUserSettings(envFile, shell) {
  return {
    example: parseEnvFile(readFileSync(path.join(root, '.dev.vars.example'), 'utf8')),
    devVars: existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : {},
    shell,
  };
}

/** What each stand-in sets when it serves its integration (integration ids as in dev-settings.mjs). */
function standinSettings(standins) {
  const { GOOGLE_AUTH_URL, GOOGLE_TOKEN_URL, GOOGLE_USERINFO_URL, ...github } = standins.oauth.urls;
  return {
    database: {
      DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${standins.neon.defaultDatabase}`,
      NEON_FETCH_ENDPOINT: standins.neon.sqlUrl,
    },
    redis: { UPSTASH_REDIS_REST_URL: standins.upstash.url, UPSTASH_REDIS_REST_TOKEN: standins.upstash.token },
    mail: { MAIL_API_URL: standins.mail.url, MAIL_API_KEY: 'local-mail-key' },
    // Offline Google and GitHub: their consent pages are served by the local OAuth stand-in.
    google: {
      GOOGLE_CLIENT_ID: 'local-google-client',
      GOOGLE_CLIENT_SECRET: 'local-google-secret',
      GOOGLE_AUTH_URL,
      GOOGLE_TOKEN_URL,
      GOOGLE_USERINFO_URL,
    },
    github: {
      GITHUB_CLIENT_ID: 'local-github-client',
      GITHUB_CLIENT_SECRET: 'local-github-secret',
      ...github,
    },
    stripe: {
      STRIPE_SECRET_KEY: standins.stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: standins.stripe.webhookSecret,
      STRIPE_API_BASE: standins.stripe.url,
    },
  };
}

/** A port nobody listens on right now (the OS picks it), for callers that cannot pass port 0. */
export function findFreePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {{
 *   apiPort: number,
 *   standinPorts?: Parameters<typeof startStandins>[0]['ports'],
 *   postgresUrl?: string, redisUrl?: string, dataDir?: string,
 *   envFile?: string,  // the user's settings and secrets for wrangler instead of .dev.vars
 *   shell?: Record<string, string | undefined>, // variables that beat envFile (npm run dev: process.env)
 *   persistTo?: string, // wrangler's local state directory instead of .wrangler/state
 *   wranglerOutput?: 'inherit' | number, // a file descriptor keeps wrangler's output out of the terminal
 *   log?: (line: string) => void,
 * }} options
 */
export async function startDevStack({
  apiPort,
  standinPorts,
  postgresUrl,
  redisUrl,
  dataDir,
  envFile,
  shell = {},
  persistTo,
  wranglerOutput = 'inherit',
  log = () => {},
}) {
  copyDocsAssets();
  const standins = await startStandins({ ports: standinPorts, postgresUrl, redisUrl, dataDir, log });
  // localhost, not 127.0.0.1: a front end on http://localhost:5173 (Vite's default) is then on the same
  // site as the API, so browsers keep the refresh cookie. wrangler still listens on 127.0.0.1 only.
  const api = `http://localhost:${apiPort}`;
  const userEnvFile = envFile ?? path.join(root, '.dev.vars');
  const { vars, sources } = resolveDevSettings({
    ...readUserSettings(userEnvFile, shell),
    standins: standinSettings(standins),
    api,
    apiPort,
  });
  standins.stripe.setWebhookUrl(`${api}/billing/stripe/webhook`);

  // These values include secrets: they go to wrangler in a file only this user can read (a fresh 0700
  // directory) listed after .dev.vars, so they fill what it leaves unset; never on the command line.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-wrangler-'));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  process.once('exit', removeScratch);
  const standinEnvFile = path.join(scratch, 'standins.env');
  let wrangler;
  try {
    writeFileSync(standinEnvFile, renderEnvFile(vars), { mode: 0o600 });
    wrangler = spawn(
      path.join(root, 'node_modules/.bin/wrangler'),
      wranglerDevArgs({
        apiPort,
        envFiles: [...(existsSync(userEnvFile) ? [userEnvFile] : []), standinEnvFile],
        persistTo,
      }),
      { cwd: root, stdio: ['ignore', wranglerOutput, wranglerOutput] },
    );
  } catch (error) {
    removeScratch();
    await standins.close();
    throw error;
  }
  let running = true;
  const exited = new Promise((resolve) => {
    wrangler.once('exit', (code, signal) => resolve({ code, signal }));
    // Could not start at all (e.g. node_modules missing): 'exit' never comes.
    wrangler.once('error', (error) => {
      log(`wrangler dev could not start: ${error.message}`);
      resolve({ code: null, signal: null, error });
    });
  }).finally(() => {
    running = false;
    removeScratch();
  });

  let stopped;
  return {
    api,
    standins,
    /** Per integration id (see dev-settings.mjs): 'shell', '.dev.vars' or 'stand-in'. */
    sources,
    wrangler,
    /** Resolves with wrangler's exit code and signal, whoever stopped it. */
    exited,
    /**
     * True once GET /health answers 200; false if wrangler exits, two minutes pass, or the Worker is up
     * but has answered 503 (a dependency down) for 15 s in a row: that is an answer, not a slow start.
     */
    async waitForHealth() {
      let unhealthy = 0;
      for (let attempt = 0; attempt < 240 && running && unhealthy < 30; attempt++) {
        try {
          const response = await fetch(`${api}/health`);
          if (response.status === 200) return true;
          unhealthy = response.status === 503 ? unhealthy + 1 : 0;
        } catch {
          // wrangler is still starting
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return false;
    },
    /** Stops wrangler (SIGKILL after 10 s if SIGTERM is not enough), then the stand-ins. Idempotent. */
    stop() {
      stopped ??= (async () => {
        if (running) {
          wrangler.kill('SIGTERM');
          const timer = setTimeout(() => wrangler.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await standins.close();
      })();
      return stopped;
    },
  };
}

/**
 * A stack that shares nothing with `npm run dev` or another run: free ports, in-memory stand-ins,
 * settings from .dev.vars.example with fresh secrets and `vars` written into it (the developer's
 * .dev.vars and shell are not read), and wrangler state in a temporary directory that stop() removes.
 * Wrangler's output goes to `logFile`.
 * @param {{ logFile: string, vars?: Record<string, string>, log?: (line: string) => void }} options
 */
export async function startTestStack({ logFile, vars, log }) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-stack-'));
  const envFile = path.join(scratch, 'dev.vars');
  writeFileSync(envFile, renderDevVars(vars), { mode: 0o600 });
  const output = openSync(logFile, 'w');
  const cleanUp = () => {
    rmSync(scratch, { recursive: true, force: true });
    closeSync(output);
  };
  let stack;
  try {
    stack = await startDevStack({
      apiPort: await findFreePort(),
      standinPorts: { neon: 0, upstash: 0, mail: 0, oauth: 0, stripe: 0 },
      envFile,
      persistTo: path.join(scratch, 'state'),
      wranglerOutput: output,
      log,
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
  let stopped;
  return {
    ...stack,
    stop() {
      stopped ??= stack.stop().finally(cleanUp);
      return stopped;
    },
  };
}

/**
 * startTestStack(), resolved once GET /health answers 200. If it never does, the stack is stopped and
 * the error carries the end of wrangler's log, which says why. SIGINT, SIGTERM and SIGHUP stop the stack
 * before the process exits, so an interrupted check leaves no wrangler behind.
 * @param {Parameters<typeof startTestStack>[0]} options
 */
export async function startHealthyTestStack(options) {
  const stack = await startTestStack(options);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => stack.stop().finally(() => process.exit(128 + os.constants.signals[signal])));
  }
  if (await stack.waitForHealth()) return stack;
  await stack.stop();
  const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-40).join('\n');
  throw new Error(`the Worker did not become healthy at ${stack.api}/health. wrangler said:\n${tail}`);
}
