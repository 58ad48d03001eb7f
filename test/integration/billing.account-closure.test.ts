// Closing an account ends its billing first, at Stripe: the live subscription is cancelled at once, an open
// Checkout expired, and a Checkout paid just before is cancelled and refunded. A Stripe failure closes
// nothing. Through POST /deactivate and the Worker entry.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { subscriptions } from '../../src/db/schema';
import { db, PASSWORD, reloadUser } from '../support/accounts';
import {
  createPlan,
  payCheckout,
  startCheckout,
  stripe,
  stripeControl,
  subscribedUser,
  subscriber,
} from '../support/billing';
import { withStripeFault } from '../support/faults';
import { waitForMailWith } from '../support/mailbox';
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
});
