// `npm run client:check`: the client package as an adopter meets it. Builds packages/client and packs it;
// installs the tarball into a throw-away project (nothing may arrive but it and its runtime deps); has
// tsc (strict) type-check a Node and a browser consumer against the installed types; then runs both
// against a throw-away stack: the Node one with the body transport, the browser one in Debian's Chromium
// from a page on another origin with the cookie transport, then passkeys on a CDP virtual authenticator.
// Stops at the first failing step and exits non-zero.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { waitForMail } from '../test/browser/support.mjs';
import { addVirtualAuthenticator, launchChromium } from './chromium.mjs';
import { root, startHealthyTestStack } from './dev-stack.mjs';
import { run } from './openapi/run.mjs';
import { serveDirectory } from './static-server.mjs';

const require = createRequire(import.meta.url);
const PACKAGE = '@edgeauth/client';
const here = path.join(root, 'scripts/client');
const resultsDir = path.join(root, 'test-results/client');
/** What the install may add: the package, openapi-fetch and its types-only dependency, @simplewebauthn/browser, jose. */
const ALLOWED_PACKAGES = [
  PACKAGE,
  'openapi-fetch',
  'openapi-typescript-helpers',
  '@simplewebauthn/browser',
  'jose',
];
const MAX_INSTALLED_BYTES = 1_000_000;
/** The tarball holds the built ESM and its declarations, the README and package.json: nothing else. */
const PACKED_FILE = /^(package\.json|README\.md|dist\/[\w-]+\.(js|d\.ts))$/;
const REFRESH_COOKIE = 'edgeauth_refresh';

const strict = { strict: true, noUncheckedIndexedAccess: true, skipLibCheck: false };
/** An ESM Node project (module nodenext) that knows Node's types only: no DOM. */
const NODE_TSCONFIG = {
  compilerOptions: {
    ...strict,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022'],
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules/@types')],
    rootDir: '.',
    outDir: 'out/node',
  },
  files: ['node-consumer.ts'],
};
/** A browser project as a bundler sees it (moduleResolution bundler): the DOM, no Node. */
const BROWSER_TSCONFIG = {
  compilerOptions: {
    ...strict,
    target: 'ES2022',
    module: 'ES2022',
    moduleResolution: 'Bundler',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: [],
    rootDir: '.',
    outDir: 'out/browser',
  },
  files: ['browser-consumer.ts'],
};

/** Runs a command; its output becomes the error when it fails. */
async function runOrThrow(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/** Sizes in kB, as npm prints them. */
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

function bytesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(path.join(entry.parentPath, entry.name)).size, 0);
}

async function packPackage(scratch) {
  await runOrThrow('npm', ['run', 'build', '-w', PACKAGE], { cwd: root });
  // Built just above, so packing runs no scripts: their output would garble npm's JSON.
  const packed = await runOrThrow(
    'npm',
    ['pack', '-w', PACKAGE, '--json', '--ignore-scripts', '--pack-destination', scratch],
    { cwd: root },
  );
  const [{ filename, files, size, unpackedSize }] = JSON.parse(packed.stdout);
  const paths = files.map((file) => file.path);
  const unexpected = paths.filter((file) => !PACKED_FILE.test(file));
  const missing = ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts'].filter(
    (file) => !paths.includes(file),
  );
  if (unexpected.length || missing.length) {
    throw new Error(`the tarball holds ${paths.join(', ')}; unexpected: ${unexpected}; missing: ${missing}`);
  }
  return {
    tarball: path.join(scratch, filename),
    notes: [`${filename}: ${paths.length} files, ${kB(size)} packed, ${kB(unpackedSize)} unpacked`],
  };
}

async function installTarball(project, tarball) {
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'edgeauth-client-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  // Under `npm run`, npm_config_local_prefix names this repository: the install would land here, not there.
  await runOrThrow('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: project,
    env: { npm_config_local_prefix: undefined },
  });
  const lock = JSON.parse(readFileSync(path.join(project, 'node_modules/.package-lock.json'), 'utf8'));
  const installed = Object.keys(lock.packages).map((key) => key.replace(/^.*node_modules\//, ''));
  const extra = installed.filter((name) => !ALLOWED_PACKAGES.includes(name));
  if (extra.length) throw new Error(`the install added more than ${ALLOWED_PACKAGES}: ${extra.join(', ')}`);
  const bytes = bytesUnder(path.join(project, 'node_modules'));
  if (bytes > MAX_INSTALLED_BYTES)
    throw new Error(`node_modules is ${kB(bytes)}, over ${kB(MAX_INSTALLED_BYTES)}`);
  return [`added ${installed.sort().join(', ')}: ${kB(bytes)} in node_modules`];
}

async function typeCheckConsumers(project) {
  const tsc = require.resolve('typescript/bin/tsc');
  const notes = [];
  for (const [config, tsconfig] of [
    ['tsconfig.node.json', NODE_TSCONFIG],
    ['tsconfig.browser.json', BROWSER_TSCONFIG],
  ]) {
    for (const file of tsconfig.files) copyFileSync(path.join(here, file), path.join(project, file));
    writeFileSync(path.join(project, config), JSON.stringify(tsconfig, null, 2));
    // tsc also writes the JavaScript that the steps below run.
    await runOrThrow(process.execPath, [tsc, '-p', config], { cwd: project });
    const { module, moduleResolution, lib } = tsconfig.compilerOptions;
    notes.push(`${tsconfig.files}: module ${module}, moduleResolution ${moduleResolution}, lib ${lib}`);
  }
  return notes;
}

/** The import map that lets the page load the installed ESM as is: the package and its runtime deps. */
function importMapOf(project) {
  const manifest = (name) =>
    JSON.parse(readFileSync(path.join(project, 'node_modules', name, 'package.json'), 'utf8'));
  const names = [PACKAGE, ...Object.keys(manifest(PACKAGE).dependencies ?? {})];
  const imports = {};
  for (const name of names) {
    const entry = manifest(name).exports['.'];
    const file = typeof entry === 'string' ? entry : (entry.import ?? entry.default);
    imports[name] = `/node_modules/${name}/${file.replace(/^\.\//, '')}`;
  }
  return { imports };
}

/** The page the browser opens: the consumer's compiled script, its imports resolved by the map. */
const pageOf = (importMap) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${PACKAGE} in a browser</title>
    <script type="importmap">${JSON.stringify(importMap)}</script>
    <script type="module" src="/out/browser/browser-consumer.js"></script>
  </head>
  <body><h1>${PACKAGE} in a browser</h1></body>
</html>
`;

async function runInChromium({ browser, api, pageOrigin, mailUrl }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const email = `client-browser-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const open = async (step) => {
    await page.goto(`${pageOrigin}/?${new URLSearchParams({ api, email, step })}`);
    await page.waitForFunction(() => window.clientCheck !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => window.clientCheck);
    if (!result.ok) throw new Error(`step ${step}: ${result.error} ${pageErrors.join('; ')}`.trim());
    return result.steps;
  };
  const refreshCookie = async () =>
    (await context.cookies(`${api}/refresh-token`)).find((cookie) => cookie.name === REFRESH_COOKIE);
  try {
    const notes = await open('sign-in');
    const cookie = await refreshCookie();
    if (!cookie?.httpOnly) throw new Error(`after sign-in, no httpOnly ${REFRESH_COOKIE} cookie for ${api}`);
    notes.push(
      `${REFRESH_COOKIE} cookie kept by Chromium: HttpOnly, SameSite=${cookie.sameSite}, Path=${cookie.path}`,
    );
    notes.push(...(await open('after-reload')));
    if (await refreshCookie()) throw new Error(`after logout, the ${REFRESH_COOKIE} cookie is still there`);
    notes.push('after logout the cookie is gone');
    // Passkeys need a verified email: follow the link the sign-up mailed, as its owner would.
    const mail = await waitForMail(mailUrl, email, 'Verify your email');
    const link = new URL(mail.Text.match(/https?:\/\/\S+\/verify\?token=\S+/)?.[0] ?? '');
    const verified = await fetch(`${api}${link.pathname}${link.search}`);
    if (verified.status !== 200) throw new Error(`GET /verify answered ${verified.status}`);
    await addVirtualAuthenticator(page);
    notes.push(...(await open('passkeys')));
    return notes;
  } finally {
    await context.close();
  }
}

async function step(title, action) {
  try {
    const notes = await action();
    console.log(`  ✓ ${title}`);
    for (const note of notes) console.log(`      ${note}`);
  } catch (error) {
    console.log(`  ✗ ${title}`);
    console.log(
      `      ${String(error instanceof Error ? error.message : error)
        .split('\n')
        .join('\n      ')}`,
    );
    throw new Error(`failed: ${title}`);
  }
}

rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-client-check-'));
const project = path.join(scratch, 'consumer');
let stack;
let server;
let browser;
let failed = false;
console.log(`Client check of ${PACKAGE} (packages/client), in ${scratch}`);
try {
  let tarball;
  await step(`${PACKAGE} builds (tsc) and packs to dist/ + README.md + package.json only`, async () => {
    const packed = await packPackage(scratch);
    tarball = packed.tarball;
    return packed.notes;
  });
  await step(`the tarball installs into an empty project, adding only ${ALLOWED_PACKAGES.join(', ')}`, () =>
    installTarball(project, tarball),
  );
  await step('a Node and a browser consumer type-check against it (tsc, strict, skipLibCheck off)', () =>
    typeCheckConsumers(project),
  );

  server = await serveDirectory({ dir: project, pages: { '/': pageOf(importMapOf(project)) } });
  stack = await startHealthyTestStack({
    logFile: path.join(resultsDir, 'wrangler.log'),
    // The page's origin is another port on localhost: cross-origin (CORS) but same-site, as the cookie needs.
    vars: { CORS_ORIGINS: server.origin, RATE_LIMIT_MAX: '1000' },
  });
  await step(
    `Node ${process.version}: register, login (body transport), GET /me, a resource server verifying the token, refresh, logout`,
    async () => {
      const consumer = path.join(project, 'out/node/node-consumer.js');
      const result = await runOrThrow(process.execPath, [consumer, stack.api], { timeoutMs: 60_000 });
      return result.stdout.trim().split('\n');
    },
  );
  browser = await launchChromium();
  await step(
    `Chromium ${browser.version()}: the page at ${server.origin} signs in to ${stack.api} with the cookie, then with a passkey`,
    () =>
      runInChromium({ browser, api: stack.api, pageOrigin: server.origin, mailUrl: stack.standins.mail.url }),
  );
} catch (error) {
  failed = true;
  if (!String(error?.message).startsWith('failed: '))
    console.log(`Client check could not run: ${error?.stack ?? error}`);
} finally {
  await browser?.close().catch(() => {});
  await server?.close();
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
console.log(
  `\nClient check ${failed ? 'FAILED' : 'passed'} (wrangler's output in ${path.relative(root, resultsDir)}/).`,
);
process.exit(failed ? 1 : 0);
