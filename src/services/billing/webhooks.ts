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
import { callStripe, fromUnix, stripeClient, webhookCrypto } from './stripe-client';
import {
  notificationTargetStatement,
  upsertPaymentStatement,
  upsertSubscriptionStatement,
} from './subscription-sync';
import { cancelNow, refundLatestInvoice } from './termination';

export const HANDLED_EVENTS = [
  'checkout.session.completed',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
] as const;

type HandledEvent = (typeof HANDLED_EVENTS)[number];
export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

export async function verifyWebhook(
  s: Services,
  rawBody: string,
  signature: string | undefined,
): Promise<Stripe.Event> {
  const secret = s.config.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new AppError('FEATURE_NOT_CONFIGURED', 'Billing webhooks are not configured');
  if (!signature) throw new AppError('INVALID_SIGNATURE', 'Missing Stripe-Signature header');
  try {
    // The default 300 s tolerance refuses a replay of an old, validly signed delivery.
    return await stripeClient(s.config).webhooks.constructEventAsync(
      rawBody,
      signature,
      secret,
      undefined,
      webhookCrypto,
    );
  } catch {
    throw new AppError('INVALID_SIGNATURE', 'Stripe signature verification failed');
  }
}

const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

function subscriptionIdOf(event: Stripe.Event): string | null {
  const object = event.data.object as unknown as Record<string, unknown>;
  if (event.type.startsWith('customer.subscription.')) return object.id as string;
  if (event.type === 'checkout.session.completed') return idOf(object.subscription as string | null);
  const invoice = event.data.object as Stripe.Invoice;
  return idOf(invoice.parent?.subscription_details?.subscription);
}

function noticeFor(event: Stripe.Event): SubscriptionNotice | null {
  switch (event.type as HandledEvent) {
    case 'invoice.paid': {
      const reason = (event.data.object as Stripe.Invoice).billing_reason;
      return reason === 'subscription_create'
        ? 'started'
        : reason === 'subscription_cycle'
          ? 'renewed'
          : null;
    }
    case 'invoice.payment_failed':
      return 'payment_failed';
    case 'customer.subscription.deleted':
      return 'ended';
    case 'customer.subscription.updated': {
      const previous = (event.data.previous_attributes ?? {}) as Partial<Stripe.Subscription>;
      const sub = event.data.object as Stripe.Subscription;
      if (previous.cancel_at_period_end === false && sub.cancel_at_period_end) return 'cancel_scheduled';
      // Items also change at every renewal (their period dates): only a different price is a plan change.
      const before = previous.items?.data?.[0]?.price?.id;
      return before && before !== sub.items.data[0]?.price.id ? 'plan_changed' : null;
    }
    default:
      return null;
  }
}

/** A completed or expired Checkout is no longer open: the one-open-checkout rule frees the user. */
function checkoutWritesFor(s: Services, event: Stripe.Event) {
  if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.expired') return [];
  const sessionId = (event.data.object as Stripe.Checkout.Session).id;
  const status = event.type === 'checkout.session.completed' ? 'complete' : 'expired';
  return [markCheckoutStatement(s.db, sessionId, status)];
}

function constraintOf(error: unknown): string | undefined {
  const cause = error instanceof DrizzleQueryError ? error.cause : error;
  return (cause as { constraint?: string } | undefined)?.constraint;
}

export async function handleWebhookEvent(s: Services, event: Stripe.Event): Promise<WebhookOutcome> {
  const now = s.clock.now();
  const eventRow = {
    id: event.id,
    type: event.type,
    stripeCreatedAt: fromUnix(event.created) ?? now,
    receivedAt: now,
  };
  const subscriptionId = (HANDLED_EVENTS as readonly string[]).includes(event.type)
    ? subscriptionIdOf(event)
    : null;
  const checkoutWrites = checkoutWritesFor(s, event);
  if (!subscriptionId) {
    const [inserted] = await s.db.batch([
      s.db.insert(stripeEvents).values(eventRow).onConflictDoNothing().returning({ id: stripeEvents.id }),
      ...checkoutWrites,
    ]);
    if (inserted.length === 0) return 'duplicate';
    return checkoutWrites.length > 0 ? 'applied' : 'ignored';
  }
  // The truth now, whatever order the events arrive in; a Stripe outage makes Stripe retry (5xx).
  const stripe = stripeClient(s.config);
  const subscription = await callStripe('read the subscription', () =>
    stripe.subscriptions.retrieve(subscriptionId),
  );
  const invoice = event.type.startsWith('invoice.') ? (event.data.object as Stripe.Invoice) : null;
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
