// `npm run test:browser`: runs test/browser/*.browser.mjs in Debian's Chromium, driven by playwright-core,
// against a throw-away stack (stand-ins + wrangler dev on free ports). Screenshots of every step go to
// test-results/browser/. Never downloads a browser. `npm run test:browser -- verify` runs matching files.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ADMIN_EMAIL, apiClient } from '../test/browser/support.mjs';
import { CHROMIUM, launchChromium } from './chromium.mjs';
import { root, startTestStack } from './dev-stack.mjs';
import { serveDirectory } from './static-server.mjs';

const TEST_TIMEOUT_MS = 90_000;
const RUN_TIMEOUT_MS = 10 * 60_000;
const testsDir = path.join(root, 'test/browser');
const outDir = path.join(root, 'test-results/browser');

const filter = process.argv[2] ?? '';
const files = readdirSync(testsDir)
  .filter((file) => file.endsWith('.browser.mjs') && file.includes(filter))
  .sort();

let stack;
let browser;
/** test/browser/spa on its own port of localhost: another origin than the API, the same site. */
let spa;
let cleaningUp;
/** Closes the browser and stops the stack, once, whatever state the run is in. */
function cleanUp() {
  cleaningUp ??= (async () => {
    await browser?.close().catch(() => {});
    await stack?.stop().catch(() => {});
    await spa?.close();
  })();
  return cleaningUp;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the browser and the stack.`);
    cleanUp().finally(() => process.exit(128 + os.constants.signals[signal]));
  });
}
setTimeout(() => {
  console.log(`\nThe browser tests did not finish within ${RUN_TIMEOUT_MS / 60_000} minutes.`);
  cleanUp().finally(() => process.exit(1));
}, RUN_TIMEOUT_MS).unref();

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startEverything() {
  browser = await launchChromium();
  const logFile = path.join(outDir, 'wrangler.log');
  const spaDir = path.join(testsDir, 'spa');
  spa = await serveDirectory({
    dir: spaDir,
    pages: { '/': readFileSync(path.join(spaDir, 'index.html'), 'utf8') },
  });
  stack = await startTestStack({
    logFile,
    // Rate limits have their own tests; these flows register and sign in several users in a minute.
    vars: { ADMIN_EMAILS: ADMIN_EMAIL, RATE_LIMIT_MAX: '1000', CORS_ORIGINS: spa.origin },
  });
  if (!(await stack.waitForHealth())) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`the Worker did not become healthy at ${stack.api}/health. wrangler said:\n${tail}`);
  }
  console.log(
    `Chromium ${browser.version()} (${CHROMIUM}); API ${stack.api}; SPA ${spa.origin}; mailbox ${stack.standins.mail.url}; ` +
      `screenshots in ${path.relative(root, outDir)}/`,
  );
}

async function runTest(file, index) {
  let test = { name: file };
  const prefix = `${String(index + 1).padStart(2, '0')}-${file.replace('.browser.mjs', '')}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const browserErrors = [];
  page.on('pageerror', (error) => browserErrors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const { url } = message.location();
    if (message.type() !== 'error') return;
    browserErrors.push(`console error: ${message.text()}${url ? ` (${url})` : ''}`);
  });
  let step = 0;
  const shot = async (label) => {
    step += 1;
    await page.screenshot({ path: path.join(outDir, `${prefix}-${step}-${label}.png`) });
  };
  const started = Date.now();
  try {
    test = await import(pathToFileURL(path.join(testsDir, file)).href);
    await withTimeout(
      test.run({
        page,
        api: stack.api,
        spaUrl: spa.origin,
        mailUrl: stack.standins.mail.url,
        call: apiClient(stack.api),
        shot,
        browserErrors,
      }),
      TEST_TIMEOUT_MS,
      file,
    );
    console.log(`  ✓ ${test.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return true;
  } catch (error) {
    console.log(`  ✗ ${test.name}`);
    console.log(
      `      ${String(error?.stack ?? error)
        .split('\n')
        .join('\n      ')}`,
    );
    await page
      .screenshot({ path: path.join(outDir, `${prefix}-FAILED.png`) })
      .catch(() => console.log('      (no failure screenshot: the page is gone)'));
    if (browserErrors.length) console.log(`      browser said:\n        ${browserErrors.join('\n        ')}`);
    return false;
  } finally {
    await context.close().catch(() => {});
  }
}

let passed = 0;
let failed = 0;
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
try {
  if (files.length === 0) throw new Error(`no test/browser/*.browser.mjs file matches "${filter}"`);
  await startEverything();
  for (const [index, file] of files.entries()) {
    if (await runTest(file, index)) passed += 1;
    else failed += 1;
  }
} catch (error) {
  console.log(`The browser tests could not run: ${error?.stack ?? error}`);
  failed = Math.max(files.length - passed, 1);
} finally {
  await cleanUp();
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
