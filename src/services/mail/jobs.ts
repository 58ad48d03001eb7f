// Email jobs: what routes put on the queue. A job carries template data and, where the email must
// contain a secret (a link token, a code), only that secret sealed with our key, never rendered HTML.
import { z } from 'zod';
import type { Config } from '../../env';
import { seal } from '../../lib/crypto';

const username = z.string().min(1).max(200);
const expiresInSeconds = z.number().int().positive();

export const EmailJobSchema = z.discriminatedUnion('template', [
  z.object({ template: z.literal('verify_email'), data: z.object({ username, expiresInSeconds }) }),
  z.object({ template: z.literal('reset_password'), data: z.object({ username, expiresInSeconds }) }),
  z.object({
    template: z.literal('password_changed'),
    data: z.object({ username, how: z.enum(['changed', 'reset']) }),
  }),
  z.object({ template: z.literal('account_exists'), data: z.object({ username }) }),
  z.object({
    template: z.literal('account_deactivated'),
    data: z.object({
      username,
      deleted: z.boolean().default(false),
      canceledPlan: z.string().min(1).max(200).nullable().default(null),
    }),
  }),
  z.object({ template: z.literal('login_code'), data: z.object({ username, expiresInSeconds }) }),
  z.object({
    template: z.literal('second_factor'),
    data: z.object({
      username,
      kind: z.enum([
        'totp_enabled',
        'totp_disabled',
        'recovery_codes_regenerated',
        'passkey_added',
        'passkey_removed',
      ]),
    }),
  }),
  z.object({
    template: z.literal('subscription'),
    data: z.object({
      kind: z.enum([
        'started',
        'renewed',
        'plan_changed',
        'cancel_scheduled',
        'ended',
        'payment_failed',
        'duplicate_refunded',
        'closed_refunded',
      ]),
      username,
      planName: z.string().min(1).max(200),
      periodEnd: z.string().nullable(),
      refund: z
        .object({ amountCents: z.number().int().min(0), currency: z.string().min(3).max(3) })
        .optional(),
    }),
  }),
]);

export const QueuedEmailSchema = z.intersection(
  EmailJobSchema,
  z.object({ id: z.uuid(), to: z.email(), sealedSecret: z.string().optional() }),
);

export type EmailJob = z.infer<typeof EmailJobSchema>;
export type QueuedEmail = z.infer<typeof QueuedEmailSchema>;
export type EmailTemplate = EmailJob['template'];

export const SEAL_PURPOSE = 'mail-job-secret';

/** Seals the secret (if any) and enqueues. The job id doubles as the relay's idempotency key. */
export async function enqueueEmail(
  queue: Queue,
  config: Pick<Config, 'VALIDATION_SECRET_KEY'>,
  to: string,
  job: EmailJob,
  secret?: string,
): Promise<void> {
  const message: QueuedEmail = {
    id: crypto.randomUUID(),
    to,
    ...job,
    ...(secret === undefined
      ? {}
      : { sealedSecret: await seal(config.VALIDATION_SECRET_KEY, SEAL_PURPOSE, secret) }),
  };
  await queue.send(message, { contentType: 'json' });
}
