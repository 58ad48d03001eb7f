// A SPA on another port of the default local site keeps its session across a reload: register, verify
// through the mailbox link, log in, reload (the httpOnly cookie resumes the session), refresh, /me,
// log out (a reload then finds the session over). Every call is fetch(..., { credentials: 'include' }).
import assert from 'node:assert/strict';
import { PASSWORD, spaStatusIs, uniqueUser, waitForMail } from './support.mjs';

export const name = 'a SPA on another port keeps its session through a reload and ends it at logout';

export async function run({ page, api, spaUrl, mailUrl, shot }) {
  const { email, username } = uniqueUser('spa');
  const status = page.locator('#status');
  const statusIs = (pattern) => spaStatusIs(page, pattern);
  const spa = `${spaUrl}/?api=${encodeURIComponent(api)}`;
  assert.notEqual(new URL(spaUrl).origin, new URL(api).origin, 'the SPA is on another origin');

  await page.goto(spa);
  await statusIs(/^signed out \(refresh 401\)$/);
  await page.getByLabel('Register email').fill(email);
  await page.getByLabel('Register username').fill(username);
  await page.getByLabel('Register password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Register' }).click();
  await statusIs(/^registered \(201\)$/);
  await shot('registered');

  // Verify with the link from the mailbox, in the browser, as the user would.
  const mail = await waitForMail(mailUrl, email, 'Verify your email');
  const link = mail.Text.match(/https?:\/\/\S+\/verify\?token=\S+/)?.[0];
  assert.ok(link?.startsWith(`${api}/verify?token=`), `the link points at the API: ${link}`);
  await page.goto(link);
  await page.getByRole('heading', { name: 'Email verified' }).waitFor();

  await page.goto(spa);
  await page.getByLabel('Login email').fill(email);
  await page.getByLabel('Login password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await statusIs(/^signed in \(login 200, me 200\)$/);
  assert.equal(await page.locator('#who').textContent(), email);
  const cookies = await page.context().cookies(`${api}/refresh-token`);
  const refresh = cookies.find((cookie) => cookie.name === 'edgeauth_refresh');
  assert.ok(refresh, `the refresh cookie is kept for the API (${cookies.map((c) => c.name)})`);
  assert.equal(refresh.httpOnly, true);
  await shot('logged-in');

  // A reload forgets the in-memory access token: the cookie alone brings the session back.
  await page.reload();
  await statusIs(/^signed in \(refresh 200, me 200\)$/);
  assert.equal(await page.locator('#who').textContent(), email);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await statusIs(/^signed in \(refresh 200, me 200\)$/);
  await shot('reloaded');

  await page.getByRole('button', { name: 'Log out' }).click();
  await statusIs(/^signed out \(logout 204\)$/);
  await page.reload();
  await statusIs(/^signed out \(refresh 401\)$/);
  assert.equal(await status.textContent(), 'signed out (refresh 401)');
  await shot('logged-out');
}
