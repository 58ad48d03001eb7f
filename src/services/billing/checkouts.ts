// Stripe Checkout for a new subscription. A user has at most one open Checkout (a database rule): asking
// again for the same plan returns it, asking for another plan expires it at Stripe first, so two open
// Checkouts can never both be paid.
import { and, eq, sql } from 'drizzle-orm';
import { checkouts, users } from '../../db/schema';
import { AppError } from '../../errors';
import { DAY_MS, fromUnix } from '../../lib/time';
import type { Services } from '../../services';
import type { UserRow } from '../auth/users';
import { LIVE_STATUSES } from './access';
import { getActivePlanByCode } from './plan-catalog';
import { isInvalidRequest } from './stripe-api';
import { callStripe, idempotencyKey, stripeFailure } from './stripe-client';
import { currentSubscriptionQuery } from './subscriptions';

export type CheckoutRow = typeof checkouts.$inferSelect;

/** A double click within this window gets the same Checkout Session back from Stripe. */
const CHECKOUT_IDEMPOTENCY_WINDOW_MS = 10 * 60 * 1000;

export function openCheckoutsQuery(db: Services['db'], userId: string) {
  return db
    .select()
    .from(checkouts)
    .where(and(eq(checkouts.userId, userId), eq(checkouts.status, 'open')));
}

export type ExpiryOutcome = { paid: false } | { paid: true; subscriptionId: string | null };

/**
 * Makes a Checkout unpayable. Stripe refuses to expire one that is no longer open: then it was paid or
 * expired meanwhile, and the session itself says which (and, if paid, which subscription it started).
 */
export async function expireCheckout(s: Services, stripeSessionId: string): Promise<ExpiryOutcome> {
  const stripe = s.stripe.client();
  try {
    await stripe.checkout.sessions.expire(stripeSessionId);
    return { paid: false };
  } catch (error) {
    if (!isInvalidRequest(error)) {
      throw stripeFailure('expire the checkout', error);
    }
  }
  const session = await callStripe('read the checkout', () =>
    stripe.checkout.sessions.retrieve(stripeSessionId),
  );
  if (session.status !== 'complete') return { paid: false };
  const subscription = session.subscription;
  return {
    paid: true,
    subscriptionId: typeof subscription === 'string' ? subscription : (subscription?.id ?? null),
  };
}

export function markCheckoutStatement(
  db: Services['db'],
  stripeSessionId: string,
  status: 'complete' | 'expired',
) {
  return db
    .update(checkouts)
    .set({ status })
    .where(and(eq(checkouts.stripeCheckoutSessionId, stripeSessionId), eq(checkouts.status, 'open')))
    .returning({ id: checkouts.id });
}

/** The user's Stripe customer, created once: the idempotency key and a conditional update make a race harmless. */
async function ensureCustomer(s: Services, user: UserRow): Promise<string> {
  if (user.stripeCustomerId) return user.stripeCustomerId;
  const stripe = s.stripe.client();
  const key = await idempotencyKey('customer', user.id);
  const customer = await callStripe('create the customer', () =>
    stripe.customers.create(
      { email: user.email, name: user.username, metadata: { user_id: user.id } },
      { idempotencyKey: key },
    ),
  );
  const [stored] = await s.db
    .update(users)
    .set({ stripeCustomerId: customer.id, updatedAt: s.clock.now() })
    .where(and(eq(users.id, user.id), sql`${users.stripeCustomerId} is null`))
    .returning({ customer: users.stripeCustomerId });
  if (stored?.customer) return stored.customer;
  const [again] = await s.db
    .select({ customer: users.stripeCustomerId })
    .from(users)
    .where(eq(users.id, user.id));
  return again?.customer ?? customer.id;
}

const successUrl = (s: Services) =>
  s.config.BILLING_SUCCESS_URL ??
  `${s.config.FRONTEND_URL ?? s.config.APP_URL}/billing/success?session_id={CHECKOUT_SESSION_ID}`;

const cancelUrl = (s: Services) =>
  s.config.BILLING_CANCEL_URL ?? `${s.config.FRONTEND_URL ?? s.config.APP_URL}/billing/cancel`;

/**
 * Clears the way for a new Checkout: the open one for the same plan is returned as it is; one for another
 * plan is expired at Stripe, unless it was paid meanwhile (then the user has a subscription: 409).
 */
async function settleOpenCheckout(s: Services, open: CheckoutRow, planId: string): Promise<string | null> {
  if (open.planId === planId && open.url && open.expiresAt > s.clock.now()) return open.url;
  const outcome = open.stripeCheckoutSessionId
    ? await expireCheckout(s, open.stripeCheckoutSessionId)
    : ({ paid: false } as const);
  await s.db
    .update(checkouts)
    .set({ status: outcome.paid ? 'complete' : 'expired' })
    .where(and(eq(checkouts.id, open.id), eq(checkouts.status, 'open')));
  if (outcome.paid) {
    throw new AppError(
      'SUBSCRIPTION_EXISTS',
      'Your previous checkout was just paid; your subscription is starting.',
    );
  }
  return null;
}

export async function subscribe(s: Services, user: UserRow, planCode: string): Promise<string> {
  const plan = await getActivePlanByCode(s, planCode);
  const [[existing], [open]] = await s.db.batch([
    currentSubscriptionQuery(s.db, user.id),
    openCheckoutsQuery(s.db, user.id),
  ]);
  if (existing && (LIVE_STATUSES as readonly string[]).includes(existing.subscription.status)) {
    throw new AppError('SUBSCRIPTION_EXISTS', 'User already has an active subscription.');
  }
  if (open) {
    const reused = await settleOpenCheckout(s, open, plan.id);
    if (reused) return reused;
  }
  const customer = await ensureCustomer(s, user);
  const now = s.clock.now();
  const stripe = s.stripe.client();
  // The checkout this one replaces is part of the key: A, then B, then A again is a new session.
  const key = await idempotencyKey(
    'checkout',
    user.id,
    plan.id,
    open?.id ?? null,
    Math.floor(now.getTime() / CHECKOUT_IDEMPOTENCY_WINDOW_MS),
  );
  const metadata = { user_id: user.id, plan_id: plan.id };
  const session = await callStripe('start the checkout', () =>
    stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        customer,
        client_reference_id: user.id,
        line_items: [{ price: plan.stripePriceId!, quantity: 1 }],
        success_url: successUrl(s),
        cancel_url: cancelUrl(s),
        metadata,
        subscription_data: { metadata },
      },
      { idempotencyKey: key },
    ),
  );
  if (!session.url) throw new AppError('PROVIDER_ERROR', 'Stripe returned a checkout session without a URL');
  // Stored only while the account is active: a Checkout must not outlive a deactivation it raced.
  const expiresAt = fromUnix(session.expires_at) ?? new Date(now.getTime() + DAY_MS);
  const { rows: inserted } = await s.db.execute<{ id: string }>(sql`
    insert into ${checkouts} (user_id, plan_id, stripe_checkout_session_id, url, created_at, expires_at)
    select id, ${plan.id}, ${session.id}, ${session.url}, ${now}, ${expiresAt} from ${users}
    where id = ${user.id} and is_active
    on conflict do nothing
    returning id`);
  if (inserted.length > 0) return session.url;
  // Not stored: this very session already is (a double click, replayed by the idempotency key), or the
  // account was closed meanwhile, or another Checkout was opened at the same moment. In the last two
  // cases this one must not stay payable.
  const [[stored], [account]] = await s.db.batch([
    s.db
      .select({ id: checkouts.id })
      .from(checkouts)
      .where(eq(checkouts.stripeCheckoutSessionId, session.id)),
    s.db.select({ isActive: users.isActive }).from(users).where(eq(users.id, user.id)),
  ]);
  if (stored) return session.url;
  await expireCheckout(s, session.id);
  if (!account?.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
  throw new AppError('CONFLICT', 'Another checkout was started at the same time; try again.');
}
