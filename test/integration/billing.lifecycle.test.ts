import { describe, expect, it } from 'vitest';
import { createPlan, subscribedUser } from '../support/billing';
import { api, databaseRoundTrips } from '../support/worker';

describe('subscription lifecycle', () => {
  it('subscribe → pay → access, with payments and entitlements', async () => {
    const plan = await createPlan();
    const { headers, events } = await subscribedUser(plan);
    expect(events.map((e) => e.type)).toEqual([
      'checkout.session.completed',
      'customer.subscription.created',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const me = await api('/billing/subscriptions/me', { headers });
    const body = await me.json();
    expect(me.status).toBe(200);
    expect(body).toMatchObject({ status: 'active', has_access: true, plan: { code: plan.code } });
    const ent = await api('/billing/entitlements', { headers });
    expect(await ent.json()).toMatchObject({ tier: 'pro' });
    const payments = await api('/billing/payments/me', { headers });
    expect(await payments.json()).toMatchObject({
      total: 1,
      data: [{ amount_cents: 1900, status: 'succeeded' }],
    });
  });

  it('answers /billing/entitlements in one database round trip, and the plan list from cache', async () => {
    const plan = await createPlan();
    const { headers } = await subscribedUser(plan);
    const before = await databaseRoundTrips();
    expect((await api('/billing/entitlements', { headers })).status).toBe(200);
    expect((await databaseRoundTrips()) - before).toBe(1);
    await api('/billing/plans');
    const cached = await databaseRoundTrips();
    const list = (await (await api('/billing/plans')).json()) as { code: string }[];
    expect(await databaseRoundTrips()).toBe(cached);
    expect(list.map((p) => p.code)).toContain(plan.code);
  });
});
