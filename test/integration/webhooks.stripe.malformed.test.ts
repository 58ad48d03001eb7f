// POST /billing/stripe/webhook with correctly signed events that are malformed (400, nothing written) or
// about objects this Stripe account does not have (200 "ignored", recorded so a redelivery is a duplicate).
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  createPlan,
  deliver,
  payCheckout,
  signedDelivery,
  startCheckout,
  stripe,
  subscriber,
} from '../support/billing';
import { bindings } from '../support/bindings';
import { withStripeFault } from '../support/faults';
import { expectProblem } from '../support/problem';
import { rowCountChanges, rowCounts } from '../support/row-counts';
import { api, testEnv } from '../support/worker';

const APPLIED = { status: 200, received: true, outcome: 'applied' };
const IGNORED = { status: 200, received: true, outcome: 'ignored' };
const DUPLICATE = { status: 200, received: true, outcome: 'duplicate' };

type Json = Record<string, unknown>;
type Events = Record<string, Json>;

const hex = () => crypto.randomUUID().replaceAll('-', '');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The events of a checkout paid at the stand-in (not delivered yet), by type, as plain JSON. */
async function paidCheckoutEvents(): Promise<Events> {
  const plan = await createPlan();
  const { headers } = await subscriber();
  const paid = await payCheckout(await startCheckout(headers, plan.code));
  const events: Events = {};
  for (const event of paid.events) events[event.type] = structuredClone(event) as unknown as Json;
  return events;
}

const objectOf = (event: Json) => (event.data as { object: Json }).object;

/** Signs and delivers `payload`, expecting a 400 INVALID_WEBHOOK_EVENT that changed no table. */
async function expectRefused(payload: unknown, detail: string) {
  const before = await rowCounts();
  const response = await signedDelivery(JSON.stringify(payload));
  const problem = await expectProblem(response, 400, 'INVALID_WEBHOOK_EVENT');
  expect(problem).toMatchObject({ title: 'Invalid webhook event', detail });
  expect(rowCountChanges(before, await rowCounts())).toEqual([]);
}

describe('malformed events', () => {
  const subscriptionEvent = 'customer.subscription.created';
  const cases: [string, (events: Events) => unknown, string][] = [
    ['a payload that is not an object', () => [], 'Malformed Stripe event: not a JSON object'],
    [
      'no data',
      (events) => ({ ...events[subscriptionEvent], data: undefined }),
      'Malformed Stripe event: data is missing or invalid',
    ],
    [
      'data without object',
      (events) => ({ ...events[subscriptionEvent], data: {} }),
      'Malformed Stripe event: data.object is missing or invalid',
    ],
    [
      'an object without an id',
      (events) => {
        const event = events[subscriptionEvent]!;
        return { ...event, data: { object: { ...objectOf(event), id: undefined } } };
      },
      'Malformed Stripe event: data.object.id is missing or invalid',
    ],
    [
      'a NUL in the event id',
      (events) => ({ ...events[subscriptionEvent], id: `evt_${hex()}\u0000` }),
      'Malformed Stripe event: id is missing or invalid',
    ],
    [
      'an event id that is not an evt_ id',
      (events) => ({ ...events[subscriptionEvent], id: `sub_${hex()}` }),
      'Malformed Stripe event: id is missing or invalid',
    ],
    [
      'an event id of 300 characters',
      (events) => ({ ...events[subscriptionEvent], id: `evt_${'a'.repeat(296)}` }),
      'Malformed Stripe event: id is missing or invalid',
    ],
    [
      'a NUL in the subscription id',
      (events) => {
        const event = events[subscriptionEvent]!;
        const object = objectOf(event);
        return { ...event, data: { object: { ...object, id: `${object.id}\u0000` } } };
      },
      'Malformed Stripe event: data.object.id is missing or invalid',
    ],
    [
      'a NUL in the subscription id of an invoice',
      (events) => {
        const event = events['invoice.paid']!;
        const invoice = objectOf(event);
        const parent = { subscription_details: { subscription: 'sub_\u0000' } };
        return { ...event, data: { object: { ...invoice, parent } } };
      },
      'Malformed Stripe event: data.object.parent.subscription_details.subscription is missing or invalid',
    ],
    [
      'an invoice amount given as a string',
      (events) => {
        const event = events['invoice.paid']!;
        return { ...event, data: { object: { ...objectOf(event), amount_paid: '1900' } } };
      },
      'Malformed Stripe event: data.object.amount_paid is missing or invalid',
    ],
    [
      'a checkout session whose subscription is a number',
      (events) => {
        const event = events['checkout.session.completed']!;
        return { ...event, data: { object: { ...objectOf(event), subscription: 42 } } };
      },
      'Malformed Stripe event: data.object.subscription is missing or invalid',
    ],
    [
      'created = 0',
      (events) => ({ ...events[subscriptionEvent], created: 0 }),
      'Malformed Stripe event: created is missing or invalid',
    ],
    [
      'created = 1e12',
      (events) => ({ ...events[subscriptionEvent], created: 1e12 }),
      'Malformed Stripe event: created is missing or invalid',
    ],
    [
      'created two days ahead',
      (events) => ({ ...events[subscriptionEvent], created: nowSeconds() + 2 * 86_400 }),
      'Malformed Stripe event: created is missing or invalid',
    ],
    [
      'created as a string',
      (events) => ({ ...events[subscriptionEvent], created: String(nowSeconds()) }),
      'Malformed Stripe event: created is missing or invalid',
    ],
    [
      'a type that is not a string',
      (events) => ({ ...events[subscriptionEvent], type: 42 }),
      'Malformed Stripe event: type is missing or invalid',
    ],
    [
      'a type of 300 characters',
      (events) => ({ ...events[subscriptionEvent], type: 'x'.repeat(300) }),
      'Malformed Stripe event: type is missing or invalid',
    ],
  ];

  it.each(cases)('answers 400 for %s and writes nothing', async (_, malformed, detail) => {
    const events = await paidCheckoutEvents();
    await expectRefused(malformed(events), detail);
    // The refusal recorded nothing: the real events still apply, each once.
    for (const event of Object.values(events))
      expect(await deliver(event as unknown as Stripe.Event)).toEqual(APPLIED);
  });

  it('accepts an event created a few hours ahead of our clock (Stripe’s clock may differ)', async () => {
    const events = await paidCheckoutEvents();
    const event = { ...events[subscriptionEvent], created: nowSeconds() + 3 * 3600 };
    expect(await deliver(event as unknown as Stripe.Event)).toEqual(APPLIED);
  });
});

describe('events about objects that are not ours', () => {
  const unknownSubscription = () => `sub_unknown${hex()}`;
  const envelope = (type: string, object: Json) => ({
    id: `evt_test_${hex()}`,
    object: 'event',
    api_version: '2025-09-30.clover',
    created: nowSeconds(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });

  it.each([
    [
      'customer.subscription.updated',
      () => ({ id: unknownSubscription(), object: 'subscription', cancel_at_period_end: false }),
    ],
    [
      'invoice.paid',
      () => ({
        id: `in_unknown${hex()}`,
        object: 'invoice',
        customer: `cus_unknown${hex()}`,
        currency: 'usd',
        amount_paid: 1900,
        amount_due: 1900,
        created: nowSeconds(),
        billing_reason: 'subscription_cycle',
        parent: { subscription_details: { subscription: unknownSubscription() } },
      }),
    ],
    [
      'checkout.session.completed',
      () => ({ id: `cs_unknown${hex()}`, object: 'checkout.session', subscription: unknownSubscription() }),
    ],
  ])('acknowledges %s for a subscription Stripe does not know as ignored, once', async (type, object) => {
    const event = envelope(type, object()) as unknown as Stripe.Event;
    const before = await rowCounts();
    expect(await deliver(event)).toEqual(IGNORED);
    const events = before.stripe_events!;
    expect(rowCountChanges(before, await rowCounts())).toEqual([`stripe_events: ${events} -> ${events + 1}`]);
    const recorded = await rowCounts();
    expect(await deliver(event)).toEqual(DUPLICATE);
    expect(rowCountChanges(recorded, await rowCounts())).toEqual([]);
  });

  it('still answers 502 when Stripe fails otherwise, so Stripe retries, and applies the retry', async () => {
    const events = await paidCheckoutEvents();
    const created = events['customer.subscription.created']!;
    const before = await rowCounts();
    const response = await withStripeFault(
      { mode: 'error', count: 2, match: `/v1/subscriptions/${objectOf(created).id}` },
      () => signedDelivery(JSON.stringify(created)),
    );
    const problem = await expectProblem(response, 502, 'PROVIDER_ERROR');
    expect(problem.detail).toMatch(/^Stripe refused to read the subscription/);
    expect(rowCountChanges(before, await rowCounts())).toEqual([]);
    expect(await deliver(created as unknown as Stripe.Event)).toEqual(APPLIED);
  });
});

describe('configuration', () => {
  it('answers 503 FEATURE_NOT_CONFIGURED, not a signature error, when the webhook secret is set without the API key', async () => {
    const payload = JSON.stringify({
      id: `evt_${hex()}`,
      object: 'event',
      type: 'customer.created',
      created: nowSeconds(),
    });
    const header = await stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: bindings.STRIPE_WEBHOOK_SECRET,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
    });
    const response = await api(
      '/billing/stripe/webhook',
      {
        method: 'POST',
        headers: { 'stripe-signature': header, 'content-type': 'application/json' },
        body: payload,
      },
      testEnv({ STRIPE_SECRET_KEY: '' }),
    );
    await expectProblem(response, 503, 'FEATURE_NOT_CONFIGURED');
  });
});
