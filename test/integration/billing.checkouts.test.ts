// At most one payable Checkout per user: asking again for the same plan returns it, another plan expires
// it at Stripe first; a second subscription Stripe reports anyway is cancelled and refunded, and its
// owner told. Through the Worker entry, against the Stripe stand-in.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { checkouts, payments, subscriptions } from '../../src/db/schema';
import { db } from '../support/accounts';
import {
  createPlan,
  deliverAll,
  payCheckout,
  startCheckout,
  stripe,
  stripeControl,
  subscribedUser,
  subscriber,
} from '../support/billing';
import { bindings } from '../support/bindings';
import { waitForMailWith } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const checkoutRows = (userId: string) => db().select().from(checkouts).where(eq(checkouts.userId, userId));

const payAtStandin = (sessionId: string) =>
  fetch(`${bindings.TEST_STRIPE_URL}/_standin/checkout/${sessionId}/pay`, {
    method: 'POST',
    body: JSON.stringify({ deliver: false }),
  });

describe('one open Checkout per user', () => {
  it('returns the same Checkout when asked twice for the same plan', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const first = await startCheckout(headers, plan.code);
    const again = await startCheckout(headers, plan.code);
    expect(again).toBe(first);
    expect(await checkoutRows(user.id)).toHaveLength(1);
  });

  it('expires the Checkout for plan A at Stripe before opening one for plan B: only B can be paid', async () => {
    const a = await createPlan();
    const b = await createPlan({ price_cents: 4900 });
    const { user, headers } = await subscriber();
    const sessionA = await startCheckout(headers, a.code);
    const sessionB = await startCheckout(headers, b.code);
    expect(sessionB).not.toBe(sessionA);

    expect((await stripe.checkout.sessions.retrieve(sessionA)).status).toBe('expired');
    expect((await stripe.checkout.sessions.retrieve(sessionB)).status).toBe('open');
    const payA = await payAtStandin(sessionA);
    expect(payA.status).toBe(400);
    const rows = await checkoutRows(user.id);
    expect(rows.map((row) => [row.stripeCheckoutSessionId, row.status]).sort()).toEqual(
      [
        [sessionA, 'expired'],
        [sessionB, 'open'],
      ].sort(),
    );

    const paid = await payCheckout(sessionB);
    await deliverAll(paid.events);
    const me = (await (await api('/billing/subscriptions/me', { headers })).json()) as Record<
      string,
      unknown
    >;
    expect(me).toMatchObject({ status: 'active', plan: { code: b.code } });
    const after = await checkoutRows(user.id);
    expect(after.find((row) => row.stripeCheckoutSessionId === sessionB)!.status).toBe('complete');
  });

  it('opens a new Checkout for A after A → B → A, never the expired first one', async () => {
    const a = await createPlan();
    const b = await createPlan({ price_cents: 4900 });
    const { headers } = await subscriber();
    const first = await startCheckout(headers, a.code);
    await startCheckout(headers, b.code);
    const third = await startCheckout(headers, a.code);
    expect(third).not.toBe(first);
    expect((await stripe.checkout.sessions.retrieve(third)).status).toBe('open');
  });

  it('answers 409 when the Checkout it would replace was paid meanwhile (webhooks not yet arrived)', async () => {
    const a = await createPlan();
    const b = await createPlan({ price_cents: 4900 });
    const { user, headers } = await subscriber();
    const sessionA = await startCheckout(headers, a.code);
    await payCheckout(sessionA);

    const response = await api('/billing/subscriptions/subscribe', {
      method: 'POST',
      headers,
      json: { plan_code: b.code },
    });
    await expectProblem(response, 409, 'SUBSCRIPTION_EXISTS');
    expect((await checkoutRows(user.id)).map((row) => row.status)).toEqual(['complete']);
  });

  it('frees the user when Stripe reports the Checkout expired', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const sessionId = await startCheckout(headers, plan.code);
    await stripe.checkout.sessions.expire(sessionId);
    const [expired] = (
      await stripeControl<{ data: { id: string; type: string; data: { object: { id: string } } }[] }>(
        '/events?type=checkout.session.expired',
      )
    ).data.filter((event) => event.data.object.id === sessionId);
    expect(expired).toBeDefined();
    const results = await deliverAll([expired as never]);
    expect(results).toEqual([{ status: 200, received: true, outcome: 'applied' }]);
    expect((await checkoutRows(user.id)).map((row) => row.status)).toEqual(['expired']);
  });
});

describe('a second paid subscription', () => {
  it('is cancelled at Stripe and refunded, the first is kept, and the owner is told', async () => {
    const plan = await createPlan({ name: 'Team' });
    const first = await subscribedUser(plan);
    // A Checkout opened outside this API (say, an old link) for the same customer and user, and paid.
    const [stored] = await db().select().from(subscriptions).where(eq(subscriptions.userId, first.user.id));
    const price = (await stripe.subscriptions.retrieve(stored!.stripeSubscriptionId)).items.data[0]!.price.id;
    const metadata = { user_id: first.user.id, plan_id: plan.id };
    const extra = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: stored!.stripeCustomerId,
      line_items: [{ price, quantity: 1 }],
      success_url: 'http://app.edgeauth.test/ok',
      cancel_url: 'http://app.edgeauth.test/no',
      metadata,
      subscription_data: { metadata },
    });
    const second = await payCheckout(extra.id);

    const results = await deliverAll(second.events);
    for (const result of results) expect(result.status).toBe(200);

    expect((await stripe.subscriptions.retrieve(second.subscription.id)).status).toBe('canceled');
    expect((await stripe.subscriptions.retrieve(stored!.stripeSubscriptionId)).status).toBe('active');
    const refunds = await stripe.invoicePayments.list({ invoice: second.invoice.id });
    const paymentIntent = refunds.data[0]!.payment.payment_intent as string;
    await expect(
      stripe.refunds.create({ payment_intent: paymentIntent }),
      'the full amount was refunded already',
    ).rejects.toThrow(/already been refunded/);

    const [payment] = await db()
      .select()
      .from(payments)
      .where(eq(payments.stripeInvoiceId, second.invoice.id));
    expect(payment).toMatchObject({ status: 'refunded', amountCents: second.invoice.amount_paid });
    const listed = (await (await api('/billing/payments/me', { headers: first.headers })).json()) as {
      data: { invoice_id: string; status: string }[];
    };
    expect(listed.data.find((row) => row.invoice_id === second.invoice.id)?.status).toBe('refunded');
    const me = (await (await api('/billing/subscriptions/me', { headers: first.headers })).json()) as Record<
      string,
      unknown
    >;
    expect(me).toMatchObject({ status: 'active', has_access: true });
    const notice = await waitForMailWith(first.user.email, /second Team subscription was refunded/);
    expect(notice.Text).toContain('refunded 19.00 USD');
  });
});
