// Creating accounts and proving email ownership. Registration answers the same whether or not the
// email is taken: a taken email gets a notice sent to its owner instead of a second account.
import { sql } from 'drizzle-orm';
import { emailTokens, users } from '../../db/schema';
import { AppError } from '../../errors';
import { randomToken } from '../../lib/crypto';
import { withDeadline } from '../../lib/deadline';
import type { Services } from '../../services';
import { EMAIL_COOLDOWN_SECONDS, mayEmail } from '../mail/throttle';
import { endHangingOff } from './account-lifecycle';
import { emailLink, hashEmailToken } from './email-tokens';
import { lockIdentity, normalizeEmail, type PublicUser, type UserRow } from './users';

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
  await emailLink(s, user, 'verify_email');
}

/**
 * A username a decoy answer pretended to create stays taken for this long, as if the account existed:
 * otherwise sending the same request twice would tell a new address (201, then 409 for its own
 * username) from a registered one (201, 201).
 */
export const DECOY_USERNAME_TTL_SECONDS = 30 * 24 * 60 * 60;
const decoyKey = (username: string) => `edgeauth:decoy-username:${username.toLowerCase()}`;

/** A Redis call bounded like every other; failing, registration answers 503 whatever the email. */
async function redisCall<T>(work: Promise<T>): Promise<T> {
  try {
    return await withDeadline(work, 1500);
  } catch {
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'Registration is unavailable; try again shortly');
  }
}

const usernameTaken = () => new AppError('USERNAME_TAKEN', 'Username already exists');

/**
 * Registration answers one thing for a taken username (409, whoever holds it) and another for
 * everything else (201 with the new account's shape): a new address gets its account and a
 * verification link; a registered one gets the same answer, a notice to its owner, and the username
 * held for DECOY_USERNAME_TTL_SECONDS. Both paths make the same database round trip (one transaction)
 * and the same Redis calls.
 */
export async function registerAccount(
  s: Services,
  input: { email: string; username: string; password: string },
): Promise<PublicUser> {
  const passwordHash = await s.hasher.hash(input.password);
  const now = s.clock.now();
  const email = input.email.trim();
  if (await redisCall(s.redis.exists(decoyKey(input.username)))) throw usernameTaken();
  // The account and its verification token are one statement: never an account without its link. What
  // stood in the way, if anything, is read in the same statement, after lockIdentity: without it, a
  // sign-up racing one still committing would read a snapshot without it, and a registered email (its
  // conflict found at once) would answer differently from a new one (which waits on the username), in
  // status and in time.
  const token = randomToken();
  const tokenHash = await hashEmailToken(s.config, 'verify_email', token);
  const expiresAt = new Date(now.getTime() + s.config.VALIDATION_TOKEN_EXPIRE * 1000);
  const normalized = normalizeEmail(email);
  const username = input.username.toLowerCase();
  const [, { rows }] = await s.db.batch([
    s.db.execute(lockIdentity(email, input.username)),
    s.db.execute<{
      id: string | null;
      username_taken: boolean;
      owner_email: string | null;
      owner_username: string | null;
    }>(sql`
      with created as (
        insert into ${users} (email, username, password_hash, created_at, updated_at)
        values (${email}, ${input.username}, ${passwordHash}, ${now}, ${now})
        on conflict do nothing
        returning id
      ),
      link as (
        insert into ${emailTokens} (user_id, purpose, token_hash, created_at, expires_at)
        select id, 'verify_email', ${tokenHash}, ${now}, ${expiresAt} from created
      ),
      owner as (select email, username from ${users} where lower(email) = ${normalized})
      select (select id from created) as id,
        exists (select 1 from ${users} where lower(username) = ${username}) as username_taken,
        (select email from owner) as owner_email, (select username from owner) as owner_username`),
  ]);
  const result = rows[0]!;
  if (result.id) {
    if (await mayEmail(s, 'verify_email', email)) {
      await s.sendEmail(
        email,
        {
          template: 'verify_email',
          data: { username: input.username, expiresInSeconds: s.config.VALIDATION_TOKEN_EXPIRE },
        },
        token,
      );
    }
    return freshAccount(result.id, email, input.username, now);
  }
  if (result.username_taken) throw usernameTaken();
  await redisCall(s.redis.set(decoyKey(input.username), '1', { ex: DECOY_USERNAME_TTL_SECONDS }));
  if (result.owner_email && result.owner_username) {
    await noticeOwner(s, { email: result.owner_email, username: result.owner_username });
  }
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
  const [verified] = rows;
  if (!verified)
    throw new AppError('INVALID_EMAIL_TOKEN', 'This verification link is invalid or has expired');
  s.authCache.forget(verified.id);
}
