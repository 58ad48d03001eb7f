// GET /verify and POST /request/verify through the Worker entry: single-use, expiring, purpose-bound
// verification links, and resending one (which retires the older link).
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { emailTokens } from '../../src/db/schema';
import { bearer, createUser, db, login, PASSWORD, reloadUser, uniqueEmail } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { linkIn, type Mail, mailsTo, skipMailCooldown, waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { API_ORIGIN, api } from '../support/worker';

const VERIFY_SUBJECT = 'Verify your email for edgeauth-test';
const RESET_SUBJECT = 'Reset your edgeauth-test password';
const VALIDATION_TOKEN_EXPIRE = 900;

const uniqueUsername = () => `v${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Registers through the route and returns the new user's id and the emailed verification link. */
async function registerAndReadLink(env?: Env) {
  const email = uniqueEmail('verify');
  const response = await api(
    '/register',
    { method: 'POST', json: { email, username: uniqueUsername(), password: PASSWORD } },
    env,
  );
  expect(response.status).toBe(201);
  const { user } = (await response.json()) as { user: { id: string } };
  const mail = await waitForMail(email);
  expect(mail.Subject).toBe(VERIFY_SUBJECT);
  return { email, userId: user.id, link: linkIn(mail, '/verify') };
}

const visit = (link: URL, env?: Env) => api(`${link.pathname}${link.search}`, {}, env);

const tokenOf = (link: URL) => link.searchParams.get('token')!;

async function mailWithSubject(to: string, subject: string, count: number): Promise<Mail> {
  await waitForMail(to, { count });
  const mail = (await mailsTo(to)).find((candidate) => candidate.Subject === subject);
  if (!mail) throw new Error(`no "${subject}" among the ${count} emails to ${to}`);
  return mail;
}

async function resetLinkFor(email: string, count = 1): Promise<URL> {
  const response = await api('/forget-password', { method: 'POST', json: { email } });
  expect(response.status).toBe(202);
  return linkIn(await mailWithSubject(email, RESET_SUBJECT, count), '/reset-password');
}

describe('GET /verify', () => {
  it('verifies the email with the emailed link, once', async () => {
    const { userId, link } = await registerAndReadLink();
    expect(link.origin).toBe(API_ORIGIN);
    expect(link.pathname).toBe('/verify');

    const first = await visit(link);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(await first.json()).toEqual({ message: 'Email is verified' });
    expect((await reloadUser(userId))!.isVerified).toBe(true);

    const second = await visit(link);
    const body = await expectProblem(second, 400, 'INVALID_EMAIL_TOKEN');
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Invalid or expired link',
      status: 400,
      detail: 'This verification link is invalid or has expired',
      code: 'INVALID_EMAIL_TOKEN',
      request_id: expect.any(String),
    });
  });

  it('shows the user as verified at /me and /login afterwards', async () => {
    const { email, link } = await registerAndReadLink();
    expect((await visit(link)).status).toBe(200);
    const { token, body } = await login(email);
    expect(body.user).toMatchObject({ email, is_verified: true });
    const me = await api('/me', { headers: bearer(token) });
    expect(((await me.json()) as { user: Record<string, unknown> }).user.is_verified).toBe(true);
  });

  it('still works just before VALIDATION_TOKEN_EXPIRE seconds have passed', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const { userId, link } = await registerAndReadLink(env);

    clock.advance(VALIDATION_TOKEN_EXPIRE - 1);
    expect((await visit(link, env)).status).toBe(200);
    expect((await reloadUser(userId))!.isVerified).toBe(true);
  });

  it('refuses an expired link with 400 INVALID_EMAIL_TOKEN', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const { userId, link } = await registerAndReadLink(env);

    clock.advance(VALIDATION_TOKEN_EXPIRE + 1);
    await expectProblem(await visit(link, env), 400, 'INVALID_EMAIL_TOKEN');
    expect((await reloadUser(userId))!.isVerified).toBe(false);
  });

  it('refuses a well-formed token it never issued with 400', async () => {
    const response = await api(`/verify?token=${'A'.repeat(43)}`);
    await expectProblem(response, 400, 'INVALID_EMAIL_TOKEN');
  });

  it('refuses a password-reset token, which stays usable for its own purpose', async () => {
    const user = await createUser({ isVerified: false });
    const resetLink = await resetLinkFor(user.email);

    const atVerify = await api(`/verify?token=${encodeURIComponent(tokenOf(resetLink))}`);
    await expectProblem(atVerify, 400, 'INVALID_EMAIL_TOKEN');
    expect((await reloadUser(user.id))!.isVerified).toBe(false);

    const reset = await api('/new-password', {
      method: 'POST',
      json: { token: tokenOf(resetLink), password: 'a brand new password' },
    });
    expect(reset.status).toBe(200);
  });

  it('is not accepted at /new-password, and stays usable at /verify', async () => {
    const { email, userId, link } = await registerAndReadLink();

    const atReset = await api('/new-password', {
      method: 'POST',
      json: { token: tokenOf(link), password: 'a brand new password' },
    });
    await expectProblem(atReset, 400, 'INVALID_EMAIL_TOKEN');
    expect((await reloadUser(userId))!.isVerified).toBe(false);
    await login(email, PASSWORD);

    expect((await visit(link)).status).toBe(200);
  });

  it.each([
    ['no token', '/verify'],
    ['an empty token', '/verify?token='],
    ['a token too short to be one', '/verify?token=abc'],
    ['a token too long to be one', `/verify?token=${'A'.repeat(257)}`],
  ])('answers 422 VALIDATION_FAILED for %s', async (_case, path) => {
    const body = await expectProblem(await api(path), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: 'token', message: expect.any(String) }]);
  });
});

describe('POST /request/verify', () => {
  it('sends an unverified user a new link (202) and retires the older one', async () => {
    const { email, userId, link: older } = await registerAndReadLink();
    const { token } = await login(email);
    // The registration's link counts against the minute: a resend asked for at once would be 429.
    await skipMailCooldown('verify_email', email);

    const response = await api('/request/verify', { method: 'POST', headers: bearer(token) });
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ message: 'A new verification email has been sent' });

    const newer = linkIn(await waitForMail(email, { count: 2 }), '/verify');
    expect(tokenOf(newer)).not.toBe(tokenOf(older));
    const subjects = (await mailsTo(email)).map((mail) => mail.Subject);
    expect(subjects).toEqual([VERIFY_SUBJECT, VERIFY_SUBJECT]);

    await expectProblem(await visit(older), 400, 'INVALID_EMAIL_TOKEN');
    expect((await reloadUser(userId))!.isVerified).toBe(false);
    expect((await visit(newer)).status).toBe(200);
    expect((await reloadUser(userId))!.isVerified).toBe(true);
  });

  it('answers 200 and sends nothing when the email is already verified', async () => {
    const user = await createUser({ email: uniqueEmail('verified'), isVerified: true });
    const { token } = await login(user.email);

    const response = await api('/request/verify', { method: 'POST', headers: bearer(token) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'Email is already verified' });

    // No link was made, and a later email to the same address is the first one it gets.
    const tokens = await db().select().from(emailTokens).where(eq(emailTokens.userId, user.id));
    expect(tokens).toEqual([]);
    await resetLinkFor(user.email);
    expect((await mailsTo(user.email)).map((mail) => mail.Subject)).toEqual([RESET_SUBJECT]);
  });

  it('answers 401 UNAUTHORIZED without a bearer token', async () => {
    const response = await api('/request/verify', { method: 'POST' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    const body = await expectProblem(response, 401, 'UNAUTHORIZED');
    expect(body.detail).toBe('Not authenticated');
  });

  it('answers 401 INVALID_TOKEN for a bearer token that is not ours', async () => {
    const response = await api('/request/verify', { method: 'POST', headers: bearer('a.b.c') });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
    await expectProblem(response, 401, 'INVALID_TOKEN');
  });
});
