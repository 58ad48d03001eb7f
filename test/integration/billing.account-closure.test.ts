// Closing an account ends its billing first, at Stripe: the live subscription is cancelled at once, an open
// Checkout expired, and a Checkout paid just before is cancelled and refunded. A Stripe failure closes
// nothing. Through POST /deactivate and the Worker entry.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { payments, subscriptions, users } from '../../src/db/schema';
import { db, PASSWORD, reloadUser } from '../support/accounts';
import {
  createPlan,
  deliver,
  deliverAll,
  payCheckout,
  startCheckout,
  stripe,
  stripeControl,
  subscribedUser,
  subscriber,
} from '../support/billing';
import { withStripeFault } from '../support/faults';
import { mailsTo, waitForMailWith } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const deactivate = (headers: Record<string, string>) =>
  api('/deactivate', { method: 'POST', headers, json: { password: PASSWORD } });

const subscriptionOf = async (userId: string) =>
  (await db().select().from(subscriptions).where(eq(subscriptions.userId, userId)))[0]!;

describe('POST /deactivate with billing', () => {
  it('cancels the live subscription at Stripe at once and says so', async () => {
    const plan = await createPlan({ name: 'Closing' });
    const { user, headers, subscription } = await subscribedUser(plan);

    const response = await deactivate(headers);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      message: 'User deactivated.',
      deleted: false,
      subscription_canceled: true,
    });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    expect(await subscriptionOf(user.id)).toMatchObject({ status: 'canceled' });
    // Nothing left to renew: Stripe refuses to move a cancelled subscription on.
    await expect(
      stripeControl(`/subscriptions/${subscription.id}/renew`, { deliver: false }),
    ).rejects.toThrow(/canceled/);
    const notice = await waitForMailWith(user.email, /deactivated/);
    expect(notice.Text).toContain(
      'Your Closing subscription was cancelled at once: you will not be charged again.',
    );
  });

  it('expires an open Checkout, so it can no longer be paid', async () => {
    const plan = await createPlan();
    const { headers } = await subscriber();
    const sessionId = await startCheckout(headers, plan.code);
    expect((await deactivate(headers)).status).toBe(200);
    expect((await stripe.checkout.sessions.retrieve(sessionId)).status).toBe('expired');
  });

  it('cancels and refunds a Checkout that was paid just before, whose webhooks had not arrived', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));

    const response = await deactivate(headers);
    expect(response.status).toBe(200);
    expect((await stripe.subscriptions.retrieve(paid.subscription.id)).status).toBe('canceled');
    const [payment] = (await stripe.invoicePayments.list({ invoice: paid.invoice.id })).data;
    await expect(
      stripe.refunds.create({ payment_intent: payment!.payment.payment_intent as string }),
    ).rejects.toThrow(/already been refunded/);
    expect((await reloadUser(user.id))!.isActive).toBe(false);
  });

  it('closes nothing when Stripe cannot cancel the subscription', async () => {
    const plan = await createPlan();
    const { user, headers, subscription } = await subscribedUser(plan);
    const response = await withStripeFault(
      { mode: 'down', match: `/v1/subscriptions/${subscription.id}` },
      () => deactivate(headers),
    );
    await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
    expect((await reloadUser(user.id))!.isActive).toBe(true);
    expect((await api('/me', { headers })).status).toBe(200);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    expect(await subscriptionOf(user.id)).toMatchObject({ status: 'active' });
  });

  it('leaves no payable Checkout when a subscribe races the deactivation', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    // Checkout creation takes a while at Stripe: the account closes in between.
    const [subscribed, deactivated] = await withStripeFault(
      { mode: 'slow', delay_ms: 2000, match: '/v1/checkout/sessions' },
      async () => {
        const pending = api('/billing/subscriptions/subscribe', {
          method: 'POST',
          headers,
          json: { plan_code: plan.code },
        });
        await scheduler.wait(300);
        const closing = deactivate(headers);
        return [await pending, await closing] as const;
      },
    );
    expect(deactivated.status).toBe(200);
    await expectProblem(subscribed, 403, 'ACCOUNT_DISABLED');
    const customer = (await reloadUser(user.id))!.stripeCustomerId!;
    const sessions = await stripe.checkout.sessions.list({ customer });
    expect(sessions.data.length).toBeGreaterThan(0);
    expect(sessions.data.map((session) => session.status)).toEqual(sessions.data.map(() => 'expired'));
  });
});

describe('a subscription paid for an account that is already closed', () => {
  it('is cancelled at Stripe and refunded when its events arrive, with no welcome email', async () => {
    const plan = await createPlan({ name: 'Late' });
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    // Closed after the Checkout was paid but before its events arrived (the race above, lost at Stripe).
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));

    const results = await deliverAll(paid.events);
    for (const result of results) expect(result.status).toBe(200);

    expect((await stripe.subscriptions.retrieve(paid.subscription.id)).status).toBe('canceled');
    expect(await subscriptionOf(user.id)).toMatchObject({ status: 'canceled' });
    const [payment] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, paid.invoice.id));
    expect(payment).toMatchObject({ status: 'refunded' });
    const notice = await waitForMailWith(user.email, /payment was refunded/);
    expect(notice.Text).toContain('cancelled and 19.00 USD refunded');
    expect((await mailsTo(user.email)).filter((mail) => /has started/.test(mail.Subject))).toEqual([]);
  });

  it('takes the event back when the refund fails, and refunds on the redelivery', async () => {
    const plan = await createPlan();
    const { user, headers } = await subscriber();
    const paid = await payCheckout(await startCheckout(headers, plan.code));
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    const invoicePaid = paid.events.find((event) => event.type === 'invoice.paid')!;

    const failed = await withStripeFault({ mode: 'down', match: '/v1/refunds', count: 2 }, () =>
      deliver(invoicePaid),
    );
    expect(failed.status).toBe(503);
    expect((await stripe.subscriptions.retrieve(paid.subscription.id)).status).toBe('canceled');

    expect(await deliver(invoicePaid)).toEqual({ status: 200, received: true, outcome: 'ignored' });
    const [payment] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, paid.invoice.id));
    expect(payment).toMatchObject({ status: 'refunded' });
    expect(await deliver(invoicePaid)).toEqual({ status: 200, received: true, outcome: 'duplicate' });
    await waitForMailWith(user.email, /payment was refunded/);
    // The later events of the same subscription find the refund recorded: one notice, not four.
    await deliverAll(paid.events.filter((event) => event !== invoicePaid));
    const notices = (await mailsTo(user.email)).filter((mail) => /payment was refunded/.test(mail.Subject));
    expect(notices).toHaveLength(1);
  });
});
