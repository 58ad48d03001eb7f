// The plan catalogue, read side: the rows, their public shape, and the per-isolate cache of active
// plans that plan writes (plans.ts) drop.
import { and, asc, eq } from 'drizzle-orm';
import { plans } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';

export type PlanRow = typeof plans.$inferSelect;
export type PlanTier = PlanRow['tier'];
export type BillingPeriod = PlanRow['billingPeriod'];

export const TIER_RANK: Record<PlanTier, number> = { free: 0, pro: 1, vip: 2 };

export function toPublicPlan(plan: PlanRow) {
  return {
    id: plan.id,
    code: plan.code,
    name: plan.name,
    description: plan.description,
    price_cents: plan.priceCents,
    currency: plan.currency,
    billing_period: plan.billingPeriod,
    tier: plan.tier,
    features: plan.features,
    is_active: plan.isActive,
  };
}

/**
 * The public catalogue is read on every pricing page but changes rarely: each isolate keeps it for
 * PLAN_CACHE_MS (per database), and a plan write in the same isolate drops it at once. Other isolates
 * see a change within PLAN_CACHE_MS.
 */
export const PLAN_CACHE_MS = 30_000;
const planCache = new Map<string, { rows: PlanRow[]; until: number }>();

export async function listActivePlans(s: Services): Promise<PlanRow[]> {
  const key = s.config.DATABASE_URL;
  const now = Date.now();
  const cached = planCache.get(key);
  if (cached && cached.until > now) return cached.rows;
  const rows = await s.db
    .select()
    .from(plans)
    .where(eq(plans.isActive, true))
    .orderBy(asc(plans.priceCents), asc(plans.code));
  planCache.set(key, { rows, until: now + PLAN_CACHE_MS });
  return rows;
}

/** After a plan changes: the catalog, and every cached subscription that carries a plan. */
export function forgetCachedPlans(s: Services) {
  planCache.delete(s.config.DATABASE_URL);
  s.authCache.forgetAll();
}

export async function getPlan(s: Services, id: string, { includeRetired = false } = {}): Promise<PlanRow> {
  const [plan] = await s.db.select().from(plans).where(eq(plans.id, id)).limit(1);
  if (!plan || (!plan.isActive && !includeRetired))
    throw new AppError('NOT_FOUND', 'No plan found for this id');
  return plan;
}

export async function getActivePlanByCode(s: Services, code: string): Promise<PlanRow> {
  const [plan] = await s.db
    .select()
    .from(plans)
    .where(and(eq(plans.code, code), eq(plans.isActive, true)))
    .limit(1);
  if (!plan) throw new AppError('NOT_FOUND', 'No active plan found for this code');
  if (!plan.stripePriceId) throw new AppError('NOT_FOUND', 'This plan cannot be subscribed to yet');
  return plan;
}
