// Creating accounts and proving email ownership. Registration answers the same whether or not the
// email is taken: a taken email gets a notice sent to its owner instead of a second account.
import { or, sql } from 'drizzle-orm';
import { emailTokens, users } from '../../db/schema';
import { AppError } from '../../errors';
import { randomToken } from '../../lib/crypto';
import type { Services } from '../../services';
import { EMAIL_COOLDOWN_SECONDS, mayEmail } from '../mail/throttle';
import { endHangingOff } from './account-lifecycle';
import { hashEmailToken, issueEmailToken } from './email-tokens';
import { normalizeEmail, type PublicUser, type UserRow } from './users';

/** A new verification link on request; one a minute per address at most (429 otherwise). */
export async function sendVerificationEmail(s: Services, user: Pick<UserRow, 'id' | 'email' | 'username'>) {
  if (!(await mayEmail(s, 'verify_email', user.email))) {
    throw new AppError(
      'RATE_LIMITED',
      'A verification email was sent a moment ago; check your inbox or try again later',
      {},
      { 'Retry-After': String(EMAIL_COOLDOWN_SECONDS) },
    );
  }
  const token = await issueEmailToken(s.db, s.config, {
    userId: user.id,
    purpose: 'verify_email',
    now: s.clock.now(),
  });
  await s.sendEmail(
    user.email,
    {
      template: 'verify_email',
      data: { username: user.username, expiresInSeconds: s.config.VALIDATION_TOKEN_EXPIRE },
    },
    token,
  );
}

export async function registerAccount(
  s: Services,
  input: { email: string; username: string; password: string },
): Promise<PublicUser> {
  const passwordHash = await s.hasher.hash(input.password);
  const now = s.clock.now();
  const email = input.email.trim();
  // The account and its verification token are one statement: never an account without its link.
  const token = randomToken();
  const tokenHash = await hashEmailToken(s.config, 'verify_email', token);
  const expiresAt = new Date(now.getTime() + s.config.VALIDATION_TOKEN_EXPIRE * 1000);
  const { rows } = await s.db.execute<{ id: string }>(sql`
    with created as (
      insert into ${users} (email, username, password_hash, created_at, updated_at)
      values (${email}, ${input.username}, ${passwordHash}, ${now}, ${now})
      on conflict do nothing
      returning id
    ),
    link as (
      insert into ${emailTokens} (user_id, purpose, token_hash, created_at, expires_at)
      select id, 'verify_email', ${tokenHash}, ${now}, ${expiresAt} from created
    )
    select id from created`);
  const created = rows[0];
  if (created) {
    await s.sendEmail(
      email,
      {
        template: 'verify_email',
        data: { username: input.username, expiresInSeconds: s.config.VALIDATION_TOKEN_EXPIRE },
      },
      token,
    );
    return freshAccount(created.id, email, input.username, now);
  }
  // A unique index said no: find out which. A username is public, so one taken by another address
  // may be said; one held by this very address must look like any taken email, or sending the same
  // request twice would tell a new address (201 then 409) from a registered one (201, 201).
  const existing = await s.db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(
      or(
        sql`lower(${users.email}) = ${normalizeEmail(email)}`,
        sql`lower(${users.username}) = ${input.username.toLowerCase()}`,
      ),
    );
  const isThisEmail = (row: { email: string }) => normalizeEmail(row.email) === normalizeEmail(email);
  if (
    existing.some((row) => row.username.toLowerCase() === input.username.toLowerCase() && !isThisEmail(row))
  ) {
    throw new AppError('USERNAME_TAKEN', 'Username already exists');
  }
  const owner = existing.find(isThisEmail);
  if (owner) await noticeOwner(s, owner);
  // Exactly what a new account gets (with an id nobody has), so the email's owner stays secret.
  return freshAccount(crypto.randomUUID(), email, input.username, now);
}

/**
 * Tells the owner of a taken email about the sign-up attempt, at most once a minute. A Redis failure
 * sends nothing rather than answer differently from a new email.
 */
async function noticeOwner(s: Services, owner: { email: string; username: string }) {
  const may = await mayEmail(s, 'account_exists', owner.email).catch(() => false);
  if (may) await s.sendEmail(owner.email, { template: 'account_exists', data: { username: owner.username } });
}

function freshAccount(id: string, email: string, username: string, now: Date): PublicUser {
  return {
    id,
    email,
    username,
    is_verified: false,
    is_admin: false,
    has_password: true,
    created_at: now.toISOString(),
  };
}

/**
 * Consumes a verification token and marks the email verified, in one statement. The first proof that
 * someone controls the mailbox ends every session opened before it, so a squatter who registered the
 * address first keeps none. The password stays: the link confirms the registration it was sent for,
 * password included (the email says so). It is the only live link: issuing one voids the last.
 */
export async function verifyEmail(s: Services, token: string): Promise<void> {
  const now = s.clock.now();
  const tokenHash = await hashEmailToken(s.config, 'verify_email', token);
  const { rows } = await s.db.execute<{ id: string }>(sql`
    with consumed as (
      update ${emailTokens} set consumed_at = ${now}
      where token_hash = ${tokenHash} and purpose = 'verify_email' and consumed_at is null and expires_at > ${now}
      returning user_id
    ),
    first_proof as (
      select id from ${users} where id in (select user_id from consumed) and not is_verified
    ),
    verified as (
      update ${users} set is_verified = true, updated_at = ${now}
      where id in (select user_id from consumed)
      returning id
    )
    ${endHangingOff(sql`select id from first_proof`, now, { sessions: 'all', reason: 'mailbox_proven' })}
    select id from verified`);
  if (rows.length === 0)
    throw new AppError('INVALID_EMAIL_TOKEN', 'This verification link is invalid or has expired');
}
