// Guards for billing routes: admins only (plan management), and the subscription access rule.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { isAdmin } from '../services/auth/users';
import { entitlementOf } from '../services/billing/access';
import { type PlanTier, TIER_RANK } from '../services/billing/plan-catalog';
import { currentSubscription, currentSubscriptionQuery } from '../services/billing/subscriptions';
import { authOf, definePreload } from './auth';

/** Pair with requireSubscription(): reads the subscription in the session check's round trip. */
export const preloadSubscription = definePreload(
  (c, userId) => currentSubscriptionQuery(c.var.services.db, userId),
  { cacheAs: 'subscription' },
);

/** After requireAuth(): verified accounts listed in ADMIN_EMAILS (or flagged is_admin). */
export function requireAdmin() {
  return createMiddleware<AppEnv>(async function requireAdminMiddleware(c, next) {
    if (!isAdmin(authOf(c).user, c.var.services.config.ADMIN_EMAILS)) {
      throw new AppError('ADMIN_REQUIRED', 'User does not have admin privileges');
    }
    await next();
  });
}

/**
 * After requireAuth(): lets the request through only with a subscription that grants access now and
 * whose plan is at least `minTier`. Exported for app code; the entitlement is on `c.var.entitlement`.
 */
export function requireSubscription({ minTier = 'free' }: { minTier?: PlanTier } = {}) {
  return createMiddleware<AppEnv>(async function requireSubscriptionMiddleware(c, next) {
    const { services } = c.var;
    // Read with the session check when the route asked for preloadSubscription; else read it now.
    const preloaded = preloadSubscription.readFor(c);
    const current = preloaded
      ? (preloaded[0] ?? null)
      : await currentSubscription(services, authOf(c).user.id);
    const granted = entitlementOf(current, services.clock.now(), services.config.PAST_DUE_GRACE_DAYS);
    if (!granted) throw new AppError('SUBSCRIPTION_REQUIRED', 'An active subscription is required');
    if (TIER_RANK[granted.tier] < TIER_RANK[minTier]) {
      throw new AppError('SUBSCRIPTION_REQUIRED', `The ${minTier} tier or higher is required`);
    }
    c.set('entitlement', granted);
    await next();
  });
}
