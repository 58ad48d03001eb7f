// The HTML pages a browser reaches from emails when no front end is configured.
import { describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/accounts';
import { linkIn, waitForMail } from '../support/mailbox';
import { api } from '../support/worker';

const asBrowser = { accept: 'text/html,application/xhtml+xml' };

describe('GET /verify from a browser', () => {
  it('shows a success page once, then a clear error page', async () => {
    const email = uniqueEmail('browser');
    await api('/register', {
      method: 'POST',
      json: { email, username: `b${Date.now()}`, password: 'a strong password' },
    });
    const link = linkIn(await waitForMail(email), '/verify');
    const first = await api(`${link.pathname}${link.search}`, { headers: asBrowser });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/html/);
    expect(first.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await first.text()).toContain('<h1>Email verified</h1>');
    const again = await api(`${link.pathname}${link.search}`, { headers: asBrowser });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This verification link is invalid or has expired');
  });
});

describe('GET /reset-password', () => {
  it('serves the reset form wired to its script', async () => {
    const response = await api('/reset-password?token=abc');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<form id="reset">');
    expect(html).toContain('<script src="/pages/reset-password.js"></script>');
    expect(html).not.toContain('abc');
  });
});

describe('Checkout return pages', () => {
  it('serve a short confirmation and a cancellation page', async () => {
    const success = await api('/billing/success?session_id=cs_test_1');
    expect(success.status).toBe(200);
    expect(await success.text()).toContain('<h1>Payment received</h1>');
    const cancel = await api('/billing/cancel');
    expect(cancel.status).toBe(200);
    expect(await cancel.text()).toContain('<h1>Checkout cancelled</h1>');
  });
});
