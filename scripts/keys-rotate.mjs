// `npm run -s keys:rotate`: prints a new ACCESS_SIGNING_KEYS value: a new ES256 signing key, then the
// public halves of the previous keys for as long as tokens they signed may be alive (the access-token
// lifetime plus an hour for the deploy). Nobody is signed out: old tokens keep verifying until they expire.
//
//   npm run -s keys:rotate -- --jwks-url https://auth.example.com/.well-known/jwks.json --token-lifetime 900 \
//     | npx wrangler secret put ACCESS_SIGNING_KEYS     # production: no private key leaves Cloudflare
//   npm run -s keys:rotate -- --dev-vars               # local: rewrites .dev.vars (restart npm run dev)
//   npm run -s keys:rotate -- --new                    # a first key set, with no previous keys
//
// The previous keys come from --jwks-url (the published keys: public halves are all a rotation needs),
// else $ACCESS_SIGNING_KEYS, else .dev.vars. The summary goes to stderr, the value alone to stdout.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEnvFile } from './dev-settings.mjs';
import { checkKeySet, decodeKeySet, encodeKeySet, rotateKeySet } from './signing-keys.mjs';

const DEPLOY_MARGIN_SECONDS = 3600;
const { values: args } = parseArgs({
  options: {
    'jwks-url': { type: 'string' },
    'dev-vars': { type: 'boolean', default: false },
    new: { type: 'boolean', default: false },
    'token-lifetime': { type: 'string' },
  },
});

const devVarsFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.dev.vars');
const devVars = existsSync(devVarsFile) ? parseEnvFile(readFileSync(devVarsFile, 'utf8')) : {};

function fail(message) {
  console.error(`keys:rotate: ${message}`);
  process.exit(1);
}

async function previousKeys() {
  if (args.new) return { keys: [], from: 'nowhere (--new)' };
  if (args['jwks-url']) {
    const response = await fetch(args['jwks-url']).catch((error) =>
      fail(`${args['jwks-url']}: ${error.message}`),
    );
    if (!response.ok) fail(`${args['jwks-url']} answered ${response.status}`);
    const { keys } = await response.json().catch(() => ({}));
    try {
      checkKeySet(keys, { requirePrivate: false });
    } catch (error) {
      fail(`${args['jwks-url']} is not the JWK set of an edgeauth deployment: ${error.message}`);
    }
    return { keys, from: args['jwks-url'] };
  }
  const value = process.env.ACCESS_SIGNING_KEYS ?? devVars.ACCESS_SIGNING_KEYS;
  if (!value) fail('no previous keys: pass --jwks-url, or set ACCESS_SIGNING_KEYS, or run npm run dev once');
  try {
    return {
      keys: decodeKeySet(value),
      from: process.env.ACCESS_SIGNING_KEYS ? '$ACCESS_SIGNING_KEYS' : '.dev.vars',
    };
  } catch (error) {
    return fail(`ACCESS_SIGNING_KEYS is not a key set (${error.message})`);
  }
}

// The live JWKS cannot say how long tokens live: a production rotation must be told.
const lifetimeSetting =
  args['token-lifetime'] ??
  process.env.ACCESS_TOKEN_EXPIRE ??
  (args['jwks-url'] ? undefined : (devVars.ACCESS_TOKEN_EXPIRE ?? '900'));
if (lifetimeSetting === undefined) {
  fail('with --jwks-url, pass --token-lifetime <ACCESS_TOKEN_EXPIRE of that deployment, seconds>');
}
const lifetime = Number(lifetimeSetting);
if (!Number.isInteger(lifetime) || lifetime <= 0) {
  fail('--token-lifetime must be a positive number of seconds');
}

const previous = await previousKeys();
let rotation;
try {
  rotation = rotateKeySet(previous.keys, { keepSeconds: lifetime + DEPLOY_MARGIN_SECONDS });
} catch (error) {
  fail(error.message);
}
const { keys, dropped } = rotation;
const value = encodeKeySet(keys);
console.error(
  [
    `keys:rotate: previous keys from ${previous.from}`,
    `  signs from now: ${keys[0].kid}`,
    `  still verifying: ${
      keys
        .slice(1)
        .map((key) => key.kid)
        .join(', ') || 'none'
    }`,
    `  dropped (every token they signed has expired): ${dropped.join(', ') || 'none'}`,
  ].join('\n'),
);
if (args['dev-vars']) {
  if (!existsSync(devVarsFile)) fail('no .dev.vars: run npm run dev once first');
  const text = readFileSync(devVarsFile, 'utf8');
  const line = `ACCESS_SIGNING_KEYS=${value}`;
  const updated = /^ACCESS_SIGNING_KEYS=.*$/m.test(text)
    ? text.replace(/^ACCESS_SIGNING_KEYS=.*$/m, line)
    : `${text.trimEnd()}\n${line}\n`;
  writeFileSync(devVarsFile, updated);
  console.error('  written to .dev.vars: restart npm run dev');
} else {
  process.stdout.write(`${value}\n`);
}
