// Demo plans for `npm run dev` with the offline Stripe sandbox. The sandbox keeps its objects in memory, so
// each start creates every plan's product and price there through its Stripe API, then writes the plan row
// with their ids through the Neon stand-in: the same objects and metadata POST /billing/plans creates.
// Plain fetch only, so the suite can run it inside workerd against its own stand-ins.

/**
 * @typedef {{ code: string, name: string, description: string, price_cents: number, currency: string,
 *   billing_period: 'monthly' | 'yearly', tier: 'free' | 'pro' | 'vip', features: string[] }} DemoPlan
 */

/** What `npm run dev` offers out of the box; the README tour subscribes to starter-monthly. @type {DemoPlan[]} */
export const DEMO_PLANS = [
  {
    code: 'starter-monthly',
    name: 'Starter',
    description: 'Demo plan of the offline sandbox',
    price_cents: 900,
    currency: 'usd',
    billing_period: 'monthly',
    tier: 'pro',
    features: ['api'],
  },
  {
    code: 'starter-yearly',
    name: 'Starter (yearly)',
    description: 'Demo plan of the offline sandbox',
    price_cents: 9000,
    currency: 'usd',
    billing_period: 'yearly',
    tier: 'pro',
    features: ['api'],
  },
  {
    code: 'business-monthly',
    name: 'Business',
    description: 'Demo plan of the offline sandbox',
    price_cents: 2900,
    currency: 'usd',
    billing_period: 'monthly',
    tier: 'vip',
    features: ['api', 'exports', 'priority-support'],
  },
];

// A database kept from an earlier start (LOCAL_POSTGRES_URL) may hold these codes already: they are pointed
// at this start's product and price, since the sandbox forgot the old ones.
const UPSERT_PLAN = `insert into plans (code, name, description, price_cents, currency, billing_period, tier,
  features, stripe_product_id, stripe_price_id)
values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
on conflict (code) do update set name = excluded.name, description = excluded.description,
  price_cents = excluded.price_cents, currency = excluded.currency, billing_period = excluded.billing_period,
  tier = excluded.tier, features = excluded.features, stripe_product_id = excluded.stripe_product_id,
  stripe_price_id = excluded.stripe_price_id, is_active = true, write_locked_until = null, updated_at = now()
returning code`;

/**
 * @typedef {{ stripe: { url: string, apiKey: string }, neon: { sqlUrl: string, defaultDatabase: string } }} SeedTarget
 *   the shape of startStandins()'s result, so `npm run dev` passes its stand-ins as they are
 */

/** @param {SeedTarget['stripe']} stripe @param {string} path @param {Record<string, string>} fields */
async function stripePost(stripe, path, fields) {
  const response = await fetch(`${stripe.url}/v1/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stripe.apiKey}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields),
  });
  const body = await response.json();
  if (!response.ok)
    throw new Error(`sandbox seed: POST /v1/${path} answered ${response.status}: ${body?.error?.message}`);
  return /** @type {{ id: string }} */ (body);
}

/** Neon's wire format: parameters travel as text. @param {SeedTarget['neon']} neon @param {string} query @param {Array<string | number>} params */
async function runSql(neon, query, params) {
  const response = await fetch(neon.sqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'neon-connection-string': `postgres://edgeauth:edgeauth@127.0.0.1/${neon.defaultDatabase}`,
    },
    body: JSON.stringify({ query, params: params.map(String) }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`sandbox seed: SQL failed (${response.status}): ${body?.message}`);
  return /** @type {{ rows: Record<string, unknown>[] }} */ (body);
}

/** @param {SeedTarget} target @param {DemoPlan} plan */
async function seedPlan({ stripe, neon }, plan) {
  const product = await stripePost(stripe, 'products', {
    name: plan.name,
    description: plan.description,
    'metadata[plan_code]': plan.code,
  });
  const price = await stripePost(stripe, 'prices', {
    product: product.id,
    unit_amount: String(plan.price_cents),
    currency: plan.currency,
    'recurring[interval]': plan.billing_period === 'yearly' ? 'year' : 'month',
    'metadata[plan_code]': plan.code,
  });
  await runSql(neon, UPSERT_PLAN, [
    plan.code,
    plan.name,
    plan.description,
    plan.price_cents,
    plan.currency,
    plan.billing_period,
    plan.tier,
    JSON.stringify(plan.features),
    product.id,
    price.id,
  ]);
}

/**
 * Creates the demo plans in the sandbox and the database; resolves with their codes.
 * @param {SeedTarget} target @param {DemoPlan[]} [plans]
 */
export async function seedSandboxPlans(target, plans = DEMO_PLANS) {
  for (const plan of plans) await seedPlan(target, plan);
  return plans.map((plan) => plan.code);
}
