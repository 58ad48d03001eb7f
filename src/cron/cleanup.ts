// The daily clean-up: deletes expired one-time secrets (links, codes, second-factor challenges), finished
// sessions and old webhook event ids.
// Deletes in bounded batches so one run never holds long locks, and is safe to run twice at once.
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import {
  emailTokens,
  loginCodes,
  mfaChallenges,
  refreshTokens,
  sessions,
  stripeEvents,
  webauthnChallenges,
} from '../db/schema';
import { DAY_MS } from '../lib/time';

const BATCH = 5_000;
const MAX_BATCHES_PER_TABLE = 20;
/** Stripe retries a webhook for up to three days; ids are kept well past that to recognise replays. */
export const STRIPE_EVENT_RETENTION_DAYS = 30;
/** Ended sessions stay visible to support for a while before they go. */
export const ENDED_SESSION_RETENTION_DAYS = 30;

async function deleteInBatches(db: Database, table: string, where: ReturnType<typeof sql>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES_PER_TABLE; i++) {
    const { rowCount } = await db.execute(
      // `= any(array(...))` is a TID scan of just the chosen rows; `ctid in (select ...)` reads the whole table.
      sql`delete from ${sql.identifier(table)} where ctid = any(array(select ctid from ${sql.identifier(table)} where ${where} limit ${BATCH}))`,
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) break;
  }
  return total;
}

export async function cleanUpExpired(db: Database, now: Date) {
  const sessionCutoff = new Date(now.getTime() - ENDED_SESSION_RETENTION_DAYS * DAY_MS);
  const eventCutoff = new Date(now.getTime() - STRIPE_EVENT_RETENTION_DAYS * DAY_MS);
  return {
    email_tokens: await deleteInBatches(db, 'email_tokens', sql`${emailTokens.expiresAt} < ${now}`),
    login_codes: await deleteInBatches(db, 'login_codes', sql`${loginCodes.expiresAt} < ${now}`),
    mfa_challenges: await deleteInBatches(db, 'mfa_challenges', sql`${mfaChallenges.expiresAt} < ${now}`),
    refresh_tokens: await deleteInBatches(db, 'refresh_tokens', sql`${refreshTokens.expiresAt} < ${now}`),
    sessions: await deleteInBatches(
      db,
      'sessions',
      sql`${sessions.expiresAt} < ${sessionCutoff} or ${sessions.revokedAt} < ${sessionCutoff}`,
    ),
    stripe_events: await deleteInBatches(
      db,
      'stripe_events',
      sql`${stripeEvents.receivedAt} < ${eventCutoff}`,
    ),
    webauthn_challenges: await deleteInBatches(
      db,
      'webauthn_challenges',
      sql`${webauthnChallenges.expiresAt} < ${now}`,
    ),
  };
}
