// The daily clean-up through the Worker's scheduled handler: expired secrets and old records go,
// live ones stay, and a second overlapping run is harmless.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DAILY_CLEANUP } from '../../src/cron/schedules';
import {
  emailTokens,
  mfaChallenges,
  refreshTokens,
  sessions,
  stripeEvents,
  webauthnChallenges,
} from '../../src/db/schema';
import { createUser, db } from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { workerFor } from '../support/worker';

const DAY = 24 * 60 * 60 * 1000;

async function runCleanup(now: Date) {
  const ctx = createExecutionContext();
  const env = envWithClock(fakeClock(now));
  await workerFor(env).scheduled(
    createScheduledController({ cron: DAILY_CLEANUP, scheduledTime: now }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

describe('daily clean-up', () => {
  it('deletes expired tokens, long-ended sessions and old webhook ids, and keeps the rest', async () => {
    const now = new Date('2030-01-15T03:30:00Z');
    const ago = (days: number) => new Date(now.getTime() - days * DAY);
    const user = await createUser();
    const [expiredToken, liveToken] = await db()
      .insert(emailTokens)
      .values([
        { userId: user.id, purpose: 'verify_email', tokenHash: crypto.randomUUID(), expiresAt: ago(1) },
        { userId: user.id, purpose: 'reset_password', tokenHash: crypto.randomUUID(), expiresAt: ago(-1) },
      ])
      .returning();
    const [oldSession, recentSession] = await db()
      .insert(sessions)
      .values([
        { userId: user.id, expiresAt: ago(40), createdAt: ago(70) },
        { userId: user.id, expiresAt: ago(-10), createdAt: ago(1) },
      ])
      .returning();
    const [deadRefresh] = await db()
      .insert(refreshTokens)
      .values([
        { sessionId: recentSession!.id, tokenHash: crypto.randomUUID(), expiresAt: ago(2) },
        { sessionId: recentSession!.id, tokenHash: crypto.randomUUID(), expiresAt: ago(-2) },
      ])
      .returning();
    const eventIds = [`evt_old_${crypto.randomUUID()}`, `evt_new_${crypto.randomUUID()}`];
    await db()
      .insert(stripeEvents)
      .values([
        { id: eventIds[0]!, type: 'invoice.paid', stripeCreatedAt: ago(45), receivedAt: ago(45) },
        { id: eventIds[1]!, type: 'invoice.paid', stripeCreatedAt: ago(2), receivedAt: ago(2) },
      ]);

    await Promise.all([runCleanup(now), runCleanup(now)]);

    const tokens = await db()
      .select({ id: emailTokens.id })
      .from(emailTokens)
      .where(eq(emailTokens.userId, user.id));
    expect(tokens.map((t) => t.id)).toEqual([liveToken!.id]);
    expect(expiredToken).toBeDefined();
    const remainingSessions = await db()
      .select({ id: sessions.id })
      .from(sessions)
      .where(eq(sessions.userId, user.id));
    expect(remainingSessions.map((s) => s.id)).toEqual([recentSession!.id]);
    expect(oldSession).toBeDefined();
    const refresh = await db()
      .select({ id: refreshTokens.id })
      .from(refreshTokens)
      .where(eq(refreshTokens.sessionId, recentSession!.id));
    expect(refresh).toHaveLength(1);
    expect(refresh[0]!.id).not.toBe(deadRefresh!.id);
    const events = await db()
      .select({ id: stripeEvents.id })
      .from(stripeEvents)
      .where(inArray(stripeEvents.id, eventIds));
    expect(events.map((e) => e.id)).toEqual([eventIds[1]]);
  });

  it('deletes expired second-factor challenges and keeps live ones', async () => {
    const now = new Date('2030-01-15T03:30:00Z');
    const user = await createUser();
    const [, live] = await db()
      .insert(mfaChallenges)
      .values([
        { userId: user.id, tokenHash: crypto.randomUUID(), expiresAt: new Date(now.getTime() - 60_000) },
        { userId: user.id, tokenHash: crypto.randomUUID(), expiresAt: new Date(now.getTime() + 60_000) },
      ])
      .returning();
    await runCleanup(now);
    const left = await db().select().from(mfaChallenges).where(eq(mfaChallenges.userId, user.id));
    expect(left.map((row) => row.id)).toEqual([live!.id]);
  });

  it('deletes passkey challenges that expired unused, and keeps live ones', async () => {
    const now = new Date('2030-01-15T03:30:00Z');
    const user = await createUser();
    const expired = `expired-${crypto.randomUUID()}`;
    const live = `live-${crypto.randomUUID()}`;
    await db()
      .insert(webauthnChallenges)
      .values([
        { challenge: expired, purpose: 'login', expiresAt: new Date(now.getTime() - 60_000) },
        {
          challenge: live,
          purpose: 'register',
          userId: user.id,
          expiresAt: new Date(now.getTime() + 60_000),
        },
      ]);
    await runCleanup(now);
    const left = await db()
      .select({ challenge: webauthnChallenges.challenge })
      .from(webauthnChallenges)
      .where(inArray(webauthnChallenges.challenge, [expired, live]));
    expect(left).toEqual([{ challenge: live }]);
  });
});
