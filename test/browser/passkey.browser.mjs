// Passkeys in Chromium from the SPA on another origin, on a CDP virtual authenticator (a platform
// authenticator with user verification): add one, log out, sign in with it alone (the refresh cookie
// arrives), remove it; a removed passkey no longer signs in. The SPA uses the browser's own WebAuthn
// JSON methods, not our client package (npm run client:check covers that).
import assert from 'node:assert/strict';
import { addVirtualAuthenticator } from '../../scripts/chromium.mjs';
import { createVerifiedUser, PASSWORD, refreshCookieIn, spaStatusIs, uniqueUser } from './support.mjs';

export const name = 'a SPA adds a passkey, signs in with it alone, and removes it';

export async function run({ page, api, spaUrl, mailUrl, call, shot }) {
  const user = uniqueUser('passkey');
  await createVerifiedUser({ call, mailUrl }, user);
  const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
  const statusIs = (pattern) => spaStatusIs(page, pattern);
  const refreshCookie = () => refreshCookieIn(page, api);
  const logOut = async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await statusIs(/^signed out \(logout 204\)$/);
    await page.context().clearCookies();
  };

  await page.goto(`${spaUrl}/?api=${encodeURIComponent(api)}`);
  await statusIs(/^signed out/);
  await page.getByLabel('Login email').fill(user.email);
  await page.getByLabel('Login password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await statusIs(/^signed in \(login 200, me 200\)$/);

  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await statusIs(/^passkey added \(201\)$/);
  assert.equal(await page.locator('#passkeys').textContent(), 'This browser');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');
  await shot('passkey-added');
  await logOut();

  // Usernameless: nothing typed, the authenticator offers the passkey it holds.
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await statusIs(/^signed in \(passkey 200, me 200\)$/);
  assert.equal(await page.locator('#who').textContent(), user.email);
  assert.ok(await refreshCookie(), 'the refresh cookie is set by /login/passkey');
  await shot('signed-in-with-passkey');

  await page.getByRole('button', { name: 'Remove the passkey' }).click();
  await statusIs(/^passkey removed \(204\)$/);
  assert.equal(await page.locator('#passkeys').textContent(), '');
  await logOut();
  // The authenticator still holds the credential; the API no longer knows it.
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await statusIs(/^passkey sign-in failed \(400\)$/);
  assert.equal(await refreshCookie(), undefined);
  await shot('removed-passkey-refused');
}
