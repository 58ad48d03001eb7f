// The demo plans `npm run dev` seeds into the offline sandbox (scripts/sandbox-seed.mjs): listed by the API,
// made of the same Stripe objects POST /billing/plans makes, and purchasable end to end.
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PLANS, seedSandboxPlans } from '../../scripts/sandbox-seed.mjs';
import { plans } from '../../src/db/schema';
import { db } from '../support/accounts';
import {
  createPlan,
  deliverAll,
  type PlanBody,
  payCheckout,
  startCheckout,
  stripe,
  stripeIdsOf,
  subscriber,
} from '../support/billing';
import { bindings } from '../support/bindings';
import { api, databaseName } from '../support/worker';

/** This file's database and the suite's Stripe stand-in, shaped like startStandins()'s result. */
const target = () => ({
  stripe: { url: bindings.TEST_STRIPE_URL, apiKey: bindings.STRIPE_SECRET_KEY },
  neon: { sqlUrl: `${bindings.TEST_NEON_URL}/sql`, defaultDatabase: databaseName() },
});

async function listPlans() {
  const response = await api('/billing/plans');
  expect(response.status).toBe(200);
  return (await response.json()) as PlanBody[];
}

async function planIdOf(code: string) {
  const plan = (await listPlans()).find((listed) => listed.code === code);
  if (!plan) throw new Error(`no plan ${code} in the catalogue`);
  return plan.id;
}

/** A product and its price at the stand-in, without what differs between any two plans (ids, times, code). */
async function stripeSideOf({ id, code }: { id: string; code: string }) {
  const { productId, priceId } = await stripeIdsOf(id);
  const {
    id: _p,
    created: _pc,
    updated: _pu,
    metadata: productMeta,
    ...product
  } = await stripe.products.retrieve(productId);
  const {
    id: _i,
    created: _ic,
    product: owner,
    metadata: priceMeta,
    ...price
  } = await stripe.prices.retrieve(priceId);
  expect(owner).toBe(productId);
  expect(productMeta).toEqual({ plan_code: code });
  expect(priceMeta).toEqual({ plan_code: code });
  return { product, price };
}

async function buy(code: string) {
  const who = await subscriber();
  await deliverAll((await payCheckout(await startCheckout(who.headers, code))).events);
  return api('/billing/entitlements', { headers: who.headers });
}

describe('sandbox demo plans', () => {
  beforeAll(async () => {
    expect(await seedSandboxPlans(target())).toEqual(DEMO_PLANS.map((plan) => plan.code));
  });

  it('are the catalogue, cheapest first', async () => {
    const listed = await listPlans();
    const expected = [...DEMO_PLANS]
      .sort((a, b) => a.price_cents - b.price_cents)
      .map((plan) => ({ ...plan, id: expect.any(String), is_active: true }));
    expect(listed).toEqual(expected);
  });

  it('are made of the Stripe objects an admin creating the same plan gets', async () => {
    for (const demo of DEMO_PLANS) {
      const { code, ...fields } = demo;
      const created = await createPlan({ ...fields, code: `${code}-by-admin` });
      const seeded = { id: await planIdOf(code), code };
      expect(await stripeSideOf(seeded)).toEqual(await stripeSideOf(created));
    }
  });

  it('can be bought: checkout, payment, entitlements', async () => {
    const entitlements = await buy('starter-monthly');
    expect(entitlements.status).toBe(200);
    expect(await entitlements.json()).toEqual({
      plan_code: 'starter-monthly',
      tier: 'pro',
      features: ['api'],
      access_until: expect.any(String),
    });
  });

  it('seeded again over a kept database, point at the new prices and stay purchasable', async () => {
    const id = await planIdOf('business-monthly');
    const before = await stripeIdsOf(id);
    await seedSandboxPlans(target());
    const after = await stripeIdsOf(id);
    expect(after.priceId).not.toBe(before.priceId);
    expect(after.productId).not.toBe(before.productId);
    expect(await db().$count(plans, eq(plans.code, 'business-monthly'))).toBe(1);
    const entitlements = await buy('business-monthly');
    expect(entitlements.status).toBe(200);
    expect(await entitlements.json()).toMatchObject({ plan_code: 'business-monthly', tier: 'vip' });
  });
});
