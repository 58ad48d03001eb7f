// No secret ever reaches a log line: run the flows that handle passwords, tokens, codes and Stripe
// keys with every console method captured, then search the captured lines for each secret.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlan, subscribedUser } from '../support/billing';
import { bindings } from '../support/bindings';
import { linkIn, waitForMail } from '../support/mailbox';
import { api, useVars } from '../support/worker';

// Every line the code can write, debug lines included.
beforeAll(() => useVars({ LOG_LEVEL: 'debug' }));
afterEach(() => vi.restoreAllMocks());

function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
  }
  return lines;
}

describe('log lines', () => {
  it('never contain a password, token, code, cookie or Stripe secret', async () => {
    const lines = captureLogs();
    const password = 'Hunter2-super-secret-password';
    const email = `logs-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await api('/register', { method: 'POST', json: { email, username: `logs${Date.now()}`, password } });
    const verifyToken = linkIn(await waitForMail(email), '/verify').searchParams.get('token')!;
    await api(`/verify?token=${verifyToken}`);
    const login = await api('/login', {
      method: 'POST',
      json: { email, password },
      headers: { 'x-refresh-token-transport': 'body' },
    });
    const { token, refresh_token: refreshToken } = (await login.json()) as {
      token: string;
      refresh_token: string;
    };
    await api('/login', { method: 'POST', json: { email, password: `${password}-wrong` } });
    const refreshed = (await (
      await api('/refresh-token', { method: 'POST', json: { refresh_token: refreshToken } })
    ).json()) as { refresh_token: string };
    await api('/request/login-code', { method: 'POST', json: { email } });
    const code = /sign-in code is: (\d{6})/.exec((await waitForMail(email, { count: 2 })).Text)![1]!;
    await api('/login/code', { method: 'POST', json: { email, code } });
    await api('/forget-password', { method: 'POST', json: { email } });
    const resetToken = linkIn(await waitForMail(email, { count: 3 }), '/reset-password').searchParams.get(
      'token',
    )!;
    await api('/new-password', { method: 'POST', json: { token: resetToken, password: `${password}-2` } });
    await subscribedUser(await createPlan());

    expect(lines.length).toBeGreaterThan(10);
    const all = lines.join('\n');
    for (const secret of [
      password,
      token,
      refreshToken,
      refreshed.refresh_token,
      verifyToken,
      resetToken,
      // Six digits could occur inside an id by chance; as a value on its own it must not.
      `"${code}"`,
      bindings.STRIPE_SECRET_KEY,
      bindings.STRIPE_WEBHOOK_SECRET,
      bindings.ACCESS_SECRET_KEY,
      bindings.UPSTASH_REDIS_REST_TOKEN,
    ]) {
      expect(all, `a log line contains a secret (${secret.slice(0, 4)}…)`).not.toContain(secret);
    }
    expect(all).not.toContain(email);
  });
});
