// What the browser tests share: an API client that talks to the Worker like curl would, the mail sink's
// read API, and users created through the real flows (register, emailed link, login).
import assert from 'node:assert/strict';

export const PASSWORD = 'browser test password 123';
/** The runner makes this address an admin (ADMIN_EMAILS). */
export const ADMIN_EMAIL = 'browser-admin@example.com';

let counter = 0;
/** A unique email and username for this run, so tests never see each other's accounts or mail. */
export function uniqueUser(prefix) {
  counter += 1;
  const id = `${Date.now().toString(36)}${counter}`;
  return { email: `${prefix}-${id}@example.com`, username: `${prefix}${id}` };
}

export { createApiClient as apiClient } from '../../scripts/api-client.mjs';

/** Waits until the test SPA's status line matches `pattern`. */
export const spaStatusIs = (page, pattern) =>
  page.waitForFunction(
    (source) => new RegExp(source).test(document.getElementById('status').value),
    pattern.source,
  );

/** The refresh cookie the browser keeps for the API, or undefined. */
export const refreshCookieIn = async (page, api) =>
  (await page.context().cookies(`${api}/refresh-token`)).find((cookie) => cookie.name === 'edgeauth_refresh');

/** The newest message to `to` whose subject contains `subjectPart`, waiting for the queue to deliver it. */
export async function waitForMail(mailUrl, to, subjectPart, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const query = encodeURIComponent(`to:${to}`);
    const list = await (await fetch(`${mailUrl}/api/v1/search?query=${query}`)).json();
    const summary = list.messages.find((message) => message.Subject.includes(subjectPart));
    if (summary) return (await fetch(`${mailUrl}/api/v1/message/${summary.ID}`)).json();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no email "${subjectPart}" to ${to} within ${timeoutMs} ms`);
}

/** Registers, follows the emailed verification link (without a browser) and signs in. */
export async function createVerifiedUser({ call, mailUrl }, { email, username }) {
  const registered = await call('/register', {
    method: 'POST',
    json: { email, username, password: PASSWORD },
  });
  assert.equal(registered.status, 201, `register ${email}: ${JSON.stringify(registered.body)}`);
  const mail = await waitForMail(mailUrl, email, 'Verify your email');
  const link = mail.Text.match(/https?:\/\/\S+\/verify\?token=\S+/)?.[0];
  assert.ok(link, 'the verification email carries a /verify link');
  const url = new URL(link);
  const verified = await call(url.pathname + url.search);
  assert.equal(verified.status, 200, `verify ${email}: ${JSON.stringify(verified.body)}`);
  const login = await call('/login', { method: 'POST', json: { email, password: PASSWORD } });
  assert.equal(login.status, 200, `login ${email}: ${JSON.stringify(login.body)}`);
  assert.equal(login.body.user.is_verified, true);
  return { token: login.body.token, user: login.body.user };
}
