// POST /forget-password and POST /new-password through the Worker entry: the same answer whether or not
// the account exists, the emailed single-use link, and what a reset does (password, verified, sessions).

import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { emailTokens } from '../../src/db/schema';
import {
  createUser,
  db,
  expectSignedOut,
  PASSWORD,
  reloadUser,
  signInTwice,
  uniqueEmail,
} from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { linkIn, type Mail, mailsTo, skipMailCooldown, waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const RESET_SUBJECT = 'Reset your edgeauth-test password';
const RESET_NOTICE_SUBJECT = 'Your edgeauth-test password was reset';
const RESET_REQUESTED = 'If an account with this email exists, a password reset link has been sent.';
const NEW_PASSWORD = 'a brand new password';
const VALIDATION_TOKEN_EXPIRE = 900;

const forgetPassword = (email: string, env?: Env, headers: Record<string, string> = {}) =>
  api('/forget-password', { method: 'POST', json: { email }, headers }, env);

const newPassword = (json: unknown, env?: Env) => api('/new-password', { method: 'POST', json }, env);

async function mailWithSubject(to: string, subject: string, count: number): Promise<Mail> {
  await waitForMail(to, { count });
  const mail = (await mailsTo(to)).find((candidate) => candidate.Subject === subject);
  if (!mail) throw new Error(`no "${subject}" among the ${count} emails to ${to}`);
  return mail;
}

/** Asks for a reset link and returns the token of the `count`-th email to the address. */
async function requestResetToken(email: string, { count = 1, env }: { count?: number; env?: Env } = {}) {
  expect((await forgetPassword(email, env)).status).toBe(202);
  const mail = await waitForMail(email, { count });
  expect(mail.Subject).toBe(RESET_SUBJECT);
  return linkIn(mail, '/reset-password').searchParams.get('token')!;
}

const loginStatus = async (email: string, password: string) =>
  (await api('/login', { method: 'POST', json: { email, password } })).status;

describe('POST /forget-password', () => {
  it('answers 202 with the same body for an existing and an unknown email', async () => {
    const user = await createUser();
    const unknown = uniqueEmail('nobody');
    const requestId = `forget-${crypto.randomUUID()}`;

    const known = await forgetPassword(user.email, undefined, { 'x-request-id': requestId });
    const missing = await forgetPassword(unknown, undefined, { 'x-request-id': requestId });

    for (const response of [known, missing]) {
      expect(response.status).toBe(202);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect([...missing.headers.keys()].sort()).toEqual([...known.headers.keys()].sort());
    const knownText = await known.text();
    expect(await missing.text()).toBe(knownText);
    expect(JSON.parse(knownText)).toEqual({ message: RESET_REQUESTED });

    const mail = await waitForMail(user.email);
    expect(mail.Subject).toBe(RESET_SUBJECT);
    expect(await mailsTo(unknown)).toEqual([]);
  });

  it('emails a link to APP_URL/reset-password carrying the token', async () => {
    const user = await createUser();
    expect((await forgetPassword(user.email)).status).toBe(202);

    const mail = await waitForMail(user.email);
    expect(mail.Subject).toBe(RESET_SUBJECT);
    expect(mail.Text).toContain(`Hi ${user.username},`);
    expect(mail.Text).toContain('expires in 15 minutes');
    const link = linkIn(mail, '/reset-password');
    expect(`${link.origin}${link.pathname}`).toBe('http://api.edgeauth.test/reset-password');
    expect(link.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.HTML).toContain(`href="${link.href}"`);
  });

  it('finds the account whatever the letter case of the email, and mails the stored address', async () => {
    const user = await createUser({ email: `Reset.Case-${crypto.randomUUID().slice(0, 8)}@Example.com` });
    expect((await forgetPassword(user.email.toUpperCase())).status).toBe(202);
    const mail = await waitForMail(user.email);
    expect(mail.To.map((to) => to.Address)).toEqual([user.email]);
  });

  it('sends a closed account no reset link (a reset cannot reopen it)', async () => {
    const closed = await createUser({ isActive: false });
    expect((await api('/forget-password', { method: 'POST', json: { email: closed.email } })).status).toBe(
      202,
    );
    // A reset for an active account is the sentinel: the queue delivered what this file sent.
    const open = await createUser();
    await api('/forget-password', { method: 'POST', json: { email: open.email } });
    await waitForMail(open.email);
    expect(await db().select().from(emailTokens).where(eq(emailTokens.userId, closed.id))).toEqual([]);
    expect(await mailsTo(closed.email)).toEqual([]);
  });

  it('answers 422 VALIDATION_FAILED for an invalid email', async () => {
    const body = await expectProblem(await forgetPassword('not-an-email'), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: 'email', message: expect.any(String) }]);
  });
});

describe('POST /new-password', () => {
  it('sets the password, verifies the email, revokes every session and sends a notice', async () => {
    const user = await createUser({ isVerified: false });
    const sessions = await signInTwice(user.email);
    const token = await requestResetToken(user.email);

    const response = await newPassword({ token, password: NEW_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toEqual({ message: 'Password has been changed successfully' });

    expect(await loginStatus(user.email, PASSWORD)).toBe(401);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
    expect((await reloadUser(user.id))!.isVerified).toBe(true);

    await expectSignedOut(sessions);

    const notice = await mailWithSubject(user.email, RESET_NOTICE_SUBJECT, 2);
    expect(notice.Text).toContain('every device was signed out');
    expect(notice.Text).not.toContain(NEW_PASSWORD);
  });

  it('works once: the same token again is 400 INVALID_EMAIL_TOKEN and changes nothing', async () => {
    const user = await createUser();
    const token = await requestResetToken(user.email);
    expect((await newPassword({ token, password: NEW_PASSWORD })).status).toBe(200);

    const again = await newPassword({ token, password: 'yet another password' });
    const body = await expectProblem(again, 400, 'INVALID_EMAIL_TOKEN');
    expect(body.detail).toBe('This reset link is invalid or has expired');
    expect(await loginStatus(user.email, 'yet another password')).toBe(401);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  });

  it('stops accepting an older token once a newer one was requested', async () => {
    const user = await createUser();
    const older = await requestResetToken(user.email, { count: 1 });
    await skipMailCooldown('reset_password', user.email);
    const newer = await requestResetToken(user.email, { count: 2 });
    expect(newer).not.toBe(older);

    await expectProblem(
      await newPassword({ token: older, password: NEW_PASSWORD }),
      400,
      'INVALID_EMAIL_TOKEN',
    );
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
    expect((await newPassword({ token: newer, password: NEW_PASSWORD })).status).toBe(200);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  });

  it('still works just before VALIDATION_TOKEN_EXPIRE seconds have passed', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const token = await requestResetToken(user.email, { env });

    clock.advance(VALIDATION_TOKEN_EXPIRE - 1);
    expect((await newPassword({ token, password: NEW_PASSWORD }, env)).status).toBe(200);
  });

  it('refuses an expired token with 400 and keeps the old password', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser({ isVerified: false });
    const token = await requestResetToken(user.email, { env });

    clock.advance(VALIDATION_TOKEN_EXPIRE + 1);
    await expectProblem(
      await newPassword({ token, password: NEW_PASSWORD }, env),
      400,
      'INVALID_EMAIL_TOKEN',
    );
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);
    expect((await reloadUser(user.id))!.isVerified).toBe(false);
  });

  it('refuses a well-formed token it never issued with 400', async () => {
    await expectProblem(
      await newPassword({ token: 'A'.repeat(43), password: NEW_PASSWORD }),
      400,
      'INVALID_EMAIL_TOKEN',
    );
  });

  it('answers 422 for a password under 8 characters, without using up the token', async () => {
    const user = await createUser();
    const token = await requestResetToken(user.email);

    const body = await expectProblem(
      await newPassword({ token, password: 'short12' }),
      422,
      'VALIDATION_FAILED',
    );
    expect(body.errors).toEqual([{ path: 'password', message: 'Password must be at least 8 characters' }]);
    expect(await loginStatus(user.email, PASSWORD)).toBe(200);

    expect((await newPassword({ token, password: NEW_PASSWORD })).status).toBe(200);
  });

  it.each([
    ['a password over 128 characters', { token: 'A'.repeat(43), password: 'p'.repeat(129) }, ['password']],
    ['a token too short to be one', { token: 'abc', password: NEW_PASSWORD }, ['token']],
    ['a body without fields', {}, ['password', 'token']],
  ])('answers 422 VALIDATION_FAILED for %s', async (_case, json, paths) => {
    const body = await expectProblem(await newPassword(json), 422, 'VALIDATION_FAILED');
    expect((body.errors as { path: string }[]).map((error) => error.path).sort()).toEqual(paths);
  });
});
