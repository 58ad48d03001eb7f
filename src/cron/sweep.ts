// The hourly subscription sweep: ends what Stripe should have ended, even if a webhook was lost.
// Scheduled cancellations past their period end become canceled; past_due beyond the grace period
// becomes unpaid. Bounded batches with SKIP LOCKED, so overlapping runs neither block nor double-apply.
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { subscriptions } from '../db/schema';
import { DAY_MS } from '../lib/time';

const BATCH = 500;
const MAX_BATCHES = 20;

async function repeat(update: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const changed = await update();
    total += changed;
    if (changed < BATCH) break;
  }
  return total;
}

export async function sweepSubscriptions(db: Database, now: Date, graceDays: number) {
  const graceStart = new Date(now.getTime() - graceDays * DAY_MS);
  const ended = await repeat(async () => {
    const { rowCount } = await db.execute(sql`
      update ${subscriptions} set status = 'canceled', ended_at = current_period_end, updated_at = ${now}
      where id in (
        select id from ${subscriptions}
        where status in ('active', 'trialing') and cancel_at_period_end and current_period_end <= ${now}
        limit ${BATCH} for update skip locked)`);
    return rowCount ?? 0;
  });
  const lapsed = await repeat(async () => {
    const { rowCount } = await db.execute(sql`
      update ${subscriptions} set status = 'unpaid', updated_at = ${now}
      where id in (
        select id from ${subscriptions}
        where status = 'past_due' and past_due_since <= ${graceStart}
        limit ${BATCH} for update skip locked)`);
    return rowCount ?? 0;
  });
  return { ended, lapsed };
}
