// Mail bombing: what a stranger can make us send to one mailbox. Each kind they can cause (reset link,
// sign-up notice, verification link, code) goes at most once a minute per address, and a held-back
// request never voids the link that was sent.
import { describe, expect, it } from 'vitest';
import { bearer, createUser, login, PASSWORD, uniqueEmail, uniqueIp } from '../support/accounts';
import { linkIn, mailsTo, waitForMail, waitForMailWith } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const fromStranger = (path: string, json: unknown) =>
  api(path, { method: 'POST', json, headers: { 'cf-connecting-ip': uniqueIp() } });

/** Waits until the queue delivered what it will: the last request's email is a fresh sentinel kind. */
async function settled(email: string, count: number) {
  await waitForMail(email, { count });
  return mailsTo(email);
}

describe('one email of a kind per address per minute', () => {
  it('sends one reset link for five requests in a row, and that link still works', async () => {
    const user = await createUser();
    for (let i = 0; i < 5; i++) {
      expect((await fromStranger('/forget-password', { email: user.email })).status).toBe(202);
    }
    const token = linkIn(await waitForMailWith(user.email, /reset/i), '/reset-password').searchParams.get(
      'token',
    );
    // A code is another kind, so it still goes: once it is here, every reset email would be too.
    await fromStranger('/request/login-code', { email: user.email });
    const mails = await settled(user.email, 2);
    expect(mails.filter((mail) => /reset/i.test(mail.Subject))).toHaveLength(1);

    const reset = await api('/new-password', {
      method: 'POST',
      json: { token, password: 'a fresh password 1' },
    });
    expect(reset.status).toBe(200);
  });

  it('sends one sign-up notice for four registrations of a taken email', async () => {
    const user = await createUser();
    for (let i = 0; i < 4; i++) {
      const response = await fromStranger('/register', {
        email: user.email,
        username: `flood${crypto.randomUUID().slice(0, 8)}`,
        password: PASSWORD,
      });
      expect(response.status).toBe(201);
    }
    await fromStranger('/request/login-code', { email: user.email });
    const mails = await settled(user.email, 2);
    expect(mails.filter((mail) => /Sign-up attempt/.test(mail.Subject))).toHaveLength(1);
  });

  it('answers a second verification resend within the minute with 429 and sends one link', async () => {
    const user = await createUser({ isVerified: false });
    const { token } = await login(user.email);
    const first = await api('/request/verify', { method: 'POST', headers: bearer(token) });
    expect(first.status).toBe(202);
    const second = await api('/request/verify', { method: 'POST', headers: bearer(token) });
    await expectProblem(second, 429, 'RATE_LIMITED');
    expect(second.headers.get('retry-after')).toBe('60');
    await fromStranger('/request/login-code', { email: user.email });
    const mails = await settled(user.email, 2);
    expect(mails.filter((mail) => /Verify your email/.test(mail.Subject))).toHaveLength(1);
  });

  it('sends one verification link and one deletion notice for a register-and-close loop', async () => {
    const email = uniqueEmail('looped');
    for (let round = 0; round < 3; round++) {
      const registered = await fromStranger('/register', {
        email,
        username: `loop${crypto.randomUUID().slice(0, 8)}`,
        password: PASSWORD,
      });
      expect(registered.status).toBe(201);
      const { token } = await login(email);
      const closed = await api('/deactivate', {
        method: 'POST',
        headers: bearer(token),
        json: { password: PASSWORD },
      });
      expect(await closed.json()).toMatchObject({ deleted: true });
    }
    await fromStranger('/request/login-code', { email });
    // No account is left to get a code, so wait for the two that may come and then look.
    const mails = await settled(email, 2);
    expect(mails.filter((mail) => /Verify your email/.test(mail.Subject))).toHaveLength(1);
    expect(mails.filter((mail) => /was deleted/.test(mail.Subject))).toHaveLength(1);
  });
});
