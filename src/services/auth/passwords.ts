// Password reset by email link and password change. Both end every other session and send a notice.
import { sql } from 'drizzle-orm';
import { emailTokens, users } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';
import { mayEmail } from '../mail/throttle';
import { endHangingOff } from './account-lifecycle';
import { emailLink, hashEmailToken } from './email-tokens';
import { findUserByEmail, type UserRow } from './users';

/**
 * Sends a reset link if the account exists and is active (a reset cannot reopen a closed account); the
 * caller answers the same either way.
 */
export async function requestPasswordReset(s: Services, email: string): Promise<void> {
  const user = await findUserByEmail(s.db, email);
  // Checked before a token is issued: a held-back request must not void the link already sent.
  if (!user?.isActive || !(await mayEmail(s, 'reset_password', user.email))) return;
  await emailLink(s, user, 'reset_password');
}

/**
 * Consumes the reset token, sets the password and marks the email verified (the link proved control
 * of it), all in one statement. A new credential ends everything issued under the old one: every
 * session, the other pending links and any login code.
 */
export async function resetPassword(s: Services, { token, password }: { token: string; password: string }) {
  const passwordHash = await s.hasher.hash(password);
  const now = s.clock.now();
  const tokenHash = await hashEmailToken(s.config, 'reset_password', token);
  const { rows } = await s.db.execute<{ id: string; email: string; username: string }>(sql`
    with consumed as (
      update ${emailTokens} set consumed_at = ${now}
      where token_hash = ${tokenHash} and purpose = 'reset_password' and consumed_at is null and expires_at > ${now}
      returning user_id
    ),
    updated as (
      update ${users} set password_hash = ${passwordHash}, is_verified = true, updated_at = ${now}
      where id in (select user_id from consumed) and is_active
      returning id, email, username
    )
    ${endHangingOff(sql`select id from updated`, now, {
      // The reset link in hand is the only live one of its kind (issuing one voids the last).
      sessions: 'all',
      links: ['verify_email'],
      codes: true,
      reason: 'password_reset',
    })}
    select id, email, username from updated`);
  const user = rows[0];
  if (!user) throw new AppError('INVALID_EMAIL_TOKEN', 'This reset link is invalid or has expired');
  s.authCache.forget(user.id);
  await s.sendEmail(user.email, {
    template: 'password_changed',
    data: { username: user.username, how: 'reset' },
  });
}

/**
 * Verifies the old password, then sets the new one only if nobody changed it meanwhile, ending the
 * other sessions, every pending reset link and any login code in the same statement.
 */
export async function changePassword(
  s: Services,
  {
    user,
    sessionId,
    oldPassword,
    newPassword,
  }: { user: UserRow; sessionId: string; oldPassword: string; newPassword: string },
) {
  const { ok } = await s.hasher.verify(user.passwordHash, oldPassword);
  if (!ok || !user.passwordHash) throw new AppError('INCORRECT_PASSWORD', "Old password isn't correct");
  const passwordHash = await s.hasher.hash(newPassword);
  const now = s.clock.now();
  const { rows } = await s.db.execute<{ id: string }>(sql`
    with updated as (
      update ${users} set password_hash = ${passwordHash}, updated_at = ${now}
      where id = ${user.id} and password_hash = ${user.passwordHash}
      returning id
    )
    ${endHangingOff(sql`select id from updated`, now, {
      sessions: { keep: sessionId },
      links: ['reset_password'],
      codes: true,
      reason: 'password_changed',
    })}
    select id from updated`);
  if (rows.length === 0) throw new AppError('CONFLICT', 'The password was changed concurrently; try again');
  s.authCache.forget(user.id);
  await s.sendEmail(user.email, {
    template: 'password_changed',
    data: { username: user.username, how: 'changed' },
  });
}
