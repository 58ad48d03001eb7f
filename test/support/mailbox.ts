// Reads what the Worker's queue consumer delivered to the mail sink (Mailpit-compatible API).
import { bindings } from './bindings';

export interface Mail {
  ID: string;
  To: { Address: string }[];
  Subject: string;
  Text: string;
  HTML: string;
}

async function search(to: string): Promise<{ ID: string }[]> {
  const response = await fetch(
    `${bindings.TEST_MAIL_URL}/api/v1/search?query=${encodeURIComponent(`to:${to}`)}`,
  );
  return ((await response.json()) as { messages: { ID: string }[] }).messages;
}

export async function mailsTo(to: string): Promise<Mail[]> {
  const found = await search(to);
  return Promise.all(
    found.map(
      async ({ ID }) =>
        (await (await fetch(`${bindings.TEST_MAIL_URL}/api/v1/message/${ID}`)).json()) as Mail,
    ),
  );
}

/**
 * Waits for the `count`-th email to `to` (queue delivery is asynchronous) and returns the newest.
 * Polls the sink; gives up after `timeoutMs` with a clear error.
 */
export async function waitForMail(to: string, { count = 1, timeoutMs = 10_000 } = {}): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await search(to);
    if (found.length >= count) {
      return (await (await fetch(`${bindings.TEST_MAIL_URL}/api/v1/message/${found[0]!.ID}`)).json()) as Mail;
    }
    if (Date.now() > deadline) throw new Error(`no email #${count} to ${to} within ${timeoutMs} ms`);
    await scheduler.wait(50);
  }
}

export function linkIn(mail: Mail, path: string): URL {
  const match = mail.Text.match(
    new RegExp(`https?://\\S+${path.replace('/', '\\/')}\\?token=[A-Za-z0-9_%-]+`),
  );
  if (!match) throw new Error(`no ${path} link in email "${mail.Subject}"`);
  return new URL(match[0]);
}

export function codeIn(mail: Mail): string {
  const code = /sign-in code is: (\d{6})/.exec(mail.Text)?.[1];
  if (!code) throw new Error(`no sign-in code in email "${mail.Subject}"`);
  return code;
}

/** The newest email to `to` whose subject matches, once `count` such emails have arrived. */
export async function waitForMailWith(
  to: string,
  subject: RegExp,
  { count = 1, timeoutMs = 10_000 } = {},
): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const matching = (await mailsTo(to)).filter((mail) => subject.test(mail.Subject));
    if (matching.length >= count) return matching[0]!;
    if (Date.now() > deadline) throw new Error(`no email #${count} matching ${subject} to ${to}`);
    await scheduler.wait(50);
  }
}

/**
 * Lets the next email of `kind` to `address` go at once, as if the per-address minute had passed (the
 * cooldown lives in Redis, whose clock a test cannot move): deletes the key through the Upstash REST API.
 */
export async function skipMailCooldown(kind: string, address: string): Promise<void> {
  const response = await fetch(bindings.UPSTASH_REDIS_REST_URL, {
    method: 'POST',
    headers: { authorization: `Bearer ${bindings.UPSTASH_REDIS_REST_TOKEN}` },
    body: JSON.stringify(['DEL', `edgeauth:mail:cooldown:${kind}:${address.toLowerCase()}`]),
  });
  if (!response.ok) throw new Error(`could not clear the mail cooldown: ${response.status}`);
}
