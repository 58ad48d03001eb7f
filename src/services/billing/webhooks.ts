// Stripe webhooks: verify the signature on the raw body, then apply the event in one database batch that
// also records its id, so a repeated delivery is a no-op and a failed one leaves nothing behind. State is
// re-read from Stripe, not taken from the event, so the final state does not depend on arrival order.
import { eq } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type Stripe from 'stripe';
import type { SubscriptionNotice } from '../../../emails/subscription';
import { stripeEvents } from '../../db/schema';
import { AppError } from '../../errors';
import { log } from '../../lib/log';
import { fromUnix } from '../../lib/time';
import type { Services } from '../../services';
import { LIVE_STATUSES } from './access';
import { markCheckoutStatement } from './checkouts';
import { callStripe, isMissingAtStripe } from './stripe-client';
import {
  notificationTargetStatement,
  upsertPaymentStatement,
  upsertSubscriptionStatement,
} from './subscription-sync';
import { cancelNow, refundLatestInvoice } from './termination';
import { noticeFor, parseWebhookEvent, subscriptionIdOf, type WebhookEvent } from './webhook-event';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

export async function verifyWebhook(
  s: Services,
  rawBody: string,
  signature: string | undefined,
): Promise<WebhookEvent> {
  const secret = s.config.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new AppError('FEATURE_NOT_CONFIGURED', 'Billing webhooks are not configured');
  if (!signature) throw new AppError('INVALID_SIGNATURE', 'Missing Stripe-Signature header');
  // Outside the try: a missing STRIPE_SECRET_KEY is a configuration problem (503), not a bad signature.
  s.stripe.client();
  let payload: unknown;
  try {
    payload = await s.stripe.verifyWebhook(rawBody, signature, secret);
  } catch {
    throw new AppError('INVALID_SIGNATURE', 'Stripe signature verification failed');
  }
  return parseWebhookEvent(payload, s.clock.now());
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
  const stripe = s.stripe.client();
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
      return refuseSubscription(s, 'duplicate', eventRow, subscription, checkoutWrites);
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
  // The subscription changed: this isolate's cached copy of it goes (others' within AUTH_CACHE_TTL_SECONDS).
  s.authCache.forget(row.user_id);
  // A closed account keeps nothing it paid for: a live subscription is refused, and a paid invoice of
  // one already cancelled (a refusal that failed half-way) is refunded on its redelivery.
  if (!row.is_active && (isLive(subscription) || (invoice?.amount_paid ?? 0) > 0)) {
    return refuseForClosedAccount(s, eventRow, subscription);
  }
  const candidate = noticeFor(event);
  const notice = STARTING.has(candidate) && !isLive(subscription) ? null : candidate;
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

const isLive = (subscription: Stripe.Subscription) =>
  (LIVE_STATUSES as readonly string[]).includes(subscription.status);

/** Notices that welcome a subscription, wrong for one already cancelled (a refused one, say). */
const STARTING = new Set<SubscriptionNotice | null>(['started', 'renewed']);

/**
 * A live subscription for a deactivated account (a Checkout paid while the account was closing) was
 * just mirrored and its event recorded: it is refused like a second one. Should Stripe fail, the event
 * id is taken back, so Stripe's retry of the event gets another go.
 */
async function refuseForClosedAccount(
  s: Services,
  eventRow: typeof stripeEvents.$inferInsert,
  subscription: Stripe.Subscription,
) {
  try {
    return await refuseSubscription(s, 'account_closed', eventRow, subscription, []);
  } catch (error) {
    await s.db.delete(stripeEvents).where(eq(stripeEvents.id, eventRow.id!));
    throw error;
  }
}

type Refusal = 'duplicate' | 'account_closed';

/**
 * A subscription that must not exist: a second live one (a user paid a second checkout; one live
 * subscription per user is a database rule) or one for a deactivated account. It is cancelled at once,
 * what was paid for it refunded, the refund recorded, and the user told.
 */
async function refuseSubscription(
  s: Services,
  why: Refusal,
  eventRow: typeof stripeEvents.$inferInsert,
  subscription: Stripe.Subscription,
  checkoutWrites: ReturnType<typeof checkoutWritesFor>,
) {
  log('warn', 'live subscription refused', { why, event_id: eventRow.id, subscription: subscription.id });
  const canceled = await cancelNow(s, subscription.id);
  const refund = await refundLatestInvoice(s, canceled);
  const now = s.clock.now();
  const invoiceId =
    typeof canceled.latest_invoice === 'string' ? canceled.latest_invoice : canceled.latest_invoice?.id;
  const invoice = invoiceId
    ? await callStripe('read the invoice', () => s.stripe.client().invoices.retrieve(invoiceId))
    : null;
  const recordRefund = invoice && refund ? upsertPaymentStatement(s.db, invoice, 'refunded', now) : null;
  const results = await s.db.batch([
    s.db.insert(stripeEvents).values(eventRow).onConflictDoNothing(),
    upsertSubscriptionStatement(s.db, canceled, now),
    ...checkoutWrites,
    notificationTargetStatement(s.db, canceled.id),
    ...(recordRefund ? [recordRefund] : []),
  ]);
  const target = results[2 + checkoutWrites.length] as Awaited<
    ReturnType<typeof notificationTargetStatement>
  >;
  const refundIsNew =
    recordRefund !== null && (results[results.length - 1] as { rowCount: number }).rowCount > 0;
  const row = target.rows[0];
  if (row) s.authCache.forget(row.user_id);
  // Told once: a later event of the same subscription finds the refund already recorded.
  if (row && refund && refundIsNew) {
    await s.sendEmail(row.email, {
      template: 'subscription',
      data: {
        kind: why === 'duplicate' ? 'duplicate_refunded' : 'closed_refunded',
        username: row.username,
        planName: row.plan_name,
        periodEnd: null,
        refund,
      },
    });
  }
  return 'ignored' as const;
}
