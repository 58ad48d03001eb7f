// The access rule, in one place: who may use paid features, and until when.
import type { plans, subscriptions } from '../../db/schema';
import { DAY_MS } from '../../lib/time';

type SubscriptionRow = typeof subscriptions.$inferSelect;
type PlanRow = typeof plans.$inferSelect;

/** Statuses in which a subscription still exists at Stripe; at most one per user (a unique index). */
export const LIVE_STATUSES = ['incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused'] as const;

export interface Access {
  hasAccess: boolean;
  accessUntil: Date | null;
}

/**
 * Access while active or trialing and the paid period has not ended (also when set to cancel at period
 * end); past_due keeps access for `graceDays` after the payment first failed, while Stripe retries.
 */
export function accessOf(
  sub: Pick<SubscriptionRow, 'status' | 'currentPeriodEnd' | 'pastDueSince'> | null,
  now: Date,
  graceDays: number,
): Access {
  if (!sub) return { hasAccess: false, accessUntil: null };
  if (sub.status === 'active' || sub.status === 'trialing') {
    const until = sub.currentPeriodEnd;
    return { hasAccess: until !== null && until > now, accessUntil: until };
  }
  if (sub.status === 'past_due') {
    const until = new Date((sub.pastDueSince ?? now).getTime() + graceDays * DAY_MS);
    return { hasAccess: until > now, accessUntil: until };
  }
  return { hasAccess: false, accessUntil: null };
}

/** What a subscription unlocks now: the answer of GET /billing/entitlements and the token's claim. */
export interface PublicEntitlement {
  plan_code: string;
  tier: PlanRow['tier'];
  features: string[];
  access_until: string | null;
}

/** The entitlement of the user's current subscription (with its plan), or null without access now. */
export function entitlementOf(
  current: { subscription: SubscriptionRow; plan: Pick<PlanRow, 'code' | 'tier' | 'features'> } | null,
  now: Date,
  graceDays: number,
): PublicEntitlement | null {
  const access = accessOf(current?.subscription ?? null, now, graceDays);
  if (!current || !access.hasAccess) return null;
  return {
    plan_code: current.plan.code,
    tier: current.plan.tier,
    features: current.plan.features,
    access_until: access.accessUntil?.toISOString() ?? null,
  };
}
