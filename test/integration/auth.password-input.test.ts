// Password fields refuse text that does not survive encoding: a lone UTF-16 surrogate becomes U+FFFD in
// UTF-8, so "pass\uD800" and "pass\uDBFF" would hash alike and open the same account; NUL is refused too.
// Well-formed characters outside the BMP (emoji) stay allowed. JSON carries lone surrogates as \uD800.
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env';
import { issueEmailToken } from '../../src/services/auth/email-tokens';
import {
  bearer,
  createUser,
  db,
  login,
  PASSWORD,
  reloadUser,
  uniqueEmail,
  uniqueIp,
} from '../support/accounts';
import { expectProblem } from '../support/problem';
import { api, testEnv } from '../support/worker';

const MALFORMED = [
  ['a lone high surrogate', 'correct horse \uD800 battery'],
  ['a lone low surrogate', 'correct horse \uDC00 battery'],
  ['a high surrogate at the end', 'correct horse battery\uDBFF'],
  ['a reversed pair', 'correct horse \uDC00\uD800 battery'],
  ['NUL', 'correct horse\u0000battery'],
] as const;
const EMOJI_PASSWORD = 'correct horse 🐴 battery 🔋';

const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
  api(path, { method: 'POST', json, headers: { 'cf-connecting-ip': uniqueIp(), ...headers } });
const loginStatus = async (email: string, password: string) =>
  (await post('/login', { email, password })).status;

async function expectRefused(response: Response, field: string) {
  const body = await expectProblem(response, 422, 'VALIDATION_FAILED');
  expect(body.errors).toContainEqual({ path: field, message: expect.stringMatching(/valid Unicode/) });
}

async function resetToken(userId: string) {
  return issueEmailToken(db(), parseEnv(testEnv()), { userId, purpose: 'reset_password', now: new Date() });
}

describe('POST /register', () => {
  it.each(MALFORMED)('refuses a password with %s and creates nothing', async (_name, password) => {
    const email = uniqueEmail('surrogate');
    await expectRefused(await post('/register', { email, username: `s${Date.now()}`, password }), 'password');
    expect(await loginStatus(email, password)).toBe(422);
    expect(
      await loginStatus(email, password.replace(/[\uD800-\uDFFF]/g, '\uFFFD').replaceAll('\u0000', '\uFFFD')),
    ).toBe(401);
  });

  it('accepts emoji, and only the same emoji signs in', async () => {
    const email = uniqueEmail('emoji');
    const response = await post('/register', { email, username: `e${Date.now()}`, password: EMOJI_PASSWORD });
    expect(response.status).toBe(201);
    expect(await loginStatus(email, EMOJI_PASSWORD)).toBe(200);
    expect(await loginStatus(email, 'correct horse \uFFFD battery \uFFFD')).toBe(401);
  });
});

describe('POST /login', () => {
  it.each(MALFORMED)('refuses a password with %s with 422, never a sign-in', async (_name, password) => {
    // The account's password is what the malformed one would have collided with once encoded.
    const collides = password.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
    const user = await createUser({ password: collides.includes('\u0000') ? PASSWORD : collides });
    const response = await post('/login', { email: user.email, password });
    await expectRefused(response, 'password');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('signs in with an emoji password', async () => {
    const user = await createUser({ password: EMOJI_PASSWORD });
    expect(await loginStatus(user.email, EMOJI_PASSWORD)).toBe(200);
  });
});

describe('POST /change-password', () => {
  it.each(MALFORMED)('refuses a new password with %s and keeps the old one', async (_name, password) => {
    const user = await createUser();
    const { token } = await login(user.email);
    const before = (await reloadUser(user.id))!.passwordHash;
    await expectRefused(
      await post('/change-password', { old_password: PASSWORD, new_password: password }, bearer(token)),
      'new_password',
    );
    expect((await reloadUser(user.id))!.passwordHash).toBe(before);
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
  });

  it.each(MALFORMED)('refuses an old password with %s', async (_name, password) => {
    const user = await createUser();
    const { token } = await login(user.email);
    await expectRefused(
      await post(
        '/change-password',
        { old_password: password, new_password: 'a new strong password' },
        bearer(token),
      ),
      'old_password',
    );
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
  });

  it('accepts an emoji password', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    const response = await post(
      '/change-password',
      { old_password: PASSWORD, new_password: EMOJI_PASSWORD },
      bearer(token),
    );
    expect(response.status).toBe(200);
    expect(await loginStatus(user.email, EMOJI_PASSWORD)).toBe(200);
  });
});

describe('POST /new-password', () => {
  it.each(MALFORMED)('refuses a password with %s and leaves the link unused', async (_name, password) => {
    const user = await createUser();
    const token = await resetToken(user.id);
    await expectRefused(await post('/new-password', { token, password }), 'password');
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
    // The link still works for a well-formed password.
    expect((await post('/new-password', { token, password: 'a new strong password' })).status).toBe(200);
  });

  it('accepts an emoji password', async () => {
    const user = await createUser();
    const token = await resetToken(user.id);
    expect((await post('/new-password', { token, password: EMOJI_PASSWORD })).status).toBe(200);
    expect(await loginStatus(user.email, EMOJI_PASSWORD)).toBe(200);
  });
});
