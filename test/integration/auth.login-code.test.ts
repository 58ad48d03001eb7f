// Passwordless sign-in with an emailed 6-digit code, read from the mail sink as a user would.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loginCodes, users } from '../../src/db/schema';
import { createUser, db, reloadUser, uniqueEmail } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { mailsTo, waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const requestCode = (email: string, env?: Env) =>
  api('/request/login-code', { method: 'POST', json: { email } }, env);
const loginWithCode = (email: string, code: string, env?: Env) =>
  api('/login/code', { method: 'POST', json: { email, code } }, env);

async function emailedCode(email: string, count = 1): Promise<string> {
  const mail = await waitForMail(email, { count });
  const code = /sign-in code is: (\d{6})/.exec(mail.Text)?.[1];
  if (!code) throw new Error('no code in the email');
  return code;
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('POST /request/login-code', () => {
  it('answers 202 with the same body for known and unknown emails', async () => {
    const user = await createUser();
    const known = await requestCode(user.email);
    const unknown = await requestCode(uniqueEmail('nobody'));
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    const body = { message: 'If an account with this email exists, a login code has been sent.' };
    expect(await known.json()).toEqual(body);
    expect(await unknown.json()).toEqual(body);
  });

  it('emails a code that says its real lifetime', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const mail = await waitForMail(user.email);
    expect(mail.Subject).toBe('Your edgeauth-test sign-in code');
    expect(mail.Text).toMatch(/sign-in code is: \d{6}/);
    expect(mail.Text).toContain('expires in 15 minutes');
  });

  it('sends no second code within the cooldown, and the first one keeps working', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const code = await emailedCode(user.email);
    expect((await requestCode(user.email)).status).toBe(202);
    expect(await mailsTo(user.email)).toHaveLength(1);
    expect((await loginWithCode(user.email, code)).status).toBe(200);
  });

  it('sends nothing to a deactivated account', async () => {
    const user = await createUser({ isActive: false });
    expect((await requestCode(user.email)).status).toBe(202);
    expect(await db().select().from(loginCodes).where(eq(loginCodes.userId, user.id))).toHaveLength(0);
  });

  it('rejects a malformed email with 422', async () => {
    await expectProblem(await requestCode('not-an-email'), 422, 'VALIDATION_FAILED');
  });
});

describe('POST /login/code', () => {
  it('signs in like /login and marks the email verified', async () => {
    const user = await createUser({ isVerified: false });
    await requestCode(user.email.toUpperCase());
    const response = await loginWithCode(user.email, await emailedCode(user.email));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      user: { id: user.id, is_verified: true },
    });
    expect(response.headers.getSetCookie().some((c) => c.startsWith('edgeauth_refresh='))).toBe(true);
    expect((await reloadUser(user.id))?.isVerified).toBe(true);
  });

  it('accepts a code once', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const code = await emailedCode(user.email);
    expect((await loginWithCode(user.email, code)).status).toBe(200);
    await expectProblem(await loginWithCode(user.email, code), 400, 'INVALID_LOGIN_CODE');
  });

  it('kills the code after 5 wrong tries, even when they arrive at once', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const code = await emailedCode(user.email);
    const guesses = await Promise.all(
      Array.from({ length: 8 }, () => loginWithCode(user.email, wrong(code))),
    );
    expect(guesses.map((r) => r.status)).toEqual(Array(8).fill(400));
    const [row] = await db().select().from(loginCodes).where(eq(loginCodes.userId, user.id));
    expect(row?.attempts).toBe(5);
    await expectProblem(await loginWithCode(user.email, code), 400, 'INVALID_LOGIN_CODE');
  });

  it('refuses an expired code', async () => {
    const clock = fakeClock();
    const user = await createUser();
    await requestCode(user.email, envWithClock(clock));
    const code = await emailedCode(user.email);
    clock.advance(15 * 60 + 1);
    await expectProblem(
      await loginWithCode(user.email, code, envWithClock(clock)),
      400,
      'INVALID_LOGIN_CODE',
    );
  });

  it('answers an unknown email exactly like a wrong code', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const code = await emailedCode(user.email);
    const unknown = await expectProblem(
      await loginWithCode(uniqueEmail('ghost'), code),
      400,
      'INVALID_LOGIN_CODE',
    );
    const wrongCode = await expectProblem(
      await loginWithCode(user.email, wrong(code)),
      400,
      'INVALID_LOGIN_CODE',
    );
    expect({ ...unknown, request_id: '' }).toEqual({ ...wrongCode, request_id: '' });
  });

  it('refuses a deactivated account with 403 without consuming the code', async () => {
    const user = await createUser();
    await requestCode(user.email);
    const code = await emailedCode(user.email);
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    await expectProblem(await loginWithCode(user.email, code), 403, 'ACCOUNT_DISABLED');
    const [row] = await db().select().from(loginCodes).where(eq(loginCodes.userId, user.id));
    expect(row).toMatchObject({ attempts: 0, consumedAt: null });
  });

  it('rejects a code that is not 6 digits with 422', async () => {
    const body = await expectProblem(await loginWithCode('a@b.io', '12ab'), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: 'code', message: 'The code is 6 digits' }]);
  });
});
