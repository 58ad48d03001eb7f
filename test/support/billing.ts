// Billing test helpers: an admin, plans created through the API, checkout paid at the Stripe stand-in,
// and Stripe events signed for real and delivered to the Worker's webhook.
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { plans } from '../../src/db/schema';
import { bearer, createUser, db, login } from './accounts';
import { bindings } from './bindings';
import { api } from './worker';

export const stripe = new Stripe(bindings.STRIPE_SECRET_KEY, {
  httpClient: Stripe.createFetchHttpClient(),
  host: new URL(bindings.TEST_STRIPE_URL).hostname,
  port: new URL(bindings.TEST_STRIPE_URL).port,
  protocol: 'http',
});

/** Calls a /_standin/ control route of the Stripe stand-in. */
export async function stripeControl<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${bindings.TEST_STRIPE_URL}/_standin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`stand-in ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

let adminToken: Promise<string> | undefined;

/** The admin of this test file (ADMIN_EMAILS lists admin@edgeauth.test; each file has its own database). */
export async function asAdmin(): Promise<Record<string, string>> {
  // Memoise the promise, not the token: parallel first calls must not create the admin twice.
  adminToken ??= createUser({ email: 'admin@edgeauth.test', isVerified: true }).then(
    async (admin) => (await login(admin.email)).token,
  );
  return bearer(await adminToken);
}

export interface PlanBody {
  id: string;
  code: string;
  name: string;
  price_cents: number;
  currency: string;
  billing_period: 'monthly' | 'yearly';
  tier: 'free' | 'pro' | 'vip';
  features: string[];
  is_active: boolean;
}

export async function createPlan(
  overrides: Partial<Omit<PlanBody, 'id' | 'is_active'>> = {},
): Promise<PlanBody> {
  const response = await api('/billing/plans', {
    method: 'POST',
    headers: await asAdmin(),
    json: {
      code: `plan-${crypto.randomUUID().slice(0, 8)}`,
      name: 'Pro',
      price_cents: 1900,
      billing_period: 'monthly',
      tier: 'pro',
      features: ['api', 'exports'],
      ...overrides,
    },
  });
  if (response.status !== 201)
    throw new Error(`plan create failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as PlanBody;
}

/** The Stripe ids the API keeps to itself. */
export async function stripeIdsOf(planId: string) {
  const [row] = await db()
    .select({ productId: plans.stripeProductId, priceId: plans.stripePriceId })
    .from(plans)
    .where(eq(plans.id, planId));
  if (!row?.productId || !row.priceId) throw new Error(`plan ${planId} has no Stripe ids`);
  return { productId: row.productId, priceId: row.priceId };
}

export async function subscriber() {
  const user = await createUser({ isVerified: true });
  const { token } = await login(user.email);
  return { user, headers: bearer(token) };
}

export async function startCheckout(headers: Record<string, string>, planCode: string): Promise<string> {
  const response = await api('/billing/subscriptions/subscribe', {
    method: 'POST',
    headers,
    json: { plan_code: planCode },
  });
  if (response.status !== 201)
    throw new Error(`subscribe failed: ${response.status} ${await response.text()}`);
  const { checkout_url: url } = (await response.json()) as { checkout_url: string };
  return new URL(url).pathname.split('/').pop()!;
}

export interface Paid {
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
  events: Stripe.Event[];
}

/** Pays a checkout at the stand-in without delivering its events (the test delivers them). */
export function payCheckout(sessionId: string): Promise<Paid> {
  return stripeControl<Paid>(`/checkout/${sessionId}/pay`, { deliver: false });
}

export async function signedDelivery(
  payload: string,
  { secret = bindings.STRIPE_WEBHOOK_SECRET, timestamp }: { secret?: string; timestamp?: number } = {},
) {
  const header = await stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
    ...(timestamp === undefined ? {} : { timestamp }),
  });
  return api('/billing/stripe/webhook', {
    method: 'POST',
    headers: { 'stripe-signature': header, 'content-type': 'application/json' },
    body: payload,
  });
}

export async function deliver(event: Stripe.Event): Promise<{ status: number; outcome?: string }> {
  const response = await signedDelivery(JSON.stringify(event));
  const body = (await response.json()) as { outcome?: string };
  return { status: response.status, ...body };
}

export async function deliverAll(events: Stripe.Event[]) {
  const results = [];
  for (const event of events) results.push(await deliver(event));
  return results;
}

/** Subscribes a fresh user to `plan` and delivers the checkout's events in order. */
export async function subscribedUser(plan: PlanBody) {
  const who = await subscriber();
  const paid = await payCheckout(await startCheckout(who.headers, plan.code));
  await deliverAll(paid.events);
  return { ...who, ...paid };
}
