// The SPA's whole client: the API's base URL comes from ?api=, the access token lives in this module
// only, and every call sends credentials so the refresh cookie travels with /refresh-token.
const api = new URLSearchParams(location.search).get('api');
let accessToken = null;
const $ = (id) => document.getElementById(id);
const show = (status) => {
  $('status').value = status;
};

async function call(path, { method = 'GET', json } = {}) {
  const headers = {};
  if (json) headers['content-type'] = 'application/json';
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  const response = await fetch(`${api}${path}`, {
    method,
    headers,
    credentials: 'include',
    body: json ? JSON.stringify(json) : undefined,
  });
  const body = response.status === 204 ? null : await response.json();
  return { status: response.status, body };
}

async function loadMe() {
  const me = await call('/me');
  $('who').value = me.status === 200 ? me.body.user.email : '';
  return me.status;
}

/** After a reload: the cookie gives a fresh access token, or a 401 says "signed out". */
async function resume() {
  const refreshed = await call('/refresh-token', { method: 'POST' });
  if (refreshed.status !== 200) {
    accessToken = null;
    $('who').value = '';
    return show(`signed out (refresh ${refreshed.status})`);
  }
  accessToken = refreshed.body.token;
  show(`signed in (refresh 200, me ${await loadMe()})`);
}

$('register').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await call('/register', { method: 'POST', json: Object.fromEntries(form) });
  show(`registered (${result.status})`);
});

let mfaToken = null;

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await call('/login', { method: 'POST', json: Object.fromEntries(form) });
  if (result.status !== 200) return show(`login failed (${result.status})`);
  if (result.body.mfa_required) {
    mfaToken = result.body.mfa_token;
    return show('second factor required (login 200)');
  }
  accessToken = result.body.token;
  show(`signed in (login 200, me ${await loadMe()})`);
});

// The second step: a code from the authenticator app, or one recovery code.
$('mfa').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const proof = form.get('code') ? { code: form.get('code') } : { recovery_code: form.get('recovery_code') };
  const result = await call('/login/mfa', { method: 'POST', json: { mfa_token: mfaToken, ...proof } });
  if (result.status !== 200) return show(`second factor failed (${result.status})`);
  mfaToken = null;
  accessToken = result.body.token;
  show(`signed in (mfa 200, me ${await loadMe()})`);
});

$('totp-setup').addEventListener('click', async () => {
  const result = await call('/mfa/totp/setup', { method: 'POST' });
  $('secret').value = result.status === 200 ? result.body.secret : '';
  show(`totp setup (${result.status})`);
});

$('totp-confirm').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await call('/mfa/totp/confirm', { method: 'POST', json: { code: form.get('code') } });
  $('recovery').value = result.status === 200 ? result.body.recovery_codes.join(' ') : '';
  show(`totp on (${result.status})`);
});

// Passkeys with the browser's own WebAuthn JSON methods (no library): the API's options go to
// parse*OptionsFromJSON, the credential goes back as credential.toJSON().
async function listPasskeys() {
  const result = await call('/passkeys');
  const names = result.status === 200 ? result.body.passkeys.map((p) => p.name) : [];
  $('passkeys').value = names.join(', ');
  return result;
}

$('passkey-add').addEventListener('click', async () => {
  const options = await call('/passkeys/register/options', { method: 'POST' });
  if (options.status !== 200) return show(`passkey options failed (${options.status})`);
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.body);
  const credential = await navigator.credentials.create({ publicKey });
  const json = { response: credential.toJSON(), name: 'This browser' };
  const result = await call('/passkeys/register', { method: 'POST', json });
  await listPasskeys();
  show(`passkey added (${result.status})`);
});

$('passkey-login').addEventListener('click', async () => {
  const options = await call('/login/passkey/options', { method: 'POST' });
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.body);
  const credential = await navigator.credentials.get({ publicKey });
  const result = await call('/login/passkey', { method: 'POST', json: { response: credential.toJSON() } });
  if (result.status !== 200) return show(`passkey sign-in failed (${result.status})`);
  accessToken = result.body.token;
  show(`signed in (passkey 200, me ${await loadMe()})`);
});

$('passkey-remove').addEventListener('click', async () => {
  const listed = await listPasskeys();
  const [first] = listed.body.passkeys;
  const result = await call(`/passkeys/${first.id}`, { method: 'DELETE' });
  await listPasskeys();
  show(`passkey removed (${result.status})`);
});

$('refresh').addEventListener('click', () => resume());

$('logout').addEventListener('click', async () => {
  const result = await call('/logout', { method: 'POST' });
  accessToken = null;
  $('who').value = '';
  show(`signed out (logout ${result.status})`);
});

resume();
