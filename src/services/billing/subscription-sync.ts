// Mirrors Stripe objects into our tables with single statements that are safe to repeat and to run in
// any order: a subscription row only moves forward in observation time, a paid invoice never goes back
// to failed, and a refunded one stays refunded. User and plan come from the subscription's metadata, else from customer and price.
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { payments, plans, subscriptions, users } from '../../db/schema';
import { idOf } from '../../lib/stripe-ids';
import { fromUnix } from '../../lib/time';
import type { WebhookInvoice } from './webhook-event';

const Uuid = z.uuid();
const uuidOrNull = (value: unknown) => (Uuid.safeParse(value).success ? (value as string) : null);

/** What our row records of a Stripe subscription observed at `observedAt` (and who and what it is for). */
export function subscriptionFacts(sub: Stripe.Subscription, observedAt: Date) {
  const item = sub.items.data[0];
  return {
    status: sub.status,
    stripeSubscriptionId: sub.id,
    customerId: idOf(sub.customer),
    metaUser: uuidOrNull(sub.metadata?.user_id),
    metaPlan: uuidOrNull(sub.metadata?.plan_id),
    priceId: item?.price.id ?? null,
    currentPeriodStart: fromUnix(item?.current_period_start),
    currentPeriodEnd: fromUnix(item?.current_period_end),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    canceledAt: fromUnix(sub.canceled_at),
    endedAt: fromUnix(sub.ended_at),
    pastDueSince: sub.status === 'past_due' ? observedAt : null,
  };
}

/** The upsert for a subscription as Stripe shows it now (`observedAt`). */
export function upsertSubscriptionStatement(db: Database, sub: Stripe.Subscription, observedAt: Date) {
  const f = subscriptionFacts(sub, observedAt);
  return db.execute(sql`
    insert into ${subscriptions} (
      user_id, plan_id, status, stripe_subscription_id, stripe_customer_id, current_period_start,
      current_period_end, cancel_at_period_end, canceled_at, ended_at, past_due_since, stripe_event_at,
      created_at, updated_at)
    select u.id, p.id, ${f.status}, ${f.stripeSubscriptionId}, ${f.customerId}, ${f.currentPeriodStart},
      ${f.currentPeriodEnd}, ${f.cancelAtPeriodEnd}, ${f.canceledAt}, ${f.endedAt}, ${f.pastDueSince},
      ${observedAt}, ${observedAt}, ${observedAt}
    from ${users} u, ${plans} p
    where u.id = coalesce(${f.metaUser}::uuid, (select id from ${users} where stripe_customer_id = ${f.customerId}))
      and p.id = coalesce((select id from ${plans} where stripe_price_id = ${f.priceId}), ${f.metaPlan}::uuid)
    on conflict (stripe_subscription_id) do update set
      plan_id = excluded.plan_id,
      status = excluded.status,
      current_period_start = excluded.current_period_start,
      current_period_end = excluded.current_period_end,
      cancel_at_period_end = excluded.cancel_at_period_end,
      canceled_at = excluded.canceled_at,
      ended_at = excluded.ended_at,
      past_due_since = case when excluded.status = 'past_due'
        then coalesce(${subscriptions.pastDueSince}, excluded.past_due_since) else null end,
      stripe_event_at = excluded.stripe_event_at,
      updated_at = excluded.updated_at
    where ${subscriptions.stripeEventAt} <= excluded.stripe_event_at`);
}

export type PaymentOutcome = 'succeeded' | 'failed' | 'refunded';

/** Records an invoice's payment once per invoice; a later event for it updates, never duplicates. */
export function upsertPaymentStatement(
  db: Database,
  invoice: WebhookInvoice,
  outcome: PaymentOutcome,
  now: Date,
) {
  const subscriptionId = idOf(invoice.parent?.subscription_details?.subscription);
  const customerId = idOf(invoice.customer);
  const amount = outcome === 'failed' ? invoice.amount_due : invoice.amount_paid;
  return db.execute(sql`
    insert into ${payments} (user_id, subscription_id, stripe_invoice_id, amount_cents, currency, status, created_at, updated_at)
    select u.id, (select id from ${subscriptions} where stripe_subscription_id = ${subscriptionId}), ${invoice.id},
      ${amount}, ${invoice.currency}, ${outcome}, ${fromUnix(invoice.created) ?? now}, ${now}
    from ${users} u
    where u.id = coalesce(
      (select user_id from ${subscriptions} where stripe_subscription_id = ${subscriptionId}),
      (select id from ${users} where stripe_customer_id = ${customerId}))
    on conflict (stripe_invoice_id) do update set
      status = excluded.status, amount_cents = excluded.amount_cents, updated_at = excluded.updated_at
    where ${payments.status} <> 'refunded' and (${payments.status} <> 'succeeded' or excluded.status = 'refunded')`);
}

/** Who to tell about a subscription, read in the same batch as the writes. */
export function notificationTargetStatement(db: Database, stripeSubscriptionId: string) {
  return db.execute<{
    user_id: string;
    email: string;
    username: string;
    plan_name: string;
    current_period_end: string | null;
    is_active: boolean;
  }>(sql`
    select u.id as user_id, u.email, u.username, u.is_active, p.name as plan_name, s.current_period_end::text
    from ${subscriptions} s join ${users} u on u.id = s.user_id join ${plans} p on p.id = s.plan_id
    where s.stripe_subscription_id = ${stripeSubscriptionId}`);
}
