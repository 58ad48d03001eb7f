// What our subscription row records of a Stripe subscription, before any SQL runs.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { subscriptionFacts } from '../../src/services/billing/subscription-sync';

const observedAt = new Date('2030-06-15T12:00:00Z');
const USER = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const PLAN = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';

const stripeSubscription = (fields: Record<string, unknown> = {}) =>
  ({
    id: 'sub_1',
    status: 'active',
    customer: 'cus_1',
    metadata: { user_id: USER, plan_id: PLAN },
    cancel_at_period_end: false,
    canceled_at: null,
    ended_at: null,
    items: {
      data: [
        { price: { id: 'price_1' }, current_period_start: 1_907_000_000, current_period_end: 1_909_592_000 },
      ],
    },
    ...fields,
  }) as unknown as Stripe.Subscription;

describe('subscriptionFacts', () => {
  it('reads the period from the first item and converts Stripe seconds to dates', () => {
    expect(subscriptionFacts(stripeSubscription(), observedAt)).toEqual({
      status: 'active',
      stripeSubscriptionId: 'sub_1',
      customerId: 'cus_1',
      metaUser: USER,
      metaPlan: PLAN,
      priceId: 'price_1',
      currentPeriodStart: new Date(1_907_000_000_000),
      currentPeriodEnd: new Date(1_909_592_000_000),
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      pastDueSince: null,
    });
  });

  it('takes the customer id from an expanded customer and ignores metadata that is not a uuid', () => {
    const facts = subscriptionFacts(
      stripeSubscription({ customer: { id: 'cus_2' }, metadata: { user_id: "1' or '1'='1", plan_id: '' } }),
      observedAt,
    );
    expect(facts).toMatchObject({ customerId: 'cus_2', metaUser: null, metaPlan: null });
  });

  it('marks when it was first seen past due, and records cancellation and end times', () => {
    expect(subscriptionFacts(stripeSubscription({ status: 'past_due' }), observedAt).pastDueSince).toEqual(
      observedAt,
    );
    const ended = subscriptionFacts(
      stripeSubscription({ status: 'canceled', canceled_at: 1_908_000_000, ended_at: 1_908_000_100 }),
      observedAt,
    );
    expect(ended).toMatchObject({
      pastDueSince: null,
      canceledAt: new Date(1_908_000_000_000),
      endedAt: new Date(1_908_000_100_000),
    });
  });

  it('has no period or price without items', () => {
    expect(subscriptionFacts(stripeSubscription({ items: { data: [] } }), observedAt)).toMatchObject({
      priceId: null,
      currentPeriodStart: null,
      currentPeriodEnd: null,
    });
  });
});
