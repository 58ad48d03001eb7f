// Stripe webhooks: verify the signature on the raw body, then apply the event in one database batch that
// also records its id, so a repeated delivery is a no-op and a failed one leaves nothing behind. State is
// re-read from Stripe, not taken from the event, so the final state does not depend on arrival order.
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type Stripe from 'stripe';
import type { SubscriptionNotice } from '../../../emails/subscription';
import { stripeEvents } from '../../db/schema';
import { AppError } from '../../errors';
import { log } from '../../lib/log';
import type { Services } from '../../services';
import { markCheckoutStatement } from './checkouts';
import { callStripe, fromUnix, isMissingAtStripe, stripeClient, webhookCrypto } from './stripe-client';
import {
  notificationTargetStatement,
  upsertPaymentStatement,
  upsertSubscriptionStatement,
} from './subscription-sync';
import { cancelNow, refundLatestInvoice } from './termination';
import { parseWebhookEvent, type WebhookEvent, type WebhookSubject } from './webhook-event';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

export async function verifyWebhook(
  s: Services,
  rawBody: string,
  signature: string | undefined,
): Promise<WebhookEvent> {
  const secret = s.config.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new AppError('FEATURE_NOT_CONFIGURED', 'Billing webhooks are not configured');
  if (!signature) throw new AppError('INVALID_SIGNATURE', 'Missing Stripe-Signature header');
  let payload: unknown;
  try {
    // The default 300 s tolerance refuses a replay of an old, validly signed delivery.
    payload = await stripeClient(s.config).webhooks.constructEventAsync(
      rawBody,
      signature,
      secret,
      undefined,
      webhookCrypto,
    );
  } catch {
    throw new AppError('INVALID_SIGNATURE', 'Stripe signature verification failed');
  }
  return parseWebhookEvent(payload, s.clock.now());
}

const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

function subscriptionIdOf(subject: WebhookSubject): string | null {
  switch (subject.kind) {
    case 'subscription':
      return subject.data.object.id;
    case 'checkout':
      return idOf(subject.session.subscription);
    case 'invoice':
      return idOf(subject.invoice.parent?.subscription_details?.subscription);
    case 'unhandled':
      return null;
  }
}

function noticeFor({ type, subject }: WebhookEvent): SubscriptionNotice | null {
  if (subject.kind === 'invoice') {
    if (type === 'invoice.payment_failed') return 'payment_failed';
    const reason = type === 'invoice.paid' ? subject.invoice.billing_reason : null;
    return reason === 'subscription_create' ? 'started' : reason === 'subscription_cycle' ? 'renewed' : null;
  }
  if (subject.kind !== 'subscription') return null;
  if (type === 'customer.subscription.deleted') return 'ended';
  if (type !== 'customer.subscription.updated') return null;
  const { object: sub, previous_attributes: previous = {} } = subject.data;
  if (previous.cancel_at_period_end === false && sub.cancel_at_period_end) return 'cancel_scheduled';
  // Items also change at every renewal (their period dates): only a different price is a plan change.
  const before = previous.items?.data[0]?.price?.id;
  return before && before !== sub.items?.data[0]?.price.id ? 'plan_changed' : null;
}

/** A completed or expired Checkout is no longer open: the one-open-checkout rule frees the user. */
function checkoutWritesFor(s: Services, { type, subject }: WebhookEvent) {
  if (subject.kind !== 'checkout') return [];
  return [
    markCheckoutStatement(
      s.db,
      subject.session.id,
      type === 'checkout.session.expired' ? 'expired' : 'complete',
    ),
  ];
}

function constraintOf(error: unknown): string | undefined {
  const cause = error instanceof DrizzleQueryError ? error.cause : error;
  return (cause as { constraint?: string } | undefined)?.constraint;
}

/**
 * Records an event that changes no subscription (with the checkout writes it may carry), so that its
 * redelivery answers "duplicate".
 */
async function recordUnapplied(
  s: Services,
  eventRow: typeof stripeEvents.$inferInsert,
  checkoutWrites: ReturnType<typeof checkoutWritesFor>,
): Promise<WebhookOutcome> {
  const [inserted, ...closed] = await s.db.batch([
    s.db.insert(stripeEvents).values(eventRow).onConflictDoNothing().returning({ id: stripeEvents.id }),
    ...checkoutWrites,
  ]);
  if (inserted.length === 0) return 'duplicate';
  return closed.some((rows) => rows.length > 0) ? 'applied' : 'ignored';
}

/**
 * The subscription as Stripe has it now, or null when this Stripe account has no such subscription: that
 * answer will not change, so Stripe must not retry; an outage or other failure still does (5xx).
 */
async function currentSubscription(s: Services, id: string): Promise<Stripe.Subscription | null> {
  const stripe = stripeClient(s.config);
  return callStripe('read the subscription', () =>
    stripe.subscriptions.retrieve(id).catch((error: unknown) => {
      if (isMissingAtStripe(error)) return null;
      throw error;
    }),
  );
}

export async function handleWebhookEvent(s: Services, event: WebhookEvent): Promise<WebhookOutcome> {
  const now = s.clock.now();
  const eventRow = {
    id: event.id,
    type: event.type,
    stripeCreatedAt: fromUnix(event.created) ?? now,
    receivedAt: now,
  };
  const checkoutWrites = checkoutWritesFor(s, event);
  const subscriptionId = subscriptionIdOf(event.subject);
  if (!subscriptionId) return recordUnapplied(s, eventRow, checkoutWrites);
  // The truth now, whatever order the events arrive in.
  const subscription = await currentSubscription(s, subscriptionId);
  if (!subscription) {
    log('warn', 'stripe event for a subscription this account does not have', {
      event_id: event.id,
      subscription: subscriptionId,
    });
    return recordUnapplied(s, eventRow, []);
  }
  const invoice = event.subject.kind === 'invoice' ? event.subject.invoice : null;
  const writes = [
    upsertSubscriptionStatement(s.db, subscription, now),
    ...checkoutWrites,
    ...(invoice
      ? [
          upsertPaymentStatement(
            s.db,
            invoice,
            event.type === 'invoice.payment_failed' ? 'failed' : 'succeeded',
            now,
          ),
        ]
      : []),
  ];
  let target: Awaited<ReturnType<typeof notificationTargetStatement>>;
  try {
    // Recording the event id first makes a concurrent duplicate fail on the primary key and roll back.
    const record = s.db.insert(stripeEvents).values(eventRow);
    const results = await s.db.batch([record, ...writes, notificationTargetStatement(s.db, subscription.id)]);
    target = results[results.length - 1] as typeof target;
  } catch (error) {
    const constraint = constraintOf(error);
    if (constraint === 'stripe_events_pkey') return 'duplicate';
    if (constraint === 'subscriptions_one_live_per_user_key')
      return refuseSecondSubscription(s, eventRow, subscription, checkoutWrites);
    throw error;
  }
  const row = target.rows[0];
  if (!row) {
    log('warn', 'stripe subscription not mapped to a user and plan', {
      event_id: event.id,
      subscription: subscription.id,
    });
    return 'ignored';
  }
  const notice = noticeFor(event);
  if (notice) {
    await s.sendEmail(row.email, {
      template: 'subscription',
      data: {
        kind: notice,
        username: row.username,
        planName: row.plan_name,
        periodEnd: row.current_period_end,
      },
    });
  }
  return 'applied';
}

/**
 * A user paid a second checkout before the first one's webhook arrived. One live subscription per user
 * is a database rule, so the newer Stripe subscription is cancelled at once, what was paid for it is
 * refunded, the refund is recorded, and the user is told.
 */
async function refuseSecondSubscription(
  s: Services,
  eventRow: typeof stripeEvents.$inferInsert,
  subscription: Stripe.Subscription,
  checkoutWrites: ReturnType<typeof checkoutWritesFor>,
) {
  log('warn', 'second live subscription refused', { event_id: eventRow.id, subscription: subscription.id });
  const canceled = await cancelNow(s, subscription.id);
  const refund = await refundLatestInvoice(s, canceled);
  const now = s.clock.now();
  const invoiceId =
    typeof canceled.latest_invoice === 'string' ? canceled.latest_invoice : canceled.latest_invoice?.id;
  const invoice = invoiceId
    ? await callStripe('read the invoice', () => stripeClient(s.config).invoices.retrieve(invoiceId))
    : null;
  const writes = [
    upsertSubscriptionStatement(s.db, canceled, now),
    ...checkoutWrites,
    ...(invoice && refund ? [upsertPaymentStatement(s.db, invoice, 'refunded', now)] : []),
  ];
  const results = await s.db.batch([
    s.db.insert(stripeEvents).values(eventRow).onConflictDoNothing(),
    ...writes,
    notificationTargetStatement(s.db, canceled.id),
  ]);
  const target = results[results.length - 1] as Awaited<ReturnType<typeof notificationTargetStatement>>;
  const row = target.rows[0];
  if (row && refund) {
    await s.sendEmail(row.email, {
      template: 'subscription',
      data: {
        kind: 'duplicate_refunded',
        username: row.username,
        planName: row.plan_name,
        periodEnd: null,
        refund,
      },
    });
  }
  return 'ignored' as const;
}
