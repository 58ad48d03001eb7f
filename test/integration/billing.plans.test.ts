// The plan catalogue through the Worker: public reads, admin-only writes, and what each write leaves at the
// Stripe stand-in (product, prices, archiving, idempotency keys), including Stripe failing halfway through.
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { plans } from '../../src/db/schema';
import { PlanSchema } from '../../src/routes/billing/schemas';
import { db } from '../support/accounts';
import {
  asAdmin,
  createPlan,
  type PlanBody,
  stripe,
  stripeControl,
  stripeIdsOf,
  subscriber,
} from '../support/billing';
import { envWithClock, fakeClock } from '../support/clock';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const StrictPlan = PlanSchema.strict();

const uniqueCode = (prefix = 'plan') => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

const validBody = (overrides: Record<string, unknown> = {}) => ({
  code: uniqueCode(),
  name: 'Pro',
  description: 'For growing teams',
  price_cents: 1900,
  currency: 'usd',
  billing_period: 'monthly',
  tier: 'pro',
  features: ['api', 'exports'],
  ...overrides,
});

async function asAdminCall(method: string, path: string, json?: unknown) {
  return api(path, { method, headers: await asAdmin(), ...(json === undefined ? {} : { json }) });
}

const postPlan = (json: unknown) => asAdminCall('POST', '/billing/plans', json);
const patchPlan = (id: string, json: unknown) => asAdminCall('PATCH', `/billing/plans/${id}`, json);
const deletePlan = (id: string) => asAdminCall('DELETE', `/billing/plans/${id}`);

/** Status and JSON content type, then the parsed body (the raw text names the failure if the status is off). */
async function expectJson<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as T;
}

async function listPlans(): Promise<PlanBody[]> {
  return expectJson<PlanBody[]>(await api('/billing/plans'), 200);
}

const listedCodes = async () => (await listPlans()).map((plan) => plan.code);

interface StandinRequest {
  seq: number;
  method: string;
  path: string;
  idempotency_key: string | null;
  status: number;
}

const stripeRequestsSince = async (seq: number) =>
  (await stripeControl<{ data: StandinRequest[] }>(`/requests?since=${seq}`)).data;

async function lastStripeSeq(): Promise<number> {
  return (await stripeRequestsSince(0)).at(-1)?.seq ?? 0;
}

/** Stripe requests since `seq` that touched one of `ids` (a product or price of this test). */
async function stripeRequestsOn(seq: number, ids: string[]) {
  return (await stripeRequestsSince(seq)).filter((r) => ids.some((id) => r.path.includes(id)));
}

interface Fault {
  mode: 'error' | 'down' | 'slow';
  match: string;
  count: number;
  delay_ms?: number;
}

let ourFault: string | null = null;

/** The stand-in is shared by every test file: faults are scoped by path and consumed by count. */
async function injectFault(fault: Fault) {
  ourFault = fault.match;
  await stripeControl('/fault', fault);
}

// asAdmin() memoises its token only once signed in: sign in before any test calls it concurrently.
beforeAll(async () => {
  await asAdmin();
});

afterEach(async () => {
  if (ourFault === null) return;
  const state = await stripeControl<{ mode: string; match: string | null }>('/fault');
  // Clear only a fault of ours this test left unconsumed, never one another file has set since.
  if (state.mode !== 'none' && state.match === ourFault) await stripeControl('/fault', { mode: 'none' });
  ourFault = null;
});

describe('GET /billing/plans', () => {
  it('lists active plans only, cheapest first, to anyone', async () => {
    const dear = await createPlan({ code: uniqueCode('dear'), price_cents: 3100 });
    const cheap = await createPlan({ code: uniqueCode('cheap'), price_cents: 700, billing_period: 'yearly' });
    const middle = await createPlan({ code: uniqueCode('middle'), price_cents: 1500, tier: 'vip' });
    const retired = await createPlan({ code: uniqueCode('retired'), price_cents: 100 });
    expect((await deletePlan(retired.id)).status).toBe(204);

    const response = await api('/billing/plans');
    const listed = await expectJson<PlanBody[]>(response, 200);

    for (const plan of listed) expect(StrictPlan.safeParse(plan).error).toBeUndefined();
    expect(listed.every((plan) => plan.is_active)).toBe(true);
    const order = listed.map((plan) => [plan.price_cents, plan.code] as const);
    const sorted = [...order].sort(([a, x], [b, y]) => a - b || (x < y ? -1 : x > y ? 1 : 0));
    expect(order).toEqual(sorted);
    const ours = new Set([dear.id, cheap.id, middle.id, retired.id]);
    expect(listed.filter((plan) => ours.has(plan.id))).toEqual([cheap, middle, dear]);
  });
});

describe('GET /billing/plans/{id}', () => {
  it('answers one plan, publicly, as created', async () => {
    const plan = await createPlan({ name: 'Team', tier: 'vip', features: ['sso'] });
    const body = await expectJson(await api(`/billing/plans/${plan.id}`), 200);
    expect(body).toEqual(plan);
    expect(StrictPlan.safeParse(body).error).toBeUndefined();
  });

  it('answers 404 for an unknown id', async () => {
    const problem = await expectProblem(await api(`/billing/plans/${crypto.randomUUID()}`), 404, 'NOT_FOUND');
    expect(problem.detail).toBe('No plan found for this id');
  });

  it('answers 404 for a retired plan', async () => {
    const plan = await createPlan();
    expect((await deletePlan(plan.id)).status).toBe(204);
    await expectProblem(await api(`/billing/plans/${plan.id}`), 404, 'NOT_FOUND');
  });

  it('answers 422 for an id that is not a UUID', async () => {
    const problem = await expectProblem(await api('/billing/plans/pro-monthly'), 422, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'id', message: expect.any(String) }]);
  });
});

describe('POST /billing/plans', () => {
  it('creates a monthly plan with its Stripe product and monthly price', async () => {
    const input = validBody({ currency: 'EUR' });
    const body = await expectJson<PlanBody>(await postPlan(input), 201);
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      code: input.code,
      name: 'Pro',
      description: 'For growing teams',
      price_cents: 1900,
      currency: 'eur',
      billing_period: 'monthly',
      tier: 'pro',
      features: ['api', 'exports'],
      is_active: true,
    });
    expect(await expectJson(await api(`/billing/plans/${body.id}`), 200)).toEqual(body);

    const { productId, priceId } = await stripeIdsOf(body.id);
    const product = await stripe.products.retrieve(productId);
    expect(product).toMatchObject({
      name: 'Pro',
      description: 'For growing teams',
      active: true,
      metadata: { plan_code: input.code },
    });
    const price = await stripe.prices.retrieve(priceId);
    expect(price).toMatchObject({
      product: productId,
      unit_amount: 1900,
      currency: 'eur',
      active: true,
      type: 'recurring',
      recurring: { interval: 'month', interval_count: 1 },
      metadata: { plan_code: input.code },
    });
  });

  it('creates a yearly plan billed yearly at Stripe', async () => {
    const input = validBody({ billing_period: 'yearly', price_cents: 19_000, tier: 'vip' });
    const body = await expectJson<PlanBody>(await postPlan(input), 201);
    expect(body).toMatchObject({ billing_period: 'yearly', price_cents: 19_000, tier: 'vip' });
    const price = await stripe.prices.retrieve((await stripeIdsOf(body.id)).priceId);
    expect(price).toMatchObject({ unit_amount: 19_000, currency: 'usd', recurring: { interval: 'year' } });
  });

  it('defaults currency, tier, features and description', async () => {
    const code = uniqueCode();
    const response = await postPlan({ code, name: 'Starter', price_cents: 0, billing_period: 'monthly' });
    expect(await expectJson(response, 201)).toEqual({
      id: expect.stringMatching(UUID),
      code,
      name: 'Starter',
      description: null,
      price_cents: 0,
      currency: 'usd',
      billing_period: 'monthly',
      tier: 'free',
      features: [],
      is_active: true,
    });
  });

  it('answers 409 PLAN_CODE_TAKEN for the code of an active plan', async () => {
    const plan = await createPlan();
    const problem = await expectProblem(
      await postPlan(validBody({ code: plan.code, name: 'Copy' })),
      409,
      'PLAN_CODE_TAKEN',
    );
    expect(problem.detail).toBe('A plan with this code exists (codes are never reused)');
    expect(await listPlans()).toContainEqual(plan);
    expect((await listPlans()).filter((p) => p.code === plan.code)).toHaveLength(1);
  });

  it('answers 409 PLAN_CODE_TAKEN for the code of a retired plan', async () => {
    const plan = await createPlan();
    expect((await deletePlan(plan.id)).status).toBe(204);
    await expectProblem(await postPlan(validBody({ code: plan.code })), 409, 'PLAN_CODE_TAKEN');
    expect(await listedCodes()).not.toContain(plan.code);
  });

  it('gives one of two concurrent creations with one code the plan and leaves that plan’s product active', async () => {
    const input = validBody();
    const responses = await Promise.all([postPlan(input), postPlan(input)]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = responses.find((r) => r.status === 201)!;
    const loser = responses.find((r) => r.status === 409)!;
    await expectProblem(loser, 409, 'PLAN_CODE_TAKEN');
    const plan = await expectJson<PlanBody>(winner, 201);
    const { productId, priceId } = await stripeIdsOf(plan.id);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: true });
  });

  it('answers 403 ADMIN_REQUIRED to a verified user who is not an admin', async () => {
    const { headers } = await subscriber();
    const input = validBody();
    const response = await api('/billing/plans', { method: 'POST', headers, json: input });
    const problem = await expectProblem(response, 403, 'ADMIN_REQUIRED');
    expect(problem.detail).toBe('User does not have admin privileges');
    expect(await listedCodes()).not.toContain(input.code);
  });

  it('answers 401 UNAUTHORIZED without a token', async () => {
    const response = await api('/billing/plans', { method: 'POST', json: validBody() });
    await expectProblem(response, 401, 'UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  it.each([
    ['a code with spaces and capitals', { code: 'Pro Plan' }, 'code'],
    ['a code starting with "-"', { code: '-pro' }, 'code'],
    ['a one-letter code', { code: 'p' }, 'code'],
    ['a code of 65 characters', { code: 'p'.repeat(65) }, 'code'],
    ['a negative price', { price_cents: -1 }, 'price_cents'],
    ['a fractional price', { price_cents: 19.5 }, 'price_cents'],
    ['a price given as a string', { price_cents: '1900' }, 'price_cents'],
    ['a two-letter currency', { currency: 'us' }, 'currency'],
    ['a currency with digits', { currency: 'us1' }, 'currency'],
    ['an unknown billing period', { billing_period: 'weekly' }, 'billing_period'],
    ['an unknown tier', { tier: 'gold' }, 'tier'],
    ['an empty name', { name: '   ' }, 'name'],
    ['no name', { name: undefined }, 'name'],
  ])('answers 422 for %s', async (_, overrides, path) => {
    const input = validBody(overrides);
    const problem = await expectProblem(await postPlan(input), 422, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path, message: expect.any(String) }]);
    expect(await listedCodes()).not.toContain(input.code);
  });

  it.each([
    ['is_admin', true],
    ['stripe_price_id', 'price_123'],
    ['is_active', false],
    ['id', '00000000-0000-4000-8000-000000000000'],
  ])('answers 422 for the unknown field "%s" (the schema is strict)', async (field, value) => {
    const input = validBody({ [field]: value });
    const problem = await expectProblem(await postPlan(input), 422, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: expect.any(String), message: expect.stringContaining(field) }]);
    expect(await listedCodes()).not.toContain(input.code);
  });

  it('answers 400 MALFORMED_REQUEST for malformed JSON', async () => {
    const response = await api('/billing/plans', {
      method: 'POST',
      headers: { ...(await asAdmin()), 'content-type': 'application/json' },
      body: '{"code": "broken",',
    });
    const problem = await expectProblem(response, 400, 'MALFORMED_REQUEST');
    expect(problem.detail).toBe('Malformed JSON in request body');
  });
});

describe('POST /billing/plans when Stripe fails', () => {
  it('answers 502 and stores nothing when the price cannot be created; the code works afterwards', async () => {
    const input = validBody();
    await injectFault({ mode: 'error', match: '/v1/prices', count: 2 });
    const problem = await expectProblem(await postPlan(input), 502, 'PROVIDER_ERROR');
    expect(problem.detail).toMatch(/^Stripe refused to create the price/);
    expect(await listedCodes()).not.toContain(input.code);

    const plan = await expectJson<PlanBody>(await postPlan(input), 201);
    expect(plan).toMatchObject({ code: input.code, price_cents: 1900, is_active: true });
    expect(await listedCodes()).toContain(input.code);
    const { productId, priceId } = await stripeIdsOf(plan.id);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true, name: 'Pro' });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: true, unit_amount: 1900 });
  });

  it('lets the admin retry a failed creation with corrected details under the same code', async () => {
    const input = validBody({ name: 'Pro (typo)' });
    await injectFault({ mode: 'error', match: '/v1/prices', count: 2 });
    await expectProblem(await postPlan(input), 502, 'PROVIDER_ERROR');

    const retried = await postPlan({ ...input, name: 'Pro' });
    const plan = await expectJson<PlanBody>(retried, 201);
    const { productId } = await stripeIdsOf(plan.id);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ name: 'Pro', active: true });
  });

  it('answers 502 and stores nothing when the product cannot be created; the code works afterwards', async () => {
    const input = validBody();
    await injectFault({ mode: 'error', match: '/v1/products', count: 2 });
    const problem = await expectProblem(await postPlan(input), 502, 'PROVIDER_ERROR');
    expect(problem.detail).toMatch(/^Stripe refused to create the product/);
    expect(await listedCodes()).not.toContain(input.code);
    expect(await expectJson(await postPlan(input), 201)).toMatchObject({ code: input.code });
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE when Stripe cannot be reached, and stores nothing', async () => {
    const input = validBody();
    await injectFault({ mode: 'down', match: '/v1/products', count: 2 });
    const problem = await expectProblem(await postPlan(input), 503, 'DEPENDENCY_UNAVAILABLE');
    expect(problem.detail).toBe('Stripe could not be reached (create the product)');
    expect(await listedCodes()).not.toContain(input.code);
  });
});

describe('Stripe idempotency', () => {
  it('sends an Idempotency-Key with every Stripe write the plan routes make', async () => {
    const since = await lastStripeSeq();
    const plan = await createPlan({ code: uniqueCode('keys') });
    const first = await stripeIdsOf(plan.id);
    await expectJson(await patchPlan(plan.id, { name: 'Pro 2', price_cents: 2500 }), 200);
    const second = await stripeIdsOf(plan.id);
    expect((await deletePlan(plan.id)).status).toBe(204);

    const requests = await stripeRequestsSince(since);
    const ours = requests.filter(
      (r) =>
        r.method === 'POST' &&
        (r.path === '/v1/products' ||
          r.path === '/v1/prices' ||
          [first.productId, first.priceId, second.priceId].some((id) => r.path.includes(id))),
    );
    // Create product, create price, rename product, new price, archive old price, archive product and price.
    expect(ours.length).toBeGreaterThanOrEqual(7);
    for (const request of ours)
      expect(request, JSON.stringify(request)).toMatchObject({ idempotency_key: expect.any(String) });
  });

  it('retries a failed Stripe write with the same key', async () => {
    const plan = await createPlan();
    const { productId } = await stripeIdsOf(plan.id);
    const since = await lastStripeSeq();
    await injectFault({ mode: 'error', match: `/v1/products/${productId}`, count: 1 });
    const body = await expectJson(await patchPlan(plan.id, { name: 'Renamed once' }), 200);
    expect(body).toMatchObject({ name: 'Renamed once' });

    const writes = await stripeRequestsOn(since, [productId]);
    expect(writes.map((r) => [r.method, r.status])).toEqual([
      ['POST', 500],
      ['POST', 200],
    ]);
    expect(writes[0]!.idempotency_key).toEqual(expect.any(String));
    expect(writes[1]!.idempotency_key).toBe(writes[0]!.idempotency_key);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ name: 'Renamed once' });
  });
});

describe('PATCH /billing/plans/{id}', () => {
  it('renames the plan and its Stripe product, keeping the price', async () => {
    const plan = await createPlan();
    const before = await stripeIdsOf(plan.id);
    const body = await expectJson(
      await patchPlan(plan.id, { name: 'Pro Plus', description: 'Now with more' }),
      200,
    );
    expect(body).toEqual({ ...plan, name: 'Pro Plus', description: 'Now with more' });
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(body);

    expect(await stripeIdsOf(plan.id)).toEqual(before);
    expect(await stripe.products.retrieve(before.productId)).toMatchObject({
      name: 'Pro Plus',
      description: 'Now with more',
      active: true,
    });
    expect(await stripe.prices.retrieve(before.priceId)).toMatchObject({ active: true, unit_amount: 1900 });
  });

  it('creates a new Stripe price for a new amount and archives the old one', async () => {
    const plan = await createPlan({ price_cents: 1900 });
    const before = await stripeIdsOf(plan.id);
    const body = await expectJson(await patchPlan(plan.id, { price_cents: 2900 }), 200);
    expect(body).toEqual({ ...plan, price_cents: 2900 });

    const after = await stripeIdsOf(plan.id);
    expect(after.productId).toBe(before.productId);
    expect(after.priceId).not.toBe(before.priceId);
    expect(await stripe.prices.retrieve(after.priceId)).toMatchObject({
      product: before.productId,
      unit_amount: 2900,
      currency: 'usd',
      active: true,
      recurring: { interval: 'month' },
    });
    expect(await stripe.prices.retrieve(before.priceId)).toMatchObject({ active: false, unit_amount: 1900 });
  });

  it('moves a monthly plan to yearly billing with a new yearly price', async () => {
    const plan = await createPlan({ billing_period: 'monthly', price_cents: 1000 });
    const before = await stripeIdsOf(plan.id);
    const body = await expectJson(await patchPlan(plan.id, { billing_period: 'yearly' }), 200);
    expect(body).toEqual({ ...plan, billing_period: 'yearly' });

    const after = await stripeIdsOf(plan.id);
    expect(after.priceId).not.toBe(before.priceId);
    expect(await stripe.prices.retrieve(after.priceId)).toMatchObject({
      unit_amount: 1000,
      active: true,
      recurring: { interval: 'year' },
    });
    expect(await stripe.prices.retrieve(before.priceId)).toMatchObject({
      active: false,
      recurring: { interval: 'month' },
    });
  });

  it('creates a new price in the new (lower-cased) currency', async () => {
    const plan = await createPlan();
    const before = await stripeIdsOf(plan.id);
    const body = await expectJson(await patchPlan(plan.id, { currency: 'GBP' }), 200);
    expect(body).toEqual({ ...plan, currency: 'gbp' });
    const after = await stripeIdsOf(plan.id);
    expect(await stripe.prices.retrieve(after.priceId)).toMatchObject({ currency: 'gbp', active: true });
    expect(await stripe.prices.retrieve(before.priceId)).toMatchObject({ currency: 'usd', active: false });
  });

  it('gives the plan an active price again when the amount goes back to an earlier one', async () => {
    const plan = await createPlan({ price_cents: 1900 });
    const original = await stripeIdsOf(plan.id);
    await expectJson(await patchPlan(plan.id, { price_cents: 2900 }), 200);
    const raised = await stripeIdsOf(plan.id);
    const body = await expectJson(await patchPlan(plan.id, { price_cents: 1900 }), 200);
    expect(body).toEqual(plan);

    const current = await stripeIdsOf(plan.id);
    expect(current.priceId).not.toBe(raised.priceId);
    expect(await stripe.prices.retrieve(raised.priceId)).toMatchObject({ active: false });
    // The plan must point at a price new checkouts can use.
    expect(await stripe.prices.retrieve(current.priceId)).toMatchObject({ unit_amount: 1900, active: true });
    expect(original.productId).toBe(current.productId);
  });

  it('changes tier and features without touching Stripe', async () => {
    const plan = await createPlan({ tier: 'pro', features: ['api'] });
    const before = await stripeIdsOf(plan.id);
    const since = await lastStripeSeq();
    const body = await expectJson(await patchPlan(plan.id, { tier: 'vip', features: ['api', 'sso'] }), 200);
    expect(body).toEqual({ ...plan, tier: 'vip', features: ['api', 'sso'] });
    expect(await stripeIdsOf(plan.id)).toEqual(before);
    expect(await stripeRequestsOn(since, [before.productId, before.priceId])).toEqual([]);
    expect((await stripe.prices.list({ product: before.productId })).data.map((p) => p.id)).toEqual([
      before.priceId,
    ]);
  });

  it('retires and restores a plan with is_active, archiving and restoring its Stripe product', async () => {
    const plan = await createPlan();
    const { productId } = await stripeIdsOf(plan.id);

    const retired = await expectJson(await patchPlan(plan.id, { is_active: false }), 200);
    expect(retired).toEqual({ ...plan, is_active: false });
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: false });
    expect(await listedCodes()).not.toContain(plan.code);
    await expectProblem(await api(`/billing/plans/${plan.id}`), 404, 'NOT_FOUND');

    const restored = await expectJson(await patchPlan(plan.id, { is_active: true }), 200);
    expect(restored).toEqual(plan);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true });
    expect(await listPlans()).toContainEqual(plan);
  });

  it('answers 422 for an empty body', async () => {
    const plan = await createPlan();
    const problem = await expectProblem(await patchPlan(plan.id, {}), 422, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'json', message: 'Change at least one field' }]);
  });

  it.each([
    ['the code (codes never change)', { code: 'another-code' }],
    ['stripe_price_id', { stripe_price_id: 'price_123' }],
    ['a negative price', { price_cents: -5 }],
    ['an unknown billing period', { billing_period: 'daily' }],
  ])('answers 422 for %s and changes nothing', async (_, patch) => {
    const plan = await createPlan();
    await expectProblem(await patchPlan(plan.id, patch), 422, 'VALIDATION_FAILED');
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(plan);
  });

  it('answers 404 for an unknown id and 422 for an id that is not a UUID', async () => {
    await expectProblem(await patchPlan(crypto.randomUUID(), { name: 'x' }), 404, 'NOT_FOUND');
    await expectProblem(await patchPlan('not-a-uuid', { name: 'x' }), 422, 'VALIDATION_FAILED');
  });

  it('answers 403 ADMIN_REQUIRED to a verified user who is not an admin, and changes nothing', async () => {
    const plan = await createPlan();
    const { headers } = await subscriber();
    const response = await api(`/billing/plans/${plan.id}`, {
      method: 'PATCH',
      headers,
      json: { price_cents: 1 },
    });
    await expectProblem(response, 403, 'ADMIN_REQUIRED');
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(plan);
  });

  it('answers 502 and keeps the plan when Stripe refuses the product update', async () => {
    const plan = await createPlan();
    const { productId } = await stripeIdsOf(plan.id);
    await injectFault({ mode: 'error', match: `/v1/products/${productId}`, count: 2 });
    await expectProblem(await patchPlan(plan.id, { name: 'Never' }), 502, 'PROVIDER_ERROR');
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(plan);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ name: 'Pro' });
  });

  it('answers 503 and keeps the plan when Stripe cannot be reached', async () => {
    const plan = await createPlan();
    const { productId } = await stripeIdsOf(plan.id);
    await injectFault({ mode: 'down', match: `/v1/products/${productId}`, count: 2 });
    await expectProblem(await patchPlan(plan.id, { name: 'Never' }), 503, 'DEPENDENCY_UNAVAILABLE');
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(plan);
  });

  it('answers 502 and keeps the plan and its price when the new price cannot be created', async () => {
    const plan = await createPlan();
    const before = await stripeIdsOf(plan.id);
    await injectFault({ mode: 'error', match: '/v1/prices', count: 2 });
    await expectProblem(await patchPlan(plan.id, { price_cents: 4900 }), 502, 'PROVIDER_ERROR');
    expect(await expectJson(await api(`/billing/plans/${plan.id}`), 200)).toEqual(plan);
    expect(await stripeIdsOf(plan.id)).toEqual(before);
    expect(await stripe.prices.retrieve(before.priceId)).toMatchObject({ active: true });
  });
});

describe('DELETE /billing/plans/{id}', () => {
  it('retires the plan: 204, archived at Stripe, gone from the catalogue', async () => {
    const plan = await createPlan();
    const { productId, priceId } = await stripeIdsOf(plan.id);

    const response = await deletePlan(plan.id);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('content-type')).toBeNull();

    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: false });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: false });
    expect(await listedCodes()).not.toContain(plan.code);
    await expectProblem(await api(`/billing/plans/${plan.id}`), 404, 'NOT_FOUND');
  });

  it('archives the current price after a price change', async () => {
    const plan = await createPlan();
    await expectJson(await patchPlan(plan.id, { price_cents: 2500 }), 200);
    const { productId, priceId } = await stripeIdsOf(plan.id);
    expect((await deletePlan(plan.id)).status).toBe(204);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: false });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: false });
  });

  it('answers 409 CONFLICT the second time', async () => {
    const plan = await createPlan();
    expect((await deletePlan(plan.id)).status).toBe(204);
    const problem = await expectProblem(await deletePlan(plan.id), 409, 'CONFLICT');
    expect(problem.detail).toBe('Plan already deleted.');
  });

  it('answers 404 for an unknown id and 422 for an id that is not a UUID', async () => {
    await expectProblem(await deletePlan(crypto.randomUUID()), 404, 'NOT_FOUND');
    await expectProblem(await deletePlan('not-a-uuid'), 422, 'VALIDATION_FAILED');
  });

  it('answers 403 ADMIN_REQUIRED to a verified user who is not an admin, and keeps the plan', async () => {
    const plan = await createPlan();
    const { headers } = await subscriber();
    const response = await api(`/billing/plans/${plan.id}`, { method: 'DELETE', headers });
    await expectProblem(response, 403, 'ADMIN_REQUIRED');
    expect(await listPlans()).toContainEqual(plan);
    const { productId } = await stripeIdsOf(plan.id);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true });
  });

  it('answers 401 UNAUTHORIZED without a token', async () => {
    const plan = await createPlan();
    await expectProblem(await api(`/billing/plans/${plan.id}`, { method: 'DELETE' }), 401, 'UNAUTHORIZED');
    expect(await listPlans()).toContainEqual(plan);
  });

  it('answers 502 and keeps the plan listed when Stripe refuses to archive the price; a retry finishes', async () => {
    const plan = await createPlan();
    const { productId, priceId } = await stripeIdsOf(plan.id);
    await injectFault({ mode: 'error', match: `/v1/prices/${priceId}`, count: 2 });
    await expectProblem(await deletePlan(plan.id), 502, 'PROVIDER_ERROR');
    expect(await listPlans()).toContainEqual(plan);

    expect((await deletePlan(plan.id)).status).toBe(204);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: false });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: false });
    expect(await listedCodes()).not.toContain(plan.code);
  });

  it('restoring a deleted plan with is_active makes its Stripe price usable again', async () => {
    const plan = await createPlan();
    expect((await deletePlan(plan.id)).status).toBe(204);
    expect(await expectJson(await patchPlan(plan.id, { is_active: true }), 200)).toEqual(plan);
    const { productId, priceId } = await stripeIdsOf(plan.id);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true });
    expect(await stripe.prices.retrieve(priceId)).toMatchObject({ active: true });
  });

  it('archives the Stripe product again when a restored plan is deleted a second time', async () => {
    const plan = await createPlan();
    const { productId } = await stripeIdsOf(plan.id);
    expect((await deletePlan(plan.id)).status).toBe(204);
    expect(await expectJson(await patchPlan(plan.id, { is_active: true }), 200)).toEqual(plan);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: true });

    expect((await deletePlan(plan.id)).status).toBe(204);
    expect(await listedCodes()).not.toContain(plan.code);
    expect(await stripe.products.retrieve(productId)).toMatchObject({ active: false });
  });
});

describe('concurrent writes to one plan', () => {
  /** The plan as the database and as Stripe see it: the two must always agree. */
  async function bothSides(planId: string) {
    const [row] = await db()
      .select({ name: plans.name, active: plans.isActive })
      .from(plans)
      .where(eq(plans.id, planId));
    const { productId } = await stripeIdsOf(planId);
    const { name, active } = await stripe.products.retrieve(productId);
    return { database: row, stripe: { name, active } };
  }

  const expectInStep = async (planId: string, expected: { name: string; active: boolean }) =>
    expect(await bothSides(planId)).toEqual({ database: expected, stripe: expected });

  it.each([
    ['DELETE', (id: string) => deletePlan(id)],
    ['PATCH is_active=false', (id: string) => patchPlan(id, { is_active: false })],
  ])(
    'lets one of a rename and a retire (%s) through while the other answers 409, then both apply in order',
    async (_, retire) => {
      const plan = await createPlan({ name: 'Before' });
      const { productId } = await stripeIdsOf(plan.id);
      // Whichever write reaches Stripe first stays there a while: the other one arrives during it.
      await injectFault({ mode: 'slow', match: `/v1/products/${productId}`, count: 1, delay_ms: 2000 });
      const [renamed, retired] = await Promise.all([patchPlan(plan.id, { name: 'After' }), retire(plan.id)]);

      const statuses = [renamed.status, retired.status];
      expect(
        statuses.filter((status) => status === 409),
        JSON.stringify(statuses),
      ).toHaveLength(1);
      const refused = renamed.status === 409 ? renamed : retired;
      const problem = await expectProblem(refused, 409, 'CONFLICT');
      expect(problem.detail).toBe('The plan is being changed; try again');
      const renameWon = refused === retired;
      await expectInStep(plan.id, { name: renameWon ? 'After' : 'Before', active: renameWon });

      // The winner released the lease: the refused write goes through when retried.
      const retried = renameWon ? await retire(plan.id) : await patchPlan(plan.id, { name: 'After' });
      expect(retried.status, await retried.clone().text()).toBeLessThan(300);
      await expectInStep(plan.id, { name: 'After', active: false });
    },
  );

  it('keeps the database and Stripe in step over many racing renames and retires', async () => {
    const racing = await Promise.all([1, 2, 3, 4].map(() => createPlan({ name: 'Before' })));
    await Promise.all(racing.flatMap((plan) => [patchPlan(plan.id, { name: 'After' }), deletePlan(plan.id)]));
    for (const plan of racing) {
      const { database, stripe: atStripe } = await bothSides(plan.id);
      expect(atStripe, plan.id).toEqual(database);
      const price = await stripe.prices.retrieve((await stripeIdsOf(plan.id)).priceId);
      expect(price.active, plan.id).toBe(atStripe.active);
    }
  });

  it('refuses a write while another holds the lease, and takes over a lease left for 30 s', async () => {
    const plan = await createPlan({ name: 'Before' });
    const clock = fakeClock();
    // As if a write had taken the lease and its Worker then died before releasing it.
    await db()
      .update(plans)
      .set({ writeLockedUntil: new Date(clock.now().getTime() + 30_000) })
      .where(eq(plans.id, plan.id));
    const since = await lastStripeSeq();
    const env = envWithClock(clock);
    const patch = async () =>
      api(
        `/billing/plans/${plan.id}`,
        { method: 'PATCH', headers: await asAdmin(), json: { name: 'After' } },
        env,
      );

    const problem = await expectProblem(await patch(), 409, 'CONFLICT');
    expect(problem.detail).toBe('The plan is being changed; try again');
    const { productId, priceId } = await stripeIdsOf(plan.id);
    expect(await stripeRequestsOn(since, [productId, priceId])).toEqual([]);

    clock.advance(31);
    expect(await expectJson(await patch(), 200)).toEqual({ ...plan, name: 'After' });
    await expectInStep(plan.id, { name: 'After', active: true });
    const [row] = await db()
      .select({ lease: plans.writeLockedUntil })
      .from(plans)
      .where(eq(plans.id, plan.id));
    expect(row?.lease).toBeNull();
  });
});
