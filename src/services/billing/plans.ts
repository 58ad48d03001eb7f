// Plans and their Stripe product and price. Stripe is written first (every write with an idempotency
// key) and the database last, so a Stripe failure leaves no half-written plan; a price change creates a
// new price and archives the old one, because Stripe prices are immutable.
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { plans } from '../../db/schema';
import { AppError } from '../../errors';
import { log } from '../../lib/log';
import { describeError } from '../../lib/log-error';
import type { Services } from '../../services';
import { type BillingPeriod, forgetCachedPlans, getPlan, type PlanRow, type PlanTier } from './plan-catalog';
import { callStripe, idempotencyKey } from './stripe-client';

export interface PlanInput {
  code: string;
  name: string;
  description?: string | null | undefined;
  price_cents: number;
  currency: string;
  billing_period: BillingPeriod;
  tier: PlanTier;
  features: string[];
}

export type PlanPatch = Partial<Omit<PlanInput, 'code'>> & { is_active?: boolean | undefined };

const interval = (period: BillingPeriod) => (period === 'yearly' ? 'year' : 'month');

/**
 * `version` names the plan state this price is for (creation, or the plan's updatedAt): returning to an
 * earlier amount later must create a new price, not replay the old (archived) one.
 */
async function createPrice(
  s: Services,
  productId: string,
  planCode: string,
  input: Pick<PlanInput, 'price_cents' | 'currency' | 'billing_period'>,
  version: string,
) {
  const stripe = s.stripe.client();
  const key = await idempotencyKey(
    'price',
    productId,
    input.price_cents,
    input.currency,
    input.billing_period,
    version,
  );
  return callStripe('create the price', () =>
    stripe.prices.create(
      {
        product: productId,
        unit_amount: input.price_cents,
        currency: input.currency,
        recurring: { interval: interval(input.billing_period) },
        metadata: { plan_code: planCode },
      },
      { idempotencyKey: key },
    ),
  );
}

/** Archives a Stripe object we no longer want, after the fact; a failure here is logged, not fatal. */
async function archiveQuietly(what: string, work: () => Promise<unknown>) {
  try {
    await work();
  } catch (error) {
    log('warn', 'stripe archive failed', {
      error: describeError(error, { dependency: 'stripe', operation: `archive ${what}` }),
    });
  }
}

export async function createPlan(s: Services, input: PlanInput): Promise<PlanRow> {
  const [taken] = await s.db.select({ id: plans.id }).from(plans).where(eq(plans.code, input.code)).limit(1);
  if (taken) throw new AppError('PLAN_CODE_TAKEN', 'A plan with this code exists (codes are never reused)');
  const stripe = s.stripe.client();
  // The whole request is in the key: an identical retry reuses the product, a corrected one makes a new one.
  const productKey = await idempotencyKey('product', input);
  const product = await callStripe('create the product', () =>
    stripe.products.create(
      {
        name: input.name,
        ...(input.description ? { description: input.description } : {}),
        metadata: { plan_code: input.code },
      },
      { idempotencyKey: productKey },
    ),
  );
  const price = await createPrice(s, product.id, input.code, input, 'create');
  const now = s.clock.now();
  const [plan] = await s.db
    .insert(plans)
    .values({
      code: input.code,
      name: input.name,
      description: input.description ?? null,
      priceCents: input.price_cents,
      currency: input.currency,
      billingPeriod: input.billing_period,
      tier: input.tier,
      features: input.features,
      stripeProductId: product.id,
      stripePriceId: price.id,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  forgetCachedPlans(s);
  if (!plan) {
    // Lost a race for the code. An identical concurrent request got the same product (same key) and
    // uses it; only a product nobody's plan points at is retired.
    const [winner] = await s.db
      .select({ productId: plans.stripeProductId })
      .from(plans)
      .where(eq(plans.code, input.code));
    if (winner?.productId !== product.id) {
      await archiveQuietly('product', () => stripe.products.update(product.id, { active: false }));
    }
    throw new AppError('PLAN_CODE_TAKEN', 'A plan with this code exists (codes are never reused)');
  }
  return plan;
}

/**
 * Writes to an existing plan hold a short lease on its row while they talk to Stripe: Neon over HTTP has
 * no transaction that could span those calls, and two interleaved writes would leave Stripe and the
 * database disagreeing (a rename landing after a retire archived the product). A write whose Worker dies
 * keeps the plan locked for at most PLAN_LEASE_MS.
 */
export const PLAN_LEASE_MS = 30_000;

const LEASE_LOST = 'The plan was changed concurrently; reload and try again';

interface PlanLease {
  /** The plan as it was when the lease was taken: the state the write is based on. */
  plan: PlanRow;
  /** The lease's end, which also identifies it: only its holder writes with this value. */
  until: Date;
}

async function acquirePlanLease(s: Services, id: string): Promise<PlanLease> {
  const now = s.clock.now();
  const until = new Date(now.getTime() + PLAN_LEASE_MS);
  const [plan] = await s.db
    .update(plans)
    .set({ writeLockedUntil: until })
    .where(and(eq(plans.id, id), or(isNull(plans.writeLockedUntil), lt(plans.writeLockedUntil, now))))
    .returning();
  if (plan) return { plan, until };
  await getPlan(s, id, { includeRetired: true }); // an unknown id is a 404, not a conflict
  throw new AppError('CONFLICT', 'The plan is being changed; try again');
}

/** The write's last statement: its changes and the lease's release together, only while still held. */
async function commitPlanWrite(s: Services, lease: PlanLease, changes: Partial<PlanRow>) {
  const [updated] = await s.db
    .update(plans)
    .set({ ...changes, updatedAt: s.clock.now(), writeLockedUntil: null })
    .where(and(eq(plans.id, lease.plan.id), eq(plans.writeLockedUntil, lease.until)))
    .returning();
  forgetCachedPlans(s);
  return updated ?? null;
}

/** Best effort after a failed write: otherwise the plan stays locked until the lease runs out. */
async function releasePlanLease(s: Services, lease: PlanLease) {
  try {
    await s.db
      .update(plans)
      .set({ writeLockedUntil: null })
      .where(and(eq(plans.id, lease.plan.id), eq(plans.writeLockedUntil, lease.until)));
  } catch (error) {
    log('warn', 'plan lease release failed', { plan: lease.plan.id, error: describeError(error) });
  }
}

async function withPlanLease<T>(s: Services, id: string, write: (lease: PlanLease) => Promise<T>) {
  const lease = await acquirePlanLease(s, id);
  try {
    return await write(lease);
  } catch (error) {
    await releasePlanLease(s, lease);
    throw error;
  }
}

export function updatePlan(s: Services, id: string, patch: PlanPatch): Promise<PlanRow> {
  return withPlanLease(s, id, (lease) => applyPlanPatch(s, lease, patch));
}

async function applyPlanPatch(s: Services, lease: PlanLease, patch: PlanPatch): Promise<PlanRow> {
  const { plan } = lease;
  const stripe = s.stripe.client();
  const productId = plan.stripeProductId;
  if (!productId) throw new AppError('CONFLICT', 'This plan has no Stripe product');
  const priceChanged =
    (patch.price_cents !== undefined && patch.price_cents !== plan.priceCents) ||
    (patch.currency !== undefined && patch.currency !== plan.currency) ||
    (patch.billing_period !== undefined && patch.billing_period !== plan.billingPeriod);
  const productChanged =
    (patch.name !== undefined && patch.name !== plan.name) ||
    (patch.description !== undefined && patch.description !== plan.description) ||
    (patch.is_active !== undefined && patch.is_active !== plan.isActive);
  const version = plan.updatedAt.getTime();

  if (productChanged) {
    const key = await idempotencyKey('product-update', plan.id, version, patch);
    await callStripe('update the product', () =>
      stripe.products.update(
        productId,
        {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.description !== undefined ? { description: patch.description ?? '' } : {}),
          ...(patch.is_active !== undefined ? { active: patch.is_active } : {}),
        },
        { idempotencyKey: key },
      ),
    );
  }
  const next = {
    price_cents: patch.price_cents ?? plan.priceCents,
    currency: patch.currency ?? plan.currency,
    billing_period: patch.billing_period ?? plan.billingPeriod,
  };
  const newPrice = priceChanged ? await createPrice(s, productId, plan.code, next, String(version)) : null;
  const currentPriceId = plan.stripePriceId;
  if (!newPrice && patch.is_active === true && !plan.isActive && currentPriceId) {
    // Retiring archived the price too; restoring the plan must make it purchasable again.
    const key = await idempotencyKey('price-restore', currentPriceId, version);
    await callStripe('restore the price', () =>
      stripe.prices.update(currentPriceId, { active: true }, { idempotencyKey: key }),
    );
  }

  const updated = await commitPlanWrite(s, lease, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.tier !== undefined ? { tier: patch.tier } : {}),
    ...(patch.features !== undefined ? { features: patch.features } : {}),
    ...(patch.is_active !== undefined ? { isActive: patch.is_active } : {}),
    priceCents: next.price_cents,
    currency: next.currency,
    billingPeriod: next.billing_period,
    ...(newPrice ? { stripePriceId: newPrice.id } : {}),
  });
  if (!updated) {
    // The lease ran out during the Stripe calls and another write may have taken over.
    if (newPrice) await archiveQuietly('price', () => stripe.prices.update(newPrice.id, { active: false }));
    throw new AppError('CONFLICT', LEASE_LOST);
  }
  const oldPriceId = plan.stripePriceId;
  if (newPrice && oldPriceId) {
    // Existing subscribers keep the old price until they change plan; new checkouts use the new one.
    await archiveQuietly('price', () => stripe.prices.update(oldPriceId, { active: false }));
  }
  return updated;
}

/** Soft delete: the plan disappears from the catalogue and its Stripe product and price are archived. */
export function retirePlan(s: Services, id: string): Promise<void> {
  return withPlanLease(s, id, (lease) => archivePlan(s, lease));
}

async function archivePlan(s: Services, lease: PlanLease): Promise<void> {
  const { plan } = lease;
  if (!plan.isActive) throw new AppError('CONFLICT', 'Plan already deleted.');
  const stripe = s.stripe.client();
  const productId = plan.stripeProductId;
  const priceId = plan.stripePriceId;
  // Keyed by the plan's version: retiring again after a restore is a new request, not a replay.
  const version = plan.updatedAt.getTime();
  if (productId) {
    const key = await idempotencyKey('product-retire', plan.id, version);
    await callStripe('archive the product', () =>
      stripe.products.update(productId, { active: false }, { idempotencyKey: key }),
    );
  }
  if (priceId) {
    const key = await idempotencyKey('price-retire', priceId, version);
    await callStripe('archive the price', () =>
      stripe.prices.update(priceId, { active: false }, { idempotencyKey: key }),
    );
  }
  const updated = await commitPlanWrite(s, lease, { isActive: false });
  if (!updated) throw new AppError('CONFLICT', LEASE_LOST);
}
