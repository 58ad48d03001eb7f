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

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await call('/login', { method: 'POST', json: Object.fromEntries(form) });
  if (result.status !== 200) return show(`login failed (${result.status})`);
  accessToken = result.body.token;
  show(`signed in (login 200, me ${await loadMe()})`);
});

$('refresh').addEventListener('click', () => resume());

$('logout').addEventListener('click', async () => {
  const result = await call('/logout', { method: 'POST' });
  accessToken = null;
  $('who').value = '';
  show(`signed out (logout ${result.status})`);
});

resume();
