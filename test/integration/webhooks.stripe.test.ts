// POST /billing/stripe/webhook: signature and replay checks on the raw body, idempotent and order-independent
// application of Stripe events (signed for real), the lifecycle emails, and Stripe outages answered with a retry.
import { asc, eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { payments, plans, stripeEvents, subscriptions } from '../../src/db/schema';
import { db } from '../support/accounts';
import {
  createPlan,
  deliver,
  deliverAll,
  type PlanBody,
  payCheckout,
  signedDelivery,
  startCheckout,
  stripe,
  stripeControl,
  subscribedUser,
  subscriber,
} from '../support/billing';
import { bindings } from '../support/bindings';
import { withStripeFault } from '../support/faults';
import { mailsTo, waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api, databaseRoundTrips } from '../support/worker';

const APPLIED = { status: 200, received: true, outcome: 'applied' };
const DUPLICATE = { status: 200, received: true, outcome: 'duplicate' };

const tag = () => crypto.randomUUID().slice(0, 6);
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();
const day = (unixSeconds: number) => iso(unixSeconds).slice(0, 10);
const periodEndOf = (sub: Stripe.Subscription) => sub.items.data[0]!.current_period_end;

interface Step {
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice | null;
  events: Stripe.Event[];
}

const renew = (subscriptionId: string) =>
  stripeControl<Step>(`/subscriptions/${subscriptionId}/renew`, { deliver: false });
const failPayment = (subscriptionId: string) =>
  stripeControl<Step>(`/subscriptions/${subscriptionId}/fail_payment`, { deliver: false });

/** The Stripe subscription an event is about, whatever the object it carries. */
function subscriptionOf(event: Stripe.Event): string | null {
  const object = event.data.object as {
    id?: string;
    object?: string;
    subscription?: string | null;
    parent?: { subscription_details?: { subscription?: string } | null } | null;
  };
  if (object.object === 'subscription') return object.id ?? null;
  if (object.object === 'checkout.session') return object.subscription ?? null;
  if (object.object === 'invoice') return object.parent?.subscription_details?.subscription ?? null;
  return null;
}

/** Events the stand-in emitted for one subscription (those caused by the Worker's own Stripe calls too). */
async function eventsAtStripe(subscriptionId: string, type: string): Promise<Stripe.Event[]> {
  const { data } = await stripeControl<{ data: Stripe.Event[] }>(`/events?type=${encodeURIComponent(type)}`);
  return data.filter((event) => subscriptionOf(event) === subscriptionId);
}

/** Events of `type` for the subscription not in `seen` yet, which are then added to it. */
async function newEvents(subscriptionId: string, type: string, seen: Set<string>) {
  const fresh = (await eventsAtStripe(subscriptionId, type)).filter((event) => !seen.has(event.id));
  for (const event of fresh) seen.add(event.id);
  return fresh;
}

/** Everything stored locally about one user's billing, in a stable order. */
async function localState(userId: string) {
  const subs = await db()
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.userId, userId))
    .orderBy(asc(subscriptions.createdAt));
  const pays = await db()
    .select()
    .from(payments)
    .where(eq(payments.userId, userId))
    .orderBy(asc(payments.stripeInvoiceId));
  return { subs, pays };
}

async function storedEvent(id: string) {
  return db().select().from(stripeEvents).where(eq(stripeEvents.id, id));
}

async function subjectsTo(email: string) {
  return (await mailsTo(email)).map((mail) => mail.Subject).sort();
}

/**
 * Polls the mail sink until an email with `subject` has reached `email` (queue delivery is asynchronous).
 * Emails queued before it have then almost surely arrived too, which makes it a marker for "nothing more".
 */
async function waitForSubject(email: string, subject: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await mailsTo(email);
    const mail = mails.find((m) => m.Subject === subject);
    if (mail) return { mail, subjects: mails.map((m) => m.Subject).sort() };
    if (Date.now() > deadline) {
      throw new Error(
        `no email "${subject}" to ${email}; got ${JSON.stringify(mails.map((m) => m.Subject))}`,
      );
    }
    await scheduler.wait(50);
  }
}

/** How many times each subject was sent. */
function tally(subjects: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const subject of subjects) counts[subject] = (counts[subject] ?? 0) + 1;
  return counts;
}

async function stripePriceIdOf(plan: PlanBody): Promise<string> {
  const [row] = await db().select({ price: plans.stripePriceId }).from(plans).where(eq(plans.id, plan.id));
  return row!.price!;
}

/** A deterministic shuffle (mulberry32), so a failing order can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

describe('signature verification', () => {
  async function paidCheckout() {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    return { user, paid, event: paid.events[0]! };
  }

  async function expectRejected(response: Response, detail: string) {
    const body = await expectProblem(response, 400, 'INVALID_SIGNATURE');
    expect(body.title).toBe('Invalid webhook signature');
    expect(body.detail).toBe(detail);
  }

  it('answers 400 INVALID_SIGNATURE without a Stripe-Signature header, and applies nothing', async () => {
    const { user, event } = await paidCheckout();
    const response = await api('/billing/stripe/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    await expectRejected(response, 'Missing Stripe-Signature header');
    expect(await storedEvent(event.id)).toEqual([]);
    expect(await localState(user.id)).toEqual({ subs: [], pays: [] });
    // The same event, properly signed, is then applied: the refusal recorded nothing.
    expect(await deliver(event)).toEqual(APPLIED);
  });

  it('answers 400 INVALID_SIGNATURE for a payload signed with another secret', async () => {
    const { user, event } = await paidCheckout();
    const response = await signedDelivery(JSON.stringify(event), { secret: 'whsec_not_the_endpoint_secret' });
    await expectRejected(response, 'Stripe signature verification failed');
    expect(await storedEvent(event.id)).toEqual([]);
    expect(await localState(user.id)).toEqual({ subs: [], pays: [] });
  });

  it('answers 400 INVALID_SIGNATURE for a payload changed after signing', async () => {
    const { user, event } = await paidCheckout();
    const victim = await subscriber();
    const payload = JSON.stringify(event);
    const header = await stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: bindings.STRIPE_WEBHOOK_SECRET,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
    });
    const tampered = payload.replaceAll(user.id, victim.user.id);
    expect(tampered).not.toBe(payload);
    const response = await api('/billing/stripe/webhook', {
      method: 'POST',
      headers: { 'stripe-signature': header, 'content-type': 'application/json' },
      body: tampered,
    });
    await expectRejected(response, 'Stripe signature verification failed');
    expect(await storedEvent(event.id)).toEqual([]);
    expect(await localState(victim.user.id)).toEqual({ subs: [], pays: [] });
  });

  it('answers 400 INVALID_SIGNATURE for a validly signed delivery older than 5 minutes (replay)', async () => {
    const { user, event } = await paidCheckout();
    const payload = JSON.stringify(event);
    const old = await signedDelivery(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    await expectRejected(old, 'Stripe signature verification failed');
    expect(await storedEvent(event.id)).toEqual([]);
    expect(await localState(user.id)).toEqual({ subs: [], pays: [] });
    // Four minutes old is still within the tolerance.
    const recent = await signedDelivery(payload, { timestamp: Math.floor(Date.now() / 1000) - 240 });
    expect(recent.status).toBe(200);
    expect(await recent.json()).toEqual({ received: true, outcome: 'applied' });
  });
});

describe('event handling', () => {
  it('acknowledges an unhandled event type as ignored, and a repeat of it as a duplicate', async () => {
    const event = {
      id: `evt_test_${crypto.randomUUID().replaceAll('-', '')}`,
      object: 'event',
      api_version: '2025-09-30.clover',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `cus_test_${tag()}`, object: 'customer', email: 'someone@example.com' } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'customer.created',
    };
    const response = await signedDelivery(JSON.stringify(event));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ received: true, outcome: 'ignored' });
    expect(await storedEvent(event.id)).toEqual([
      expect.objectContaining({ id: event.id, type: 'customer.created' }),
    ]);
    expect(await deliver(event as unknown as Stripe.Event)).toEqual(DUPLICATE);
  });

  it('applies each handled event once: a second delivery is a duplicate that changes nothing', async () => {
    const plan = await createPlan({ name: `Twice ${tag()}` });
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    const sub = paid.subscription.id;

    const deliverTwice = async (event: Stripe.Event) => {
      expect(await deliver(event), event.type).toEqual(APPLIED);
      const after = await localState(user.id);
      expect(await deliver(event), event.type).toEqual(DUPLICATE);
      expect(await localState(user.id), event.type).toEqual(after);
    };

    for (const event of paid.events) await deliverTwice(event);
    const failed = await failPayment(sub);
    for (const event of failed.events) await deliverTwice(event);
    await stripe.subscriptions.update(sub, { cancel_at_period_end: true });
    const seen = new Set([...paid.events, ...failed.events].map((e) => e.id));
    const scheduled = await newEvents(sub, 'customer.subscription.updated', seen);
    expect(scheduled).toHaveLength(1);
    const cancelScheduled = scheduled[0]!;
    await deliverTwice(cancelScheduled);
    await stripe.subscriptions.cancel(sub);
    const deleted = await eventsAtStripe(sub, 'customer.subscription.deleted');
    expect(deleted).toHaveLength(1);
    await deliverTwice(deleted[0]!);

    const delivered = [...paid.events, ...failed.events, cancelScheduled, deleted[0]!];
    expect(new Set(delivered.map((e) => e.type))).toEqual(
      new Set([
        'checkout.session.completed',
        'customer.subscription.created',
        'customer.subscription.updated',
        'customer.subscription.deleted',
        'invoice.paid',
        'invoice.payment_succeeded',
        'invoice.payment_failed',
      ]),
    );
    const { subs, pays } = await localState(user.id);
    expect(subs.map((s) => [s.stripeSubscriptionId, s.status])).toEqual([[sub, 'canceled']]);
    expect(pays.map((p) => [p.stripeInvoiceId, p.status]).sort()).toEqual(
      [
        [paid.invoice.id, 'succeeded'],
        [failed.invoice!.id, 'failed'],
      ].sort(),
    );
    for (const event of delivered) expect(await storedEvent(event.id)).toHaveLength(1);

    // The last notice was queued after every duplicate, so once it is here a duplicate's would be too.
    const { subjects } = await waitForSubject(user.email, `Your ${plan.name} subscription has ended`);
    const sent = tally(subjects);
    expect(sent).toMatchObject({
      [`Your ${plan.name} subscription has started`]: 1,
      [`Payment for ${plan.name} failed`]: 1,
      [`Your ${plan.name} subscription will end on ${day(periodEndOf(failed.subscription))}`]: 1,
      [`Your ${plan.name} subscription has ended`]: 1,
    });
    expect(
      Object.values(sent).every((count) => count === 1),
      JSON.stringify(sent),
    ).toBe(true);
  });

  it('applies one of five concurrent deliveries of the same event; the others are duplicates', async () => {
    const plan = await createPlan({ name: `Race ${tag()}` });
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    const [completed, created, invoicePaid, succeeded] = paid.events;
    expect(await deliverAll([completed!, created!])).toEqual([APPLIED, APPLIED]);

    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(invoicePaid!)));
    for (const result of results) expect(result.status).toBeLessThan(500);
    expect(results.map((r) => r.outcome).sort()).toEqual([
      'applied',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(await deliver(succeeded!)).toEqual(APPLIED);
    const { pays } = await localState(user.id);
    expect(pays.map((p) => [p.stripeInvoiceId, p.status, p.amountCents])).toEqual([
      [paid.invoice.id, 'succeeded', 1900],
    ]);

    // A later notice as a marker: once it has arrived, a second "started" email would have too.
    const failed = await failPayment(paid.subscription.id);
    await deliverAll(failed.events);
    const { subjects } = await waitForSubject(user.email, `Payment for ${plan.name} failed`);
    expect(tally(subjects)[`Your ${plan.name} subscription has started`]).toBe(1);
  });

  it('records a renewal’s invoice.paid once, extends the period and sends the "renewed" email', async () => {
    const plan = await createPlan({ name: `Renew ${tag()}` });
    const { user, headers, subscription } = await subscribedUser(plan);
    await waitForMail(user.email, { count: 1 });
    const renewed = await renew(subscription.id);
    expect(renewed.events.map((e) => e.type)).toEqual([
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
    ]);
    expect(await deliverAll(renewed.events)).toEqual([APPLIED, APPLIED, APPLIED]);
    expect(await deliverAll(renewed.events)).toEqual([DUPLICATE, DUPLICATE, DUPLICATE]);

    const newEnd = periodEndOf(renewed.subscription);
    expect(newEnd).toBeGreaterThan(periodEndOf(subscription));
    const me = await api('/billing/subscriptions/me', { headers });
    expect(await me.json()).toMatchObject({
      status: 'active',
      current_period_start: iso(renewed.subscription.items.data[0]!.current_period_start),
      current_period_end: iso(newEnd),
      has_access: true,
      access_until: iso(newEnd),
    });
    const { subs, pays } = await localState(user.id);
    expect(pays.filter((p) => p.stripeInvoiceId === renewed.invoice!.id)).toEqual([
      expect.objectContaining({
        subscriptionId: subs[0]!.id,
        amountCents: 1900,
        currency: 'usd',
        status: 'succeeded',
      }),
    ]);
    expect(pays).toHaveLength(2);

    const { mail } = await waitForSubject(user.email, `Your ${plan.name} subscription was renewed`);
    expect(mail.Text).toContain(`now runs until ${day(newEnd)}`);
  });

  it('marks the subscription past_due on invoice.payment_failed, records the failed payment and emails', async () => {
    const plan = await createPlan({ name: `Fail ${tag()}` });
    const { user, headers, subscription } = await subscribedUser(plan);
    await waitForMail(user.email, { count: 1 });
    const failed = await failPayment(subscription.id);
    expect(failed.events.map((e) => e.type)).toEqual([
      'invoice.payment_failed',
      'customer.subscription.updated',
    ]);
    expect(await deliverAll(failed.events)).toEqual([APPLIED, APPLIED]);

    const me = await api('/billing/subscriptions/me', { headers });
    expect(await me.json()).toMatchObject({ status: 'past_due', has_access: true });
    const { subs, pays } = await localState(user.id);
    expect(subs.map((s) => s.status)).toEqual(['past_due']);
    expect(pays.filter((p) => p.stripeInvoiceId === failed.invoice!.id)).toEqual([
      expect.objectContaining({ subscriptionId: subs[0]!.id, amountCents: 1900, status: 'failed' }),
    ]);
    const list = await api('/billing/payments/me', { headers });
    expect(await list.json()).toMatchObject({
      total: 2,
      data: expect.arrayContaining([
        expect.objectContaining({ invoice_id: failed.invoice!.id, status: 'failed', amount_cents: 1900 }),
      ]),
    });

    const { mail } = await waitForSubject(user.email, `Payment for ${plan.name} failed`);
    expect(mail.Text).toContain(`We could not collect the payment for your ${plan.name} subscription.`);
  });

  it('ends the subscription on customer.subscription.deleted: canceled, no access, "ended" email', async () => {
    const plan = await createPlan({ name: `End ${tag()}` });
    const { user, headers, subscription } = await subscribedUser(plan);
    await waitForMail(user.email, { count: 1 });
    const canceled = await stripe.subscriptions.cancel(subscription.id);
    const deleted = await eventsAtStripe(subscription.id, 'customer.subscription.deleted');
    expect(deleted).toHaveLength(1);
    expect(await deliver(deleted[0]!)).toEqual(APPLIED);

    const me = await api('/billing/subscriptions/me', { headers });
    expect(await me.json()).toMatchObject({
      status: 'canceled',
      canceled_at: iso(canceled.canceled_at!),
      has_access: false,
      access_until: null,
    });
    await expectProblem(await api('/billing/entitlements', { headers }), 403, 'SUBSCRIPTION_REQUIRED');
    const mail = await waitForMail(user.email, { count: 2 });
    expect(mail.Subject).toBe(`Your ${plan.name} subscription has ended`);
    // Ended, the user may subscribe again.
    const again = await api('/billing/subscriptions/subscribe', {
      method: 'POST',
      headers,
      json: { plan_code: plan.code },
    });
    expect(again.status).toBe(201);
  });

  it('sends no "plan changed" email when a renewal or a failed payment updates the subscription', async () => {
    const plan = await createPlan({ name: `Quiet ${tag()}` });
    const { user, subscription } = await subscribedUser(plan);
    const sub = subscription.id;
    for (const step of [renew, failPayment]) {
      const { events } = await step(sub);
      expect(events.map((e) => e.type)).toContain('customer.subscription.updated');
      expect((await deliverAll(events)).every((r) => r.outcome === 'applied')).toBe(true);
    }
    // A notice the user did cause, queued last, as the marker that everything before it has arrived.
    const seen = new Set<string>(
      (await eventsAtStripe(sub, 'customer.subscription.updated')).map((e) => e.id),
    );
    const updated = await stripe.subscriptions.update(sub, { cancel_at_period_end: true });
    expect(await deliverAll(await newEvents(sub, 'customer.subscription.updated', seen))).toEqual([APPLIED]);
    const scheduled = `Your ${plan.name} subscription will end on ${day(periodEndOf(updated))}`;
    const { subjects } = await waitForSubject(user.email, scheduled);
    expect(subjects).toEqual(
      [
        `Your ${plan.name} subscription has started`,
        `Your ${plan.name} subscription was renewed`,
        `Payment for ${plan.name} failed`,
        scheduled,
      ].sort(),
    );
  });

  it('emails "started", "plan changed" and "cancel scheduled" for the changes the user makes', async () => {
    const basic = await createPlan({ name: `Basic ${tag()}`, price_cents: 1900 });
    const max = await createPlan({ name: `Max ${tag()}`, price_cents: 4900, tier: 'vip' });
    const { user, headers, subscription } = await subscribedUser(basic);
    const sub = subscription.id;
    const seen = new Set<string>();

    const started = await waitForMail(user.email, { count: 1 });
    expect(started.Subject).toBe(`Your ${basic.name} subscription has started`);
    expect(started.Text).toContain(`It renews on ${day(periodEndOf(subscription))}`);

    const upgrade = await api('/billing/subscriptions/upgrade', {
      method: 'POST',
      headers,
      json: { plan_code: max.code },
    });
    expect(upgrade.status).toBe(200);
    const changed = await newEvents(sub, 'customer.subscription.updated', seen);
    expect(changed).toHaveLength(1);
    expect(await deliverAll(changed)).toEqual([APPLIED]);
    const planChanged = await waitForMail(user.email, { count: 2 });
    expect(planChanged.Subject).toBe(`You are now on ${max.name}`);

    const cancel = await api('/billing/subscriptions/cancel', { method: 'POST', headers });
    expect(cancel.status).toBe(200);
    const scheduled = await newEvents(sub, 'customer.subscription.updated', seen);
    expect(scheduled).toHaveLength(1);
    expect(await deliverAll(scheduled)).toEqual([APPLIED]);
    const cancelMail = await waitForMail(user.email, { count: 3 });
    expect(cancelMail.Subject).toBe(
      `Your ${max.name} subscription will end on ${day(periodEndOf(subscription))}`,
    );
    expect(cancelMail.Text).toContain(`You keep access until ${day(periodEndOf(subscription))}`);
    expect(await subjectsTo(user.email)).toHaveLength(3);
  });
});

describe('order independence', () => {
  /** What a user sees of their billing once everything has been delivered. */
  async function outcome(headers: Record<string, string>) {
    const me = (await (await api('/billing/subscriptions/me', { headers })).json()) as {
      status: string;
      plan: { code: string };
      cancel_at_period_end: boolean;
      has_access: boolean;
    };
    const page = (await (await api('/billing/payments/me', { headers })).json()) as {
      total: number;
      data: { status: string }[];
    };
    return {
      status: me.status,
      plan_code: me.plan.code,
      cancel_at_period_end: me.cancel_at_period_end,
      has_access: me.has_access,
      payments: page.total,
      payment_statuses: page.data.map((p) => p.status).sort(),
    };
  }

  it('ends in the same state whether a lifecycle’s events arrive in order or shuffled', async () => {
    const basic = await createPlan({ name: `Basic ${tag()}`, price_cents: 1900 });
    const max = await createPlan({ name: `Max ${tag()}`, price_cents: 4900, tier: 'vip' });
    const maxPrice = await stripePriceIdOf(max);

    // In order: each step's events are delivered as they happen; changes go through our API.
    const inOrder = await subscriber();
    const paidB = await payCheckout(await startCheckout(inOrder.headers, basic.code));
    const subB = paidB.subscription.id;
    const seenB = new Set(paidB.events.map((e) => e.id));
    const eventsB = [...paidB.events];
    const deliverB = async (events: Stripe.Event[]) => {
      eventsB.push(...events);
      return deliverAll(events);
    };
    const outcomesB = [...(await deliverAll(paidB.events))];
    const upgraded = await api('/billing/subscriptions/upgrade', {
      method: 'POST',
      headers: inOrder.headers,
      json: { plan_code: max.code },
    });
    expect(upgraded.status).toBe(200);
    outcomesB.push(...(await deliverB(await newEvents(subB, 'customer.subscription.updated', seenB))));
    for (const step of [renew, failPayment, renew]) {
      const { events } = await step(subB);
      for (const event of events) seenB.add(event.id);
      outcomesB.push(...(await deliverB(events)));
    }
    const canceled = await api('/billing/subscriptions/cancel', { method: 'POST', headers: inOrder.headers });
    expect(canceled.status).toBe(200);
    outcomesB.push(...(await deliverB(await newEvents(subB, 'customer.subscription.updated', seenB))));
    expect(outcomesB.every((o) => o.status === 200 && o.outcome === 'applied')).toBe(true);

    // Shuffled: the same steps happen at Stripe (changes as from the portal), then every event arrives at once.
    const shuffledUser = await subscriber();
    const paidA = await payCheckout(await startCheckout(shuffledUser.headers, basic.code));
    const subA = paidA.subscription.id;
    const seenA = new Set(paidA.events.map((e) => e.id));
    const eventsA = [...paidA.events];
    await stripe.subscriptions.update(subA, {
      items: [{ id: paidA.subscription.items.data[0]!.id, price: maxPrice }],
      proration_behavior: 'create_prorations',
      metadata: { user_id: shuffledUser.user.id, plan_id: max.id },
    });
    eventsA.push(...(await newEvents(subA, 'customer.subscription.updated', seenA)));
    for (const step of [renew, failPayment, renew]) {
      const { events } = await step(subA);
      for (const event of events) seenA.add(event.id);
      eventsA.push(...events);
    }
    await stripe.subscriptions.update(subA, { cancel_at_period_end: true });
    eventsA.push(...(await newEvents(subA, 'customer.subscription.updated', seenA)));
    // The same lifecycle at Stripe: the same events, in the same order, for both users.
    expect(eventsA.map((e) => e.type)).toEqual(eventsB.map((e) => e.type));

    const order = shuffled(eventsA, 20_251_124);
    expect(order.map((e) => e.id)).not.toEqual(eventsA.map((e) => e.id));
    const outcomesA = [];
    for (const event of order) outcomesA.push({ type: event.type, ...(await deliver(event)) });
    expect(outcomesA.filter((o) => o.status !== 200 || o.outcome !== 'applied')).toEqual([]);

    const expected = {
      status: 'active',
      plan_code: max.code,
      cancel_at_period_end: true,
      has_access: true,
      payments: 3,
      payment_statuses: ['succeeded', 'succeeded', 'succeeded'],
    };
    expect(await outcome(inOrder.headers)).toEqual(expected);
    expect(await outcome(shuffledUser.headers)).toEqual(expected);
  });
});

describe('Stripe outages', () => {
  it('answers 503 while Stripe cannot be reached, so Stripe retries, and applies the retry', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    const subscriptionPath = `/v1/subscriptions/${paid.subscription.id}`;
    const [completed, ...rest] = paid.events;

    const response = await withStripeFault({ mode: 'down', match: subscriptionPath }, () =>
      signedDelivery(JSON.stringify(completed)),
    );
    const body = await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
    expect(body.detail).toBe('Stripe could not be reached (read the subscription)');
    expect(await storedEvent(completed!.id)).toEqual([]);
    expect(await localState(user.id)).toEqual({ subs: [], pays: [] });

    // Stripe's retry, once the outage is over (withStripeFault cleared the fault).
    expect(await deliver(completed!)).toEqual(APPLIED);
    expect(await deliverAll(rest)).toEqual([APPLIED, APPLIED, APPLIED]);
    const me = await api('/billing/subscriptions/me', { headers });
    expect(await me.json()).toMatchObject({ status: 'active', has_access: true, plan: { code: plan.code } });
  });
});

describe('database round trips', () => {
  it('uses at most 2 database round trips per webhook delivery', async () => {
    const plan = await createPlan();
    const { headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    const failed = await failPayment(paid.subscription.id);
    const trips: Record<string, number> = {};
    const measure = async (label: string, event: Stripe.Event) => {
      const before = await databaseRoundTrips();
      const result = await deliver(event);
      trips[label] = (await databaseRoundTrips()) - before;
      return result;
    };
    for (const event of [...paid.events, ...failed.events]) {
      expect(await measure(`${event.type} (applied)`, event)).toEqual(APPLIED);
    }
    expect(await measure('duplicate', paid.events[0]!)).toEqual(DUPLICATE);
    for (const [label, count] of Object.entries(trips)) expect(count, label).toBeLessThanOrEqual(2);
  });
});
