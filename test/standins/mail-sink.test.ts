// The mail sink accepts what Resend and Postmark clients send and serves Mailpit's read API.
import { describe, expect, it } from 'vitest';
import { bindings } from '../support/bindings';

const sink = bindings.TEST_MAIL_URL;
const unique = () => crypto.randomUUID().slice(0, 8);

interface Summary {
  ID: string;
  From: { Name: string; Address: string };
  To: { Name: string; Address: string }[];
  Subject: string;
  Snippet: string;
  Created: string;
}

async function search(address: string): Promise<Summary[]> {
  const response = await fetch(`${sink}/api/v1/search?query=${encodeURIComponent(`to:${address}`)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { messages: Summary[] }).messages;
}

/** A minimal Resend send to `to`. */
function sendPlain(to: string, subject: string) {
  return fetch(`${sink}/emails`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'a@edgeauth.test', to, subject, text: 'x' }),
  });
}

describe('mail sink', () => {
  it('accepts a Resend send and shows it through the Mailpit API', async () => {
    const to = `ann-${unique()}@example.com`;
    const sent = await fetch(`${sink}/emails`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-mail-key', 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'edgeauth <no-reply@edgeauth.test>',
        to: [`Ann <${to}>`],
        subject: 'Verify your email ✉️',
        html: '<p>Click <a href="http://x/verify?token=abc">here</a></p>',
        text: 'Click http://x/verify?token=abc',
      }),
    });
    expect(sent.status).toBe(200);
    const { id } = (await sent.json()) as { id: string };
    expect(id).toEqual(expect.any(String));

    const [summary] = await search(to);
    expect(summary).toMatchObject({
      From: { Name: 'edgeauth', Address: 'no-reply@edgeauth.test' },
      To: [{ Name: 'Ann', Address: to }],
      Subject: 'Verify your email ✉️',
      Snippet: 'Click http://x/verify?token=abc',
    });
    const message = (await (await fetch(`${sink}/api/v1/message/${summary?.ID}`)).json()) as Record<
      string,
      unknown
    >;
    expect(message.HTML).toBe('<p>Click <a href="http://x/verify?token=abc">here</a></p>');
    expect(message.Text).toBe('Click http://x/verify?token=abc');
  });

  it('accepts a Postmark send', async () => {
    const to = `bob-${unique()}@example.com`;
    const sent = await fetch(`${sink}/email`, {
      method: 'POST',
      headers: {
        'x-postmark-server-token': 'test-mail-key',
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({ From: 'no-reply@edgeauth.test', To: to, Subject: 'Hello', TextBody: 'Hi Bob' }),
    });
    expect(sent.status).toBe(200);
    expect(await sent.json()).toMatchObject({ ErrorCode: 0, Message: 'OK', To: to });
    const [summary] = await search(to);
    expect(summary?.Subject).toBe('Hello');
  });

  it('stores a message once per idempotency key', async () => {
    const to = `idem-${unique()}@example.com`;
    const send = () =>
      fetch(`${sink}/emails`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer k',
          'content-type': 'application/json',
          'idempotency-key': `job-${to}`,
        },
        body: JSON.stringify({ from: 'a@edgeauth.test', to, subject: 'Once', text: 'once' }),
      });
    const first = (await (await send()).json()) as { id: string };
    const second = (await (await send()).json()) as { id: string };
    expect(second.id).toBe(first.id);
    expect(await search(to)).toHaveLength(1);
  });

  it('rejects an invalid send with a provider-shaped 422', async () => {
    const response = await fetch(`${sink}/emails`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'no recipient' }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ statusCode: 422, name: 'missing_required_field' });
  });

  it('answers 404 for an unknown message id', async () => {
    expect((await fetch(`${sink}/api/v1/message/does-not-exist`)).status).toBe(404);
  });

  it('serves a mailbox page that escapes message content', async () => {
    await sendPlain(`xss-${unique()}@example.com`, '<script>alert(1)</script>');
    const page = await fetch(`${sink}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
  });

  it('says on its health route that it is the edgeauth mail sink', async () => {
    const response = await fetch(`${sink}/_standin/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, service: 'edgeauth-mail-sink' });
  });

  it('serves an inbox that reloads itself when its state is out of date', async () => {
    await sendPlain(`inbox-${unique()}@example.com`, 'New mail');
    const state = async () => {
      const list = (await (await fetch(`${sink}/api/v1/messages?limit=1`)).json()) as {
        total: number;
        messages: Summary[];
      };
      return `${list.total}:${list.messages[0]?.ID}`;
    };
    // Other test files send mail meanwhile: compare only a page read while the inbox stood still.
    let shown: string | undefined;
    let actual: string | undefined;
    for (let attempt = 0; attempt < 5 && (shown === undefined || shown !== actual); attempt++) {
      const before = await state();
      const page = await fetch(`${sink}/`);
      expect(page.headers.get('content-security-policy')).toBe(
        "script-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'self'",
      );
      const html = await page.text();
      expect(html).toContain('<script src="/inbox.js" defer></script>');
      shown = /<body data-inbox="([^"]*)">/.exec(html)?.[1];
      actual = (await state()) === before ? before : undefined;
    }
    expect(shown).toMatch(/^\d+:[0-9a-f-]{36}$/);
    expect(shown).toBe(actual);

    const script = await fetch(`${sink}/inbox.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await script.text();
    expect(code).toContain("fetch('/api/v1/messages?limit=1'");
    expect(code).toContain('location.reload()');
  });

  it('runs no script on a message page, so reading is never reloaded away', async () => {
    const to = `read-${unique()}@example.com`;
    await sendPlain(to, 'Read me');
    const [summary] = await search(to);
    const page = await fetch(`${sink}/messages/${summary?.ID}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      "script-src 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'self'",
    );
    expect(await page.text()).not.toContain('<script');
  });
});
