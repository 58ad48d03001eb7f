// A web page's script as an adopter writes one against @edgeauth/client, loaded unbundled through an
// import map; cookie transport, so the refresh token lives only in the httpOnly cookie. `npm run
// client:check` opens its page once per step: ?api=<API base URL>&email=<address>&step=<step>.
import { createEdgeauthClient, EdgeauthError } from '@edgeauth/client';

declare global {
  interface Window {
    clientCheck?: { ok: true; steps: string[] } | { ok: false; error: string };
  }
}

function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

const query = new URLSearchParams(location.search);
const baseUrl = query.get('api');
const email = query.get('email');
expect(baseUrl && email, 'the page needs ?api= and ?email=');
const password = 'correct horse battery staple';
let sessionEnded = false;
const client = createEdgeauthClient({
  baseUrl,
  transport: 'cookie',
  onSessionEnd: () => {
    sessionEnded = true;
  },
});

async function signIn(): Promise<string[]> {
  const registered = await client.api.POST('/register', {
    body: { email: email!, username: `web${crypto.randomUUID().slice(0, 8)}`, password },
  });
  expect(registered.response.status === 201, `POST /register answered ${registered.response.status}`);
  const grant = await client.login(email!, password);
  if ('mfa_required' in grant) throw new Error('a new account has no second factor');
  expect(grant.refresh_token === undefined, 'a cookie client must not see the refresh token');
  const me = await client.api.GET('/me');
  expect(me.data?.user.email === email, `GET /me answered ${me.response.status}`);
  const before = client.accessToken;
  expect(await client.resume(), 'the refresh with the cookie should succeed');
  expect(client.accessToken !== before, 'the refresh brought a new access token');
  return [
    'POST /register → 201',
    'login → no refresh token in JS',
    'GET /me → 200',
    'refresh (cookie) → new token',
  ];
}

/** A reloaded page knows no access token: its first call's 401 refreshes from the cookie and retries. */
async function afterReload(): Promise<string[]> {
  expect(client.accessToken === null, 'a new page starts without an access token');
  const me = await client.api.GET('/me');
  expect(me.data?.user.email === email, `GET /me after the reload answered ${me.response.status}`);
  await client.logout();
  expect(client.accessToken === null, 'logout forgets the access token');
  const resumed = await client.resume().catch((error: unknown) => error);
  expect(
    resumed === false && !sessionEnded,
    `resume after logout: ${String(resumed)} (onSessionEnd: ${sessionEnded})`,
  );
  const refused = await client.login(email!, 'not the password').catch((error: unknown) => error);
  expect(refused instanceof EdgeauthError && refused.status === 401, `wrong password: ${String(refused)}`);
  return [
    'GET /me → 401, refresh from the cookie, retried → 200',
    'logout → resume() false',
    'EdgeauthError 401',
  ];
}

/**
 * Passkeys with @simplewebauthn/browser inside the client, against Chromium's virtual authenticator (the
 * runner adds it): register one, sign out, sign in with it alone, step up with it, remove it.
 */
async function passkeys(): Promise<string[]> {
  const grant = await client.login(email!, password);
  if ('mfa_required' in grant) throw new Error('no second factor expected');
  const passkey = await client.registerPasskey('Chromium virtual authenticator');
  expect(
    passkey.name === 'Chromium virtual authenticator',
    `registerPasskey() gave ${JSON.stringify(passkey)}`,
  );
  await client.logout();
  expect(client.accessToken === null, 'logout forgets the access token');
  const signedIn = await client.loginWithPasskey();
  expect(signedIn.user.email === email, `loginWithPasskey() signed in ${signedIn.user.email}`);
  const listed = await client.api.GET('/passkeys');
  const used = listed.data?.passkeys.find((p) => p.id === passkey.id);
  expect(used?.last_used_at, `GET /passkeys: ${JSON.stringify(listed.data)}`);
  const fresh = await client.reauthenticateWithPasskey();
  expect(fresh.valid_for_seconds > 0, `reauthenticateWithPasskey() gave ${JSON.stringify(fresh)}`);
  const removed = await client.api.DELETE('/passkeys/{id}', { params: { path: { id: passkey.id } } });
  expect(removed.response.status === 204, `DELETE /passkeys/{id} answered ${removed.response.status}`);
  await client.logout();
  const refused = await client.loginWithPasskey().catch((error: unknown) => error);
  expect(
    refused instanceof EdgeauthError && refused.status === 400,
    `a removed passkey signs in: ${String(refused)}`,
  );
  return [
    'registerPasskey() → 201 (virtual authenticator, user verified)',
    'logout, loginWithPasskey() → signed in, no password',
    'reauthenticateWithPasskey() → fresh',
    'DELETE /passkeys/{id} → 204; the removed passkey is refused (EdgeauthError 400)',
  ];
}

const steps = { 'sign-in': signIn, 'after-reload': afterReload, passkeys };
const step = steps[query.get('step') as keyof typeof steps];
try {
  expect(step, `unknown ?step=; one of ${Object.keys(steps).join(', ')}`);
  window.clientCheck = { ok: true, steps: await step() };
} catch (error) {
  window.clientCheck = { ok: false, error: error instanceof Error ? error.message : String(error) };
}
