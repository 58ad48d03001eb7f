// The signed-in user's subscription: plan change with proration, cancel at period end, resume, the
// customer portal, and the read side (current subscription, payments). Checkout is in checkouts.ts.
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { payments, plans, subscriptions } from '../../db/schema';
import { AppError } from '../../errors';
import { fromUnix } from '../../lib/time';
import type { Services } from '../../services';
import type { UserRow } from '../auth/users';
import { type Access, accessOf, LIVE_STATUSES } from './access';
import { getActivePlanByCode, type PlanRow, toPublicPlan } from './plan-catalog';
import { callStripe, idempotencyKey } from './stripe-client';
import { upsertSubscriptionStatement } from './subscription-sync';

type SubscriptionRow = typeof subscriptions.$inferSelect;

/**
 * The user's live subscription if any, else the most recent one, with its plan: one query. `userId` may
 * be an expression (the owner of a session, for a refresh that knows only the session).
 */
export function currentSubscriptionQuery(db: Services['db'], userId: string | SQL) {
  return db
    .select({ subscription: subscriptions, plan: plans })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(eq(subscriptions.userId, userId))
    .orderBy(desc(inArray(subscriptions.status, [...LIVE_STATUSES])), desc(subscriptions.createdAt))
    .limit(1);
}

export type CurrentSubscription = Awaited<ReturnType<typeof currentSubscriptionQuery>>[number];

export async function currentSubscription(s: Services, userId: string): Promise<CurrentSubscription | null> {
  const [row] = await currentSubscriptionQuery(s.db, userId);
  return row ?? null;
}

export function toPublicSubscription(sub: SubscriptionRow, plan: PlanRow, access: Access) {
  return {
    id: sub.id,
    status: sub.status,
    plan: toPublicPlan(plan),
    current_period_start: sub.currentPeriodStart?.toISOString() ?? null,
    current_period_end: sub.currentPeriodEnd?.toISOString() ?? null,
    cancel_at_period_end: sub.cancelAtPeriodEnd,
    canceled_at: sub.canceledAt?.toISOString() ?? null,
    has_access: access.hasAccess,
    access_until: access.accessUntil?.toISOString() ?? null,
  };
}

async function liveSubscription(s: Services, userId: string) {
  const [row] = await s.db
    .select({ subscription: subscriptions, plan: plans })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.status, [...LIVE_STATUSES])))
    .limit(1);
  if (!row) throw new AppError('NOT_FOUND', 'No active subscription found for this user.');
  return row;
}

async function stripeItemId(s: Services, stripeSubscriptionId: string) {
  const stripe = s.stripe.client();
  const sub = await callStripe('read the subscription', () =>
    stripe.subscriptions.retrieve(stripeSubscriptionId),
  );
  const item = sub.items.data[0];
  if (!item) throw new AppError('PROVIDER_ERROR', 'The Stripe subscription has no item');
  return item.id;
}

async function targetPlanFor(s: Services, userId: string, planCode: string) {
  const { subscription, plan } = await liveSubscription(s, userId);
  const target = await getActivePlanByCode(s, planCode);
  if (target.id === plan.id) throw new AppError('SUBSCRIPTION_STATE', 'You are already on this plan.');
  return { subscription, target };
}

export async function previewUpgrade(s: Services, user: UserRow, planCode: string) {
  const { subscription, target } = await targetPlanFor(s, user.id, planCode);
  const itemId = await stripeItemId(s, subscription.stripeSubscriptionId);
  const stripe = s.stripe.client();
  const prorationDate = Math.floor(s.clock.now().getTime() / 1000);
  const preview = await callStripe('preview the change', () =>
    stripe.invoices.createPreview({
      customer: subscription.stripeCustomerId,
      subscription: subscription.stripeSubscriptionId,
      subscription_details: {
        items: [{ id: itemId, price: target.stripePriceId! }],
        proration_behavior: 'always_invoice',
        proration_date: prorationDate,
      },
    }),
  );
  return {
    plan: toPublicPlan(target),
    amount_due_cents: preview.amount_due,
    currency: preview.currency,
    proration_date: fromUnix(prorationDate)!.toISOString(),
    lines: preview.lines.data.map((line) => ({ description: line.description, amount_cents: line.amount })),
  };
}

/** Applies the Stripe subscription returned by a change right away; its webhook will confirm it later. */
async function applyNow(
  s: Services,
  userId: string,
  stripeSubscription: Parameters<typeof upsertSubscriptionStatement>[1],
) {
  await upsertSubscriptionStatement(s.db, stripeSubscription, s.clock.now());
  const current = await currentSubscription(s, userId);
  if (!current) throw new AppError('NOT_FOUND', 'No active subscription found for this user.');
  return toPublicSubscription(
    current.subscription,
    current.plan,
    accessOf(current.subscription, s.clock.now(), s.config.PAST_DUE_GRACE_DAYS),
  );
}

export async function changePlan(s: Services, user: UserRow, planCode: string) {
  const { subscription, target } = await targetPlanFor(s, user.id, planCode);
  const itemId = await stripeItemId(s, subscription.stripeSubscriptionId);
  const stripe = s.stripe.client();
  const key = await idempotencyKey(
    'change-plan',
    subscription.id,
    target.id,
    subscription.updatedAt.getTime(),
  );
  const updated = await callStripe('change the plan', () =>
    stripe.subscriptions.update(
      subscription.stripeSubscriptionId,
      {
        items: [{ id: itemId, price: target.stripePriceId! }],
        // The difference is charged now, and the new plan applies only once that payment succeeds: an
        // upgrade followed by a cancellation must not ride the higher tier on a proration never billed.
        proration_behavior: 'always_invoice',
        payment_behavior: 'pending_if_incomplete',
        metadata: { user_id: user.id, plan_id: target.id },
      },
      { idempotencyKey: key },
    ),
  );
  return applyNow(s, user.id, updated);
}

export async function setCancelAtPeriodEnd(s: Services, user: UserRow, cancel: boolean) {
  const { subscription } = await liveSubscription(s, user.id);
  if (subscription.cancelAtPeriodEnd === cancel) {
    throw new AppError(
      'SUBSCRIPTION_STATE',
      cancel
        ? 'Subscription is already set to cancel at the end of the billing period.'
        : 'Subscription is not set to cancel.',
    );
  }
  if (!cancel && subscription.currentPeriodEnd && subscription.currentPeriodEnd <= s.clock.now()) {
    throw new AppError('SUBSCRIPTION_STATE', 'The billing period has already ended; subscribe again.');
  }
  const stripe = s.stripe.client();
  const key = await idempotencyKey(
    'cancel-at-period-end',
    subscription.id,
    cancel,
    subscription.updatedAt.getTime(),
  );
  const updated = await callStripe(cancel ? 'cancel the subscription' : 'resume the subscription', () =>
    stripe.subscriptions.update(
      subscription.stripeSubscriptionId,
      { cancel_at_period_end: cancel },
      { idempotencyKey: key },
    ),
  );
  return applyNow(s, user.id, updated);
}

export async function portalUrl(s: Services, user: UserRow): Promise<string> {
  if (!user.stripeCustomerId) throw new AppError('NOT_FOUND', 'No billing account yet; subscribe first.');
  const stripe = s.stripe.client();
  const session = await callStripe('open the billing portal', () =>
    stripe.billingPortal.sessions.create({
      customer: user.stripeCustomerId!,
      return_url: `${s.config.FRONTEND_URL ?? s.config.APP_URL}/billing`,
    }),
  );
  return session.url;
}

interface PaymentPageRow extends Record<string, unknown> {
  total: string;
  id: string | null;
  amount_cents: number | null;
  currency: string | null;
  status: (typeof payments.$inferSelect)['status'] | null;
  invoice_id: string | null;
  subscription_id: string | null;
  created_at: string | null;
}

/**
 * One page of the user's payments and their total, in one query: the total comes from a one-row CTE
 * joined to the page, so a page past the end still says how many there are.
 */
export function paymentsPageQuery(
  db: Services['db'],
  userId: string,
  { limit, offset }: { limit: number; offset: number },
) {
  return db.execute<PaymentPageRow>(sql`
    with counted as (select count(*) as total from ${payments} where user_id = ${userId})
    select counted.total, page.id, page.amount_cents, page.currency, page.status, page.stripe_invoice_id as invoice_id,
      page.subscription_id, to_char(page.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
    from counted left join lateral (
      select * from ${payments} where user_id = ${userId}
      order by created_at desc, id desc limit ${limit} offset ${offset}
    ) page on true`);
}

export function toPaymentsPage(rows: PaymentPageRow[], { limit, offset }: { limit: number; offset: number }) {
  const total = Number(rows[0]?.total ?? 0);
  const data = rows
    .filter((row) => row.id !== null)
    .map((row) => ({
      id: row.id!,
      amount_cents: row.amount_cents!,
      currency: row.currency!,
      status: row.status!,
      invoice_id: row.invoice_id!,
      subscription_id: row.subscription_id,
      created_at: row.created_at!,
    }));
  return { data, total, limit, offset, has_more: offset + data.length < total };
}
