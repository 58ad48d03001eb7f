// A Node program as an adopter writes one against the installed @edgeauth/client: register, sign in with
// the body transport (the refresh token in a store of its own), GET /me, refresh, sign out. Type-checked
// by `npm run client:check`, then run against its stack: `node node-consumer.js <api base URL>`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEdgeauthClient, EdgeauthError, type TokenStore } from '@edgeauth/client';
import { AccessTokenError, verifyAccessToken } from '@edgeauth/client/server';

function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

/** A store as an app keeps one (a keychain, a file); a variable here, so each step can look at it. */
function variableStore(initial: string | null = null): TokenStore & { value: string | null } {
  return {
    value: initial,
    get() {
      return this.value;
    },
    set(token) {
      this.value = token;
    },
  };
}

const baseUrl = process.argv[2];
expect(baseUrl, 'usage: node-consumer <api base URL>');
const steps: string[] = [];
const store = variableStore();
const client = createEdgeauthClient({ baseUrl, transport: 'body', refreshTokenStore: store });

const suffix = crypto.randomUUID().slice(0, 8);
const email = `client-node-${suffix}@example.com`;
const password = 'correct horse battery staple';
const registered = await client.api.POST('/register', {
  body: { email, username: `node${suffix}`, password },
});
expect(registered.data?.user.email === email, `POST /register answered ${registered.response.status}`);
steps.push(`POST /register → ${registered.response.status}`);

const refused = await client.login(email, 'not the password').catch((error: unknown) => error);
expect(
  refused instanceof EdgeauthError && refused.status === 401,
  `a wrong password should be an EdgeauthError 401, got ${String(refused)}`,
);
steps.push(`login (wrong password) → EdgeauthError ${refused.status}: ${refused.message}`);

const grant = await client.login(email, password);
if ('mfa_required' in grant) throw new Error('a new account has no second factor');
expect(
  grant.refresh_token && store.value === grant.refresh_token,
  'the refresh token came in the body, stored',
);
steps.push(`login → ${grant.user.email}, refresh token in the body and in the store`);

const me = await client.api.GET('/me');
expect(me.data?.user.email === email, `GET /me answered ${me.response.status}`);
steps.push(`GET /me → ${me.response.status} ${me.data.user.username}`);

// A resource server of our own: it checks the bearer with the issuer's JWKS alone, never calling back.
const verify = { issuer: baseUrl, audience: 'edgeauth:api' };
const resourceServer = createServer(async (request, response) => {
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  try {
    const claims = await verifyAccessToken(token, verify);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user: claims.sub }));
  } catch (error) {
    const reason = error instanceof AccessTokenError ? error.reason : 'crashed';
    response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ reason }));
  }
});
await new Promise<void>((resolve) => resourceServer.listen(0, '127.0.0.1', resolve));
const resourceUrl = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/`;
const callResource = async (token: string) => {
  const answer = await fetch(resourceUrl, { headers: { authorization: `Bearer ${token}` } });
  return { status: answer.status, body: (await answer.json()) as { user?: string; reason?: string } };
};
const allowed = await callResource(client.accessToken!);
expect(
  allowed.status === 200 && allowed.body.user === me.data.user.id,
  `resource server: ${JSON.stringify(allowed)}`,
);
const [head, payload] = client.accessToken!.split('.');
const tampered = `${head}.${payload}.${'A'.repeat(86)}`;
const refusedToken = await callResource(tampered);
expect(refusedToken.status === 401 && refusedToken.body.reason === 'invalid', 'a tampered token passed');
resourceServer.close();
steps.push(
  'a Node resource server verifies the access token with verifyAccessToken (JWKS only) → 200; tampered → 401',
);

const before = { access: client.accessToken, refresh: store.value };
expect(await client.resume(), 'the refresh with the stored token should succeed');
expect(client.accessToken !== before.access, 'the refresh brought a new access token');
expect(store.value && store.value !== before.refresh, 'the refresh rotated the stored refresh token');
const meAgain = await client.api.GET('/me');
expect(meAgain.response.status === 200, `GET /me after the refresh answered ${meAgain.response.status}`);
steps.push('refresh → new access token, rotated refresh token; GET /me → 200');

const last = store.value;
await client.logout();
expect(client.accessToken === null && store.value === null, 'logout forgets both tokens');
// The API ended the session too: another client holding the last refresh token cannot resume it.
let ended = false;
const other = createEdgeauthClient({
  baseUrl,
  transport: 'body',
  refreshTokenStore: variableStore(last),
  onSessionEnd: () => {
    ended = true;
  },
});
expect((await other.resume()) === false, 'the refresh token of a logged-out session still works');
// resume() says "signed out" by its false; onSessionEnd is for API calls that find the session over.
expect(!ended, 'resume() called onSessionEnd');
steps.push(
  'logout → tokens forgotten; the last refresh token is refused (401; resume() false, no onSessionEnd)',
);

console.log(steps.join('\n'));
