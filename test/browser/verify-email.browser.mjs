// A user registered through the API while the mail sink's page is open sees the verification email appear
// there (the inbox reloads itself); clicking its link opens the API's /verify page, which verifies the
// account once. No page along the way logs an error (a missing favicon would).
import assert from 'node:assert/strict';
import { PASSWORD, uniqueUser } from './support.mjs';

export const name = 'the emailed verification link, clicked in the mailbox page, verifies the account';

export async function run({ page, api, mailUrl, call, shot, browserErrors }) {
  await page.goto(mailUrl);
  await page.getByRole('heading', { name: 'Mail sink' }).waitFor();
  const { email, username } = uniqueUser('verify');
  const registered = await call('/register', {
    method: 'POST',
    json: { email, username, password: PASSWORD },
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  assert.equal(registered.body.user.is_verified, false);

  // The email travels through the queue; the open inbox shows it once it lands, without a reload from here.
  const row = page.locator('tr', { hasText: email });
  await row.waitFor({ timeout: 20_000 });
  await shot('inbox');

  await row.getByRole('link', { name: /Verify your email/ }).click();
  await page.getByRole('heading', { level: 1, name: /Verify your email/ }).waitFor();
  assert.match(await page.locator('dl').textContent(), new RegExp(email.replace(/[.+]/g, '\\$&')));
  const button = page
    .frameLocator('iframe[title="HTML body"]')
    .getByRole('link', { name: 'Yes, I created it' });
  const href = await button.getAttribute('href');
  assert.ok(href?.startsWith(`${api}/verify?token=`), `link points at the API: ${href}`);
  await shot('message');

  await button.click();
  await page.waitForURL((url) => url.href.startsWith(`${api}/verify?token=`));
  await page.getByRole('heading', { name: 'Email verified' }).waitFor();
  assert.match(await page.locator('body').textContent(), /Your email address is verified/);
  await shot('verified');

  const login = await call('/login', { method: 'POST', json: { email, password: PASSWORD } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user.is_verified, true);
  const me = await call('/me', { token: login.body.token });
  assert.equal(me.status, 200);
  assert.equal(me.body.user.email, email);
  assert.equal(me.body.user.is_verified, true);
  assert.deepEqual(browserErrors, [], 'no errors on the mailbox, message and /verify pages');

  // The link works once: opening it again explains that it no longer does.
  const again = await page.reload();
  assert.equal(again?.status(), 400);
  await page.getByRole('heading', { name: 'This link does not work' }).waitFor();
  await shot('link-used-twice');
}
