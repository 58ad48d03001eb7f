// The email queue consumer: render each job, send it through the relay, and settle each message on its
// own (ack, retry with exponential backoff, or move to the dead-letter queue). Never logs a secret.
import { unseal } from '../lib/crypto';
import { log } from '../lib/log';
import { describeError } from '../lib/log-error';
import type { Services } from '../services';
import { QueuedEmailSchema, SEAL_PURPOSE } from '../services/mail/jobs';
import { MissingSecretError, renderEmail } from '../services/mail/render';

/** Attempts before a job goes to the dead-letter queue (wrangler's max_retries is the backstop). */
export const MAIL_MAX_ATTEMPTS = 5;
const BASE_DELAY_SECONDS = 10;
const MAX_DELAY_SECONDS = 15 * 60;

export function backoffSeconds(attempts: number, retryAfterSeconds = 0): number {
  const exponential = Math.min(BASE_DELAY_SECONDS * 2 ** Math.max(0, attempts - 1), MAX_DELAY_SECONDS);
  return Math.max(exponential, Math.min(retryAfterSeconds, MAX_DELAY_SECONDS));
}

export interface DeadLetter {
  job: unknown;
  reason: string;
  attempts: number;
  failed_at: string;
}

async function deadLetter(services: Services, message: Message<unknown>, reason: string) {
  const letter: DeadLetter = {
    job: message.body,
    reason,
    attempts: message.attempts,
    failed_at: services.clock.now().toISOString(),
  };
  await services.deadLetters.send(letter, { contentType: 'json' });
  message.ack();
}

async function deliver(services: Services, message: Message<unknown>): Promise<void> {
  const parsed = QueuedEmailSchema.safeParse(message.body);
  if (!parsed.success) {
    log('error', 'mail job malformed', { message_id: message.id });
    return deadLetter(services, message, 'malformed job');
  }
  const job = parsed.data;
  const fields = { job_id: job.id, template: job.template, attempts: message.attempts };
  const secret = job.sealedSecret
    ? await unseal(services.config.VALIDATION_SECRET_KEY, SEAL_PURPOSE, job.sealedSecret)
    : null;
  let rendered: ReturnType<typeof renderEmail>;
  try {
    rendered = renderEmail(services.config, job, secret);
  } catch (error) {
    if (!(error instanceof MissingSecretError)) throw error;
    log('error', 'mail job secret unreadable', fields);
    return deadLetter(services, message, 'secret unreadable');
  }
  const outcome = await services.mailRelay.send(job.to, rendered, job.id);
  if (outcome.ok) {
    log('info', 'mail sent', fields);
    message.ack();
    return;
  }
  if (!outcome.retryable || message.attempts >= MAIL_MAX_ATTEMPTS) {
    log('error', 'mail job dead-lettered', { ...fields, reason: outcome.reason, error: outcome.error });
    return deadLetter(services, message, outcome.reason);
  }
  const delaySeconds = backoffSeconds(message.attempts, outcome.retryAfterSeconds);
  log('warn', 'mail send failed, retrying', {
    ...fields,
    reason: outcome.reason,
    error: outcome.error,
    delay_seconds: delaySeconds,
  });
  message.retry({ delaySeconds });
}

export async function consumeEmails(batch: MessageBatch<unknown>, services: Services): Promise<void> {
  await Promise.all(
    batch.messages.map((message) =>
      deliver(services, message).catch((error: unknown) => {
        log('error', 'mail job crashed', { message_id: message.id, error: describeError(error) });
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      }),
    ),
  );
}
