// Plans, subscriptions, checkouts and payments, mirrored from Stripe.
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from './users';

export const billingPeriod = pgEnum('billing_period', ['monthly', 'yearly']);
// Declaration order is rank order: free < pro < vip, so SQL can compare tiers directly.
export const planTier = pgEnum('plan_tier', ['free', 'pro', 'vip']);

export const plans = pgTable(
  'plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Unique across active and retired plans, so a retired code can never be reused by mistake.
    code: text('code').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull().default('usd'),
    billingPeriod: billingPeriod('billing_period').notNull(),
    tier: planTier('tier').notNull().default('free'),
    features: jsonb('features').$type<string[]>().notNull().default([]),
    isActive: boolean('is_active').notNull().default(true),
    stripeProductId: text('stripe_product_id'),
    stripePriceId: text('stripe_price_id'),
    // A short lease held while a plan write talks to Stripe, so two admin edits cannot interleave.
    writeLockedUntil: timestamp('write_locked_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('plans_code_key').on(t.code),
    uniqueIndex('plans_stripe_price_id_key').on(t.stripePriceId),
    check('plans_price_cents_check', sql`${t.priceCents} >= 0`),
  ],
);

export const subscriptionStatus = pgEnum('subscription_status', [
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
  'canceled',
]);

export const subscriptions = pgTable(
  'subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    status: subscriptionStatus('status').notNull(),
    stripeSubscriptionId: text('stripe_subscription_id').notNull(),
    stripeCustomerId: text('stripe_customer_id').notNull(),
    currentPeriodStart: timestamp('current_period_start', { withTimezone: true }),
    currentPeriodEnd: timestamp('current_period_end', { withTimezone: true }),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    // When the past_due state began; access continues for the configured grace period after it.
    pastDueSince: timestamp('past_due_since', { withTimezone: true }),
    // Time of the newest Stripe event applied to this row: older events never overwrite newer state.
    stripeEventAt: timestamp('stripe_event_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('subscriptions_stripe_subscription_id_key').on(t.stripeSubscriptionId),
    // At most one live subscription per user, enforced by the database rather than by a read-then-write.
    uniqueIndex('subscriptions_one_live_per_user_key')
      .on(t.userId)
      .where(sql`${t.status} in ('incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused')`),
    index('subscriptions_user_id_idx').on(t.userId),
    index('subscriptions_period_end_idx').on(t.currentPeriodEnd),
    // The hourly sweep's second query: past_due subscriptions whose grace period is over.
    index('subscriptions_past_due_since_idx').on(t.pastDueSince).where(sql`${t.status} = 'past_due'`),
  ],
);

export const checkoutStatus = pgEnum('checkout_status', ['open', 'complete', 'expired']);

export const checkouts = pgTable(
  'checkouts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    planId: uuid('plan_id')
      .notNull()
      .references(() => plans.id, { onDelete: 'restrict' }),
    stripeCheckoutSessionId: text('stripe_checkout_session_id'),
    url: text('url'),
    status: checkoutStatus('status').notNull().default('open'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('checkouts_stripe_session_id_key').on(t.stripeCheckoutSessionId),
    // At most one open Checkout per user: two open ones could both be paid.
    uniqueIndex('checkouts_one_open_per_user_key').on(t.userId).where(sql`${t.status} = 'open'`),
    index('checkouts_user_id_idx').on(t.userId),
  ],
);

export const paymentStatus = pgEnum('payment_status', ['succeeded', 'failed', 'pending', 'refunded']);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    subscriptionId: uuid('subscription_id').references(() => subscriptions.id, { onDelete: 'set null' }),
    stripeInvoiceId: text('stripe_invoice_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull(),
    status: paymentStatus('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One row per invoice: a redelivered invoice event updates, never duplicates.
    uniqueIndex('payments_stripe_invoice_id_key').on(t.stripeInvoiceId),
    index('payments_user_created_idx').on(t.userId, t.createdAt),
  ],
);

export const stripeEvents = pgTable(
  'stripe_events',
  {
    // Stripe's event id: its uniqueness is what makes a redelivery a no-op.
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    stripeCreatedAt: timestamp('stripe_created_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('stripe_events_received_at_idx').on(t.receivedAt)],
);
