// Sends one rendered email through the configured relay's HTTP API (Resend or Postmark), and says
// whether a failure is worth retrying (network, timeout, 429, 5xx) or is permanent (other 4xx).
import type { RenderedEmail } from '../../../emails/layout';
import type { Config } from '../../env';
import { withDeadline } from '../../lib/deadline';
import { describeError, type LoggedError } from '../../lib/log-error';

type RelayConfig = Pick<Config, 'MAIL_PROVIDER' | 'MAIL_API_URL' | 'MAIL_API_KEY' | 'MAIL_FROM'>;

export type SendOutcome =
  | { ok: true; providerId: string | undefined }
  | { ok: false; retryable: boolean; reason: string; error: LoggedError; retryAfterSeconds?: number };

const SEND_TIMEOUT_MS = 10_000;

function requestFor(config: RelayConfig, to: string, email: RenderedEmail, idempotencyKey: string): Request {
  const key = config.MAIL_API_KEY ?? '';
  if (config.MAIL_PROVIDER === 'postmark') {
    return new Request(`${config.MAIL_API_URL ?? 'https://api.postmarkapp.com'}/email`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-postmark-server-token': key,
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify({
        From: config.MAIL_FROM,
        To: to,
        Subject: email.subject,
        HtmlBody: email.html,
        TextBody: email.text,
        MessageStream: 'outbound',
      }),
    });
  }
  return new Request(`${config.MAIL_API_URL ?? 'https://api.resend.com'}/emails`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify({
      from: config.MAIL_FROM,
      to: [to],
      subject: email.subject,
      html: email.html,
      text: email.text,
    }),
  });
}

export interface MailRelay {
  /** Sends one email; the idempotency key makes a retried send deliver once. Never throws. */
  send(to: string, email: RenderedEmail, idempotencyKey: string): Promise<SendOutcome>;
}

export function createMailRelay(config: RelayConfig): MailRelay {
  return { send: (to, email, idempotencyKey) => sendViaRelay(config, to, email, idempotencyKey) };
}

async function sendViaRelay(
  config: RelayConfig,
  to: string,
  email: RenderedEmail,
  idempotencyKey: string,
): Promise<SendOutcome> {
  const failure = (code: string): LoggedError => ({ kind: 'mail', operation: 'send', code });
  if (!config.MAIL_API_KEY) {
    const reason = 'MAIL_API_KEY is not configured';
    return { ok: false, retryable: false, reason, error: failure('not_configured') };
  }
  let response: Response;
  try {
    response = await withDeadline(fetch(requestFor(config, to, email, idempotencyKey)), SEND_TIMEOUT_MS);
  } catch (thrown) {
    const error = describeError(thrown, { dependency: 'mail', operation: 'send' });
    const reason = error.code === 'timeout' ? 'relay did not answer in time' : 'relay unreachable';
    return { ok: false, retryable: true, reason, error };
  }
  const body = await response.text().catch(() => '');
  if (response.ok) {
    const parsed = safeJson(body);
    return { ok: true, providerId: (parsed?.id ?? parsed?.MessageID) as string | undefined };
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    ok: false,
    retryable: response.status === 429 || response.status >= 500,
    reason: `relay answered ${response.status}`,
    error: failure(`http_${response.status}`),
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
}

function safeJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
