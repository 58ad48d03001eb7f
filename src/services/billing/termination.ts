// Ending billing outright, where the period end is too late: a subscription that must not exist (a second
// one, or one paid for an account being closed) is cancelled now and its paid invoice refunded; closing
// an account cancels its live subscription now and expires its open Checkout.
import type { BatchItem } from 'drizzle-orm/batch';
import type Stripe from 'stripe';
import { idOf } from '../../lib/stripe-ids';
import type { Services } from '../../services';
import { LIVE_STATUSES } from './access';
import { expireCheckout, markCheckoutStatement, openCheckoutsQuery } from './checkouts';
import { isInvalidRequest } from './stripe-api';
import { callStripe, stripeFailure } from './stripe-client';
import { upsertSubscriptionStatement } from './subscription-sync';
import { currentSubscriptionQuery } from './subscriptions';

/** Cancels at once, without proration credit; a subscription that is already cancelled is read back. */
export async function cancelNow(s: Services, stripeSubscriptionId: string): Promise<Stripe.Subscription> {
  const stripe = s.stripe.client();
  let refusal: unknown;
  try {
    return await stripe.subscriptions.cancel(
      stripeSubscriptionId,
      { prorate: false },
      { idempotencyKey: `cancel-now:${stripeSubscriptionId}` },
    );
  } catch (error) {
    if (!isInvalidRequest(error)) {
      throw stripeFailure('cancel the subscription', error);
    }
    refusal = error;
  }
  const subscription = await callStripe('read the subscription', () =>
    stripe.subscriptions.retrieve(stripeSubscriptionId),
  );
  if (subscription.status !== 'canceled') throw stripeFailure('cancel the subscription', refusal);
  return subscription;
}

export interface Refund {
  amountCents: number;
  currency: string;
}

/**
 * Refunds what was paid on the subscription's latest invoice (one refund per payment, each keyed so a
 * retry never refunds twice). Null when nothing was paid.
 */
export async function refundLatestInvoice(
  s: Services,
  subscription: Stripe.Subscription,
): Promise<Refund | null> {
  const invoiceId = idOf(subscription.latest_invoice);
  if (!invoiceId) return null;
  const stripe = s.stripe.client();
  const payments = await callStripe('read the invoice payments', () =>
    stripe.invoicePayments.list({ invoice: invoiceId, limit: 10 }),
  );
  const refunds: Refund[] = [];
  for (const payment of payments.data) {
    const paymentIntent = idOf(payment.payment.payment_intent);
    if (payment.status !== 'paid' || !paymentIntent) continue;
    refunds.push(
      await refundPayment(s, paymentIntent, subscription.id, payment.amount_paid ?? 0, payment.currency),
    );
  }
  const [first] = refunds;
  if (!first) return null;
  return {
    amountCents: refunds.reduce((sum, refund) => sum + refund.amountCents, 0),
    currency: first.currency,
  };
}

/** One payment refunded in full; one Stripe says it already refunded counts as done (a retry). */
async function refundPayment(
  s: Services,
  paymentIntent: string,
  subscriptionId: string,
  amountCents: number,
  currency: string,
): Promise<Refund> {
  try {
    const refund = await s.stripe
      .client()
      .refunds.create(
        { payment_intent: paymentIntent, metadata: { subscription: subscriptionId } },
        { idempotencyKey: `refund:${paymentIntent}` },
      );
    return { amountCents: refund.amount, currency: refund.currency };
  } catch (error) {
    if (isInvalidRequest(error, 'charge_already_refunded')) {
      return { amountCents, currency };
    }
    throw stripeFailure('refund the payment', error);
  }
}

export interface ClosedBilling {
  /** Database writes to apply with the account's own change, in the same batch. */
  writes: BatchItem<'pg'>[];
  /** The plan whose subscription ended, for the notice. */
  endedPlan: string | null;
}

/**
 * What closing an account does to its billing, Stripe first: the live subscription is cancelled now (no
 * further charge; the current period is not refunded), the open Checkout is expired, and a Checkout
 * that turns out to have been paid meanwhile is cancelled and refunded in full.
 */
export async function closeBilling(s: Services, userId: string): Promise<ClosedBilling> {
  const [[current], open] = await s.db.batch([
    currentSubscriptionQuery(s.db, userId),
    openCheckoutsQuery(s.db, userId),
  ]);
  const now = s.clock.now();
  const writes: BatchItem<'pg'>[] = [];
  let endedPlan: string | null = null;
  if (current && (LIVE_STATUSES as readonly string[]).includes(current.subscription.status)) {
    const canceled = await cancelNow(s, current.subscription.stripeSubscriptionId);
    writes.push(upsertSubscriptionStatement(s.db, canceled, now));
    endedPlan = current.plan.name;
  }
  for (const checkout of open) {
    if (!checkout.stripeCheckoutSessionId) continue;
    const outcome = await expireCheckout(s, checkout.stripeCheckoutSessionId);
    writes.push(
      markCheckoutStatement(s.db, checkout.stripeCheckoutSessionId, outcome.paid ? 'complete' : 'expired'),
    );
    if (outcome.paid && outcome.subscriptionId) {
      const canceled = await cancelNow(s, outcome.subscriptionId);
      await refundLatestInvoice(s, canceled);
      writes.push(upsertSubscriptionStatement(s.db, canceled, now));
    }
  }
  return { writes, endedPlan };
}
