// Closing an account. The owner confirms with the password (or a fresh emailed code); billing ends first,
// at Stripe (see closeBilling), then one batch disables the account and ends everything hanging off it.
// An unverified account is deleted instead: nothing was proven or billed, and a squatter who closed an
// address they registered must not keep its owner out of it.
import { and, eq, sql } from 'drizzle-orm';
import { checkouts, users } from '../../db/schema';
import { log } from '../../lib/log';
import { describeError } from '../../lib/log-error';
import type { Services } from '../../services';
import { expireCheckout } from '../billing/checkouts';
import { closeBilling } from '../billing/termination';
import { mayEmail } from '../mail/throttle';
import { endHangingOff, everything } from './account-lifecycle';
import { confirmOwner, type OwnerProof } from './reauthentication';
import type { UserRow } from './users';

/**
 * Best effort: a Checkout that still gets paid is refused by the webhook (a live subscription of a
 * deactivated account is cancelled and refunded at once).
 */
async function expireRacedCheckouts(s: Services, raced: { sessionId: string | null }[]) {
  for (const { sessionId } of raced) {
    if (!sessionId) continue;
    await expireCheckout(s, sessionId).catch((error: unknown) =>
      log('warn', 'raced checkout not expired', { error: describeError(error, { dependency: 'stripe' }) }),
    );
  }
}

export interface Deactivation {
  deleted: boolean;
  /** The plan whose subscription was cancelled, if one was live. */
  canceledPlan: string | null;
}

export async function deactivateAccount(
  s: Services,
  user: UserRow,
  proof: OwnerProof,
): Promise<Deactivation> {
  await confirmOwner(s, user, proof);
  if (!user.isVerified) {
    await s.db.delete(users).where(eq(users.id, user.id));
    s.authCache.forget(user.id);
    // Whoever registered the address can repeat register-and-close: its owner hears of it once a minute.
    if (await mayEmail(s, 'account_deleted', user.email).catch(() => false)) {
      await s.sendEmail(user.email, {
        template: 'account_deactivated',
        data: { username: user.username, deleted: true, canceledPlan: null },
      });
    }
    return { deleted: true, canceledPlan: null };
  }
  const billing = await closeBilling(s, user.id);
  const now = s.clock.now();
  const results = await s.db.batch([
    s.db.execute(sql`
      with closed as (
        update ${users} set is_active = false, deactivated_at = ${now}, updated_at = ${now}
        where id = ${user.id}
        returning id
      )
      ${endHangingOff(sql`select id from closed`, now, everything('deactivated'))}
      select id from closed`),
    ...billing.writes,
    // A Checkout a concurrent subscribe stored after closeBilling looked: closed here, expired below.
    s.db
      .update(checkouts)
      .set({ status: 'expired' })
      .where(and(eq(checkouts.userId, user.id), eq(checkouts.status, 'open')))
      .returning({ sessionId: checkouts.stripeCheckoutSessionId }),
  ]);
  // Before the Stripe calls and the mail: the revoked sessions stop working here at once.
  s.authCache.forget(user.id);
  await expireRacedCheckouts(s, results[results.length - 1] as { sessionId: string | null }[]);
  await s.sendEmail(user.email, {
    template: 'account_deactivated',
    data: { username: user.username, deleted: false, canceledPlan: billing.endedPlan },
  });
  return { deleted: false, canceledPlan: billing.endedPlan };
}
