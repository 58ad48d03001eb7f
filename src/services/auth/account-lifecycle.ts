// What hangs off an account (sessions, emailed links, login codes, second-factor challenges) and the one
// SQL fragment that ends it.
// Every transition of an account (README, "Account lifecycle") ends what it names here inside the same
// statement that changes the account, so nothing outlives the state or credential it was issued under.
import { type SQL, sql } from 'drizzle-orm';
import { emailTokens, loginCodes, mfaChallenges, sessions } from '../../db/schema';
import type { EmailTokenPurpose } from './email-tokens';

export interface Ends {
  /** Sessions to end: all of them, or all but the caller's own. */
  sessions?: 'all' | { keep: string };
  /** Pending emailed links to void, by purpose. */
  links?: readonly EmailTokenPurpose[];
  /** Void pending login codes and second-factor challenges (sign-ins waiting for their TOTP code). */
  codes?: boolean;
  /** Why: recorded on every session this ends. */
  reason: string;
}

export const EVERY_LINK: readonly EmailTokenPurpose[] = ['verify_email', 'reset_password'];

/** Everything an account has hanging off it: what a credential change or a first mailbox proof ends. */
export const everything = (reason: string): Ends => ({
  sessions: 'all',
  links: EVERY_LINK,
  codes: true,
  reason,
});

/**
 * Common table expressions, each starting with a comma (append them after a statement's own CTEs), that
 * end what `ends` names for the accounts whose ids `accounts` selects. Postgres runs data-modifying CTEs
 * whether or not anything reads them, and all of them see the statement's one snapshot.
 */
export function endHangingOff(accounts: SQL, now: Date, ends: Ends): SQL {
  const parts: SQL[] = [];
  if (ends.sessions) {
    const keep = ends.sessions === 'all' ? sql`` : sql` and id <> ${ends.sessions.keep}::uuid`;
    parts.push(sql`, ended_sessions as (
      update ${sessions} set revoked_at = ${now}, revoke_reason = ${ends.reason}
      where user_id in (${accounts}) and revoked_at is null${keep}
      returning id)`);
  }
  if (ends.links && ends.links.length > 0) {
    const purposes = sql.join(
      ends.links.map((purpose) => sql`${purpose}`),
      sql`, `,
    );
    parts.push(sql`, ended_links as (
      update ${emailTokens} set consumed_at = ${now}
      where user_id in (${accounts}) and consumed_at is null and purpose in (${purposes})
      returning id)`);
  }
  if (ends.codes) {
    parts.push(sql`, ended_codes as (
      update ${loginCodes} set consumed_at = ${now}
      where user_id in (${accounts}) and consumed_at is null
      returning id)`);
    parts.push(sql`, ended_challenges as (
      update ${mfaChallenges} set consumed_at = ${now}
      where user_id in (${accounts}) and consumed_at is null
      returning id)`);
  }
  return sql.join(parts, sql``);
}
