// The hourly subscription sweep through the Worker's scheduled handler.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { HOURLY_SWEEP } from '../../src/cron/schedules';
import { plans, subscriptions } from '../../src/db/schema';
import { bearer, createUser, db, login, uniqueIp } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { api, workerFor } from '../support/worker';

const DAY = 24 * 60 * 60 * 1000;
const now = new Date('2030-03-01T10:00:00Z');
const ago = (d: number) => new Date(now.getTime() - d * DAY);

async function sweep(env = envWithClock(fakeClock(now))) {
  const ctx = createExecutionContext();
  await workerFor(env).scheduled(
    createScheduledController({ cron: HOURLY_SWEEP, scheduledTime: now }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

async function subscriptionRow(values: Partial<typeof subscriptions.$inferInsert>, owner?: { id: string }) {
  const user = owner ?? (await createUser());
  const [plan] = await db()
    .insert(plans)
    .values({
      code: `sweep-${crypto.randomUUID().slice(0, 8)}`,
      name: 'Pro',
      priceCents: 1000,
      billingPeriod: 'monthly',
    })
    .returning();
  const [row] = await db()
    .insert(subscriptions)
    .values({
      userId: user.id,
      planId: plan!.id,
      status: 'active',
      stripeSubscriptionId: `sub_${crypto.randomUUID()}`,
      stripeCustomerId: `cus_${crypto.randomUUID()}`,
      stripeEventAt: ago(40),
      ...values,
    })
    .returning();
  return row!;
}

const statusOf = async (id: string) =>
  (await db().select().from(subscriptions).where(eq(subscriptions.id, id)))[0];

describe('hourly subscription sweep', () => {
  it('ends scheduled cancellations whose period is over, and only those', async () => {
    const due = await subscriptionRow({ cancelAtPeriodEnd: true, currentPeriodEnd: ago(1) });
    const notYet = await subscriptionRow({ cancelAtPeriodEnd: true, currentPeriodEnd: ago(-5) });
    const renewing = await subscriptionRow({ cancelAtPeriodEnd: false, currentPeriodEnd: ago(1) });
    await Promise.all([sweep(), sweep()]);
    expect(await statusOf(due.id)).toMatchObject({ status: 'canceled', endedAt: ago(1) });
    expect((await statusOf(notYet.id))?.status).toBe('active');
    expect((await statusOf(renewing.id))?.status).toBe('active');
  });

  it('ends past_due subscriptions once the grace period is over', async () => {
    const lapsed = await subscriptionRow({
      status: 'past_due',
      pastDueSince: ago(8),
      currentPeriodEnd: ago(-20),
    });
    const inGrace = await subscriptionRow({
      status: 'past_due',
      pastDueSince: ago(2),
      currentPeriodEnd: ago(-20),
    });
    await sweep();
    expect((await statusOf(lapsed.id))?.status).toBe('unpaid');
    expect((await statusOf(inGrace.id))?.status).toBe('past_due');
  });

  it('is idempotent: a second run changes nothing more', async () => {
    const due = await subscriptionRow({ cancelAtPeriodEnd: true, currentPeriodEnd: ago(2) });
    await sweep();
    const first = await statusOf(due.id);
    await sweep();
    expect(await statusOf(due.id)).toEqual(first);
  });

  it('forgets what its isolate cached, so reads there show the sweep at once', async () => {
    const env = envWithClock(fakeClock(now), { AUTH_CACHE_TTL_SECONDS: '60' });
    const user = await createUser();
    await subscriptionRow({ cancelAtPeriodEnd: true, currentPeriodEnd: ago(1) }, user);
    const { token } = await login(user.email, undefined, { 'cf-connecting-ip': uniqueIp() }, env);
    const mine = async (target: Env) => {
      const response = await api('/billing/subscriptions/me', { headers: bearer(token) }, target);
      return { status: response.status, body: await response.json() };
    };
    const before = await mine(env);
    expect(before).toEqual(await mine(env)); // now cached in this isolate
    await sweep(env);
    const after = await mine(env);
    expect(after).not.toEqual(before);
    // What an isolate that never cached it reads from the database.
    expect(after).toEqual(await mine(envWithClock(fakeClock(now))));
  });
});
