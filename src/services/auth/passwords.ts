// Password reset by email link and password change. Both end every other session and send a notice.
import { and, eq, sql } from 'drizzle-orm';
import { emailTokens, sessions, users } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';
import { hashEmailToken, issueEmailToken } from './email-tokens';
import { revokeAllSessionsStatement } from './sessions';
import { findUserByEmail, type UserRow } from './users';

/** Sends a reset link if the account exists; the caller answers the same either way. */
export async function requestPasswordReset(s: Services, email: string): Promise<void> {
  const user = await findUserByEmail(s.db, email);
  if (!user) return;
  const token = await issueEmailToken(s.db, s.config, {
    userId: user.id,
    purpose: 'reset_password',
    now: s.clock.now(),
  });
  await s.sendEmail(
    user.email,
    {
      template: 'reset_password',
      data: { username: user.username, expiresInSeconds: s.config.VALIDATION_TOKEN_EXPIRE },
    },
    token,
  );
}

/**
 * Consumes the reset token, sets the password, marks the email verified (the link proved control
 * of it) and revokes every session, all in one statement.
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
      where id in (select user_id from consumed)
      returning id, email, username
    ),
    signed_out as (
      update ${sessions} set revoked_at = ${now}, revoke_reason = 'password_reset'
      where user_id in (select id from updated) and revoked_at is null
      returning id
    )
    select id, email, username from updated`);
  const user = rows[0];
  if (!user) throw new AppError('INVALID_EMAIL_TOKEN', 'This reset link is invalid or has expired');
  await s.sendEmail(user.email, {
    template: 'password_changed',
    data: { username: user.username, how: 'reset' },
  });
}

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
  const [updated] = await s.db.batch([
    s.db
      .update(users)
      .set({ passwordHash, updatedAt: now })
      // Only if nobody changed it since we verified the old one.
      .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)))
      .returning({ id: users.id }),
    revokeAllSessionsStatement(s.db, { userId: user.id, now, reason: 'password_changed', keep: sessionId }),
  ]);
  if (updated.length === 0)
    throw new AppError('CONFLICT', 'The password was changed concurrently; try again');
  await s.sendEmail(user.email, {
    template: 'password_changed',
    data: { username: user.username, how: 'changed' },
  });
}
