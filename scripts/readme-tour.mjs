// `npm run readme:tour`: runs README.md's tour as written, so the commands a reader pastes keep working.
// Takes the sh blocks between `<!-- tour` and `<!-- /tour -->`, starts a throw-away stack with what a
// fresh `npm run dev` has (settings from .dev.vars.example, the offline Stripe sandbox and its demo plans)
// on free ports, and runs them with `bash -euo pipefail` pointed there through API_URL and MAIL_URL.
// Exits non-zero if a command fails (every curl in the tour must fail on HTTP errors).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, startTestStack } from './dev-stack.mjs';
import { seedSandboxPlans } from './sandbox-seed.mjs';

const TOUR_TIMEOUT_MS = 3 * 60_000;
const resultsDir = path.join(root, 'test-results/readme-tour');

/** The tour's shell code: every ```sh block between the two markers, in order. */
function extractTour(markdown) {
  const start = markdown.indexOf('<!-- tour');
  const end = markdown.indexOf('<!-- /tour -->');
  if (start === -1 || end < start)
    throw new Error('README.md has no <!-- tour --> ... <!-- /tour --> section');
  const blocks = [...markdown.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error('the tour section of README.md has no ```sh block');
  return blocks.join('\n');
}

/**
 * What makes the tour checkable: a curl that ignores HTTP errors would let a broken step pass, and an
 * address written out anywhere but in a `${VAR:-default}` would reach past the stack started here.
 */
function tourFindings(code) {
  const findings = [];
  for (const [line] of code.matchAll(/^(?!\s*#).*\bcurl\b.*$/gm)) {
    if (!/\s(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)\s/.test(` ${line} `))
      findings.push(`curl without -f: ${line.trim()}`);
  }
  const withoutDefaults = code.replaceAll(/\$\{\w+:-[^}]*\}/g, '');
  for (const [address] of withoutDefaults.matchAll(/\bhttps?:\/\/(127\.0\.0\.1|localhost)[^\s'"]*/g))
    findings.push(`address outside a \${VAR:-default}: ${address}`);
  return findings;
}

let bash;
/** Runs the code in bash in `cwd`, its output on ours; resolves with bash's exit code. */
function runBash(code, { cwd, env }) {
  bash = spawn('bash', ['-c', `set -euo pipefail\nPS4=$'\\n+ tour: '\nset -x\n${code}`], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // its own process group, so a timeout ends curl and node too
  });
  const timer = setTimeout(() => {
    console.error(`\nThe tour did not finish within ${TOUR_TIMEOUT_MS / 1000} s.`);
    process.kill(-bash.pid, 'SIGKILL');
  }, TOUR_TIMEOUT_MS);
  return new Promise((resolve) => {
    bash.once('exit', (code) => resolve(code ?? 1));
    bash.once('error', (error) => {
      console.error(`bash could not start: ${error.message}`);
      resolve(1);
    });
  }).finally(() => clearTimeout(timer));
}

async function main() {
  const code = extractTour(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const findings = tourFindings(code);
  if (findings.length > 0)
    throw new Error(`the README tour cannot be checked as written:\n  ${findings.join('\n  ')}`);

  mkdirSync(resultsDir, { recursive: true });
  const logFile = path.join(resultsDir, 'wrangler.log');
  const stack = await startTestStack({ logFile });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      if (bash?.exitCode === null) process.kill(-bash.pid, 'SIGKILL');
      stack.stop().finally(() => process.exit(128 + os.constants.signals[signal]));
    });
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-tour-'));
  try {
    if (!(await stack.waitForHealth())) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`the Worker did not become healthy at ${stack.api}/health. wrangler said:\n${tail}`);
    }
    const plans = await seedSandboxPlans(stack.standins);
    console.log(
      `README tour against ${stack.api} (mailbox ${stack.standins.mail.url}, plans ${plans.join(', ')})`,
    );
    const exitCode = await runBash(code, {
      cwd: scratch, // the tour's cookie jar lands here, not in the checkout
      env: { API_URL: stack.api, MAIL_URL: stack.standins.mail.url },
    });
    console.log(`\nREADME tour ${exitCode === 0 ? 'passed' : `FAILED (bash exited ${exitCode})`}.`);
    return exitCode;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await stack.stop();
  }
}

main().then(
  (exitCode) => process.exit(exitCode),
  (error) => {
    console.error(`README tour could not run: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
