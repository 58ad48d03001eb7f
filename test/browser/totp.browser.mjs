// Two-step sign-in in Chromium, from the SPA on another origin: turn TOTP on (setup, then a code an
// authenticator app computes from the secret shown), log out, log in with the password and a TOTP code,
// log out, log in with a recovery code. The refresh cookie arrives only once the second step is done.
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { createVerifiedUser, PASSWORD, refreshCookieIn, spaStatusIs, uniqueUser } from './support.mjs';

export const name = 'a SPA turns TOTP on, then signs in with a TOTP code and with a recovery code';

export async function run({ page, api, spaUrl, mailUrl, call, shot }) {
  const user = uniqueUser('totp');
  await createVerifiedUser({ call, mailUrl }, user);
  const statusIs = (pattern) => spaStatusIs(page, pattern);
  const refreshCookie = () => refreshCookieIn(page, api);
  const logIn = async () => {
    await page.getByLabel('Login email').fill(user.email);
    await page.getByLabel('Login password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  };
  const logOut = async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await statusIs(/^signed out \(logout 204\)$/);
  };

  await page.goto(`${spaUrl}/?api=${encodeURIComponent(api)}`);
  await statusIs(/^signed out/);
  await logIn();
  await statusIs(/^signed in \(login 200, me 200\)$/);

  await page.getByRole('button', { name: 'Set up TOTP' }).click();
  await statusIs(/^totp setup \(200\)$/);
  const secret = await page.locator('#secret').textContent();
  const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  await page.getByLabel('New authenticator code').fill(app.generate());
  await page.getByRole('button', { name: 'Turn on' }).click();
  await statusIs(/^totp on \(200\)$/);
  const recoveryCodes = (await page.locator('#recovery').textContent()).split(' ');
  assert.equal(recoveryCodes.length, 10);
  await shot('totp-on');
  await logOut();
  await page.context().clearCookies();

  // The password alone gives no session and no cookie.
  await logIn();
  await statusIs(/^second factor required \(login 200\)$/);
  assert.equal(await refreshCookie(), undefined, 'no refresh cookie before the second step');
  // The confirming code's step is spent; the next step's code is already accepted (one step of drift).
  await page
    .getByLabel('Authenticator code', { exact: true })
    .fill(app.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await statusIs(/^signed in \(mfa 200, me 200\)$/);
  assert.equal(await page.locator('#who').textContent(), user.email);
  assert.ok(await refreshCookie(), 'the refresh cookie is set by /login/mfa');
  await shot('signed-in-with-code');
  await logOut();

  await logIn();
  await statusIs(/^second factor required \(login 200\)$/);
  await page.getByLabel('Authenticator code', { exact: true }).fill('');
  await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await statusIs(/^signed in \(mfa 200, me 200\)$/);
  await shot('signed-in-with-recovery-code');
  await logOut();
}
