// Passwordless sign-in with a 6-digit code sent by email. Codes are drawn from a CSPRNG, stored as a
// keyed hash bound to the email, live 15 minutes, work once, and die after 5 wrong tries. The try
// counter, single use and the active-account check are one atomic statement, so parallel guesses
// cannot exceed the limit.
import { sql } from 'drizzle-orm';
import { loginCodes, users } from '../../db/schema';
import { AppError } from '../../errors';
import { keyedHash } from '../../lib/crypto';
import type { Services } from '../../services';
import { mayEmail } from '../mail/throttle';
import { EVERY_LINK, endHangingOff } from './account-lifecycle';
import { type SignInOutcome, signIn } from './login';
import type { ClientInfo } from './sessions';
import { findUserByEmail, normalizeEmail, rowToUser } from './users';

export const LOGIN_CODE_TTL_SECONDS = 15 * 60;
export const LOGIN_CODE_MAX_ATTEMPTS = 5;

/** Six uniformly random digits (rejection sampling avoids modulo bias). */
export function generateLoginCode(): string {
  const limit = 4_294_000_000; // the largest multiple of 10^6 below 2^32
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1));
    if (value! < limit) return String(value! % 1_000_000).padStart(6, '0');
  }
}

const hashCode = (s: Services, email: string, code: string) =>
  keyedHash(s.config.VALIDATION_SECRET_KEY, `login-code:${email}`, code);

/** Sends a code if the account exists and is active and the email is not cooling down. */
export async function requestLoginCode(s: Services, rawEmail: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const user = await findUserByEmail(s.db, email);
  if (!user?.isActive) return;
  if (!(await mayEmail(s, 'login_code', email))) return;
  const code = generateLoginCode();
  const now = s.clock.now();
  await s.db.batch([
    // A new code replaces any older one.
    s.db.execute(
      sql`update ${loginCodes} set consumed_at = ${now} where email = ${email} and consumed_at is null`,
    ),
    s.db.insert(loginCodes).values({
      email,
      userId: user.id,
      codeHash: await hashCode(s, email, code),
      createdAt: now,
      expiresAt: new Date(now.getTime() + LOGIN_CODE_TTL_SECONDS * 1000),
    }),
  ]);
  await s.sendEmail(
    user.email,
    { template: 'login_code', data: { username: user.username, expiresInSeconds: LOGIN_CODE_TTL_SECONDS } },
    code,
  );
}

interface AttemptRow extends Record<string, unknown> {
  matched: boolean;
  is_active: boolean;
}

const invalidCode = () => new AppError('INVALID_LOGIN_CODE', 'Invalid code or email.');

/**
 * The CTEs `target` (the newest live code for the email) and `attempt` (one try at it: a wrong code
 * costs a try, the right one is consumed, but only for an active account).
 */
function attempt(email: string, codeHash: string, now: Date) {
  return sql`target as (
      select lc.id from ${loginCodes} lc
      where lc.email = ${email} and lc.consumed_at is null
      order by lc.created_at desc
      limit 1
    ),
    attempt as (
      update ${loginCodes} lc
      set attempts = lc.attempts + case when lc.code_hash = ${codeHash} then 0 else 1 end,
          consumed_at = case when lc.code_hash = ${codeHash} and u.is_active then ${now}::timestamptz else null end
      from ${users} u
      where lc.id = (select id from target) and u.id = lc.user_id
        and lc.attempts < ${LOGIN_CODE_MAX_ATTEMPTS} and lc.consumed_at is null and lc.expires_at > ${now}
      returning lc.user_id, lc.code_hash = ${codeHash} as matched, u.is_active
    )`;
}

/** Spends an emailed code to confirm a sensitive action by its (signed-in, active) owner: 400 if wrong. */
export async function confirmWithCode(s: Services, rawEmail: string, code: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const { rows } = await s.db.execute<AttemptRow>(
    sql`with ${attempt(email, await hashCode(s, email, code), s.clock.now())} select matched, is_active from attempt`,
  );
  if (!rows[0]?.matched) throw invalidCode();
}

/**
 * Checks the code against the newest live code for the email in one statement: a wrong code costs a
 * try; the right one is consumed only for an active account (a deactivated one is refused with 403
 * and nothing is consumed). Signing in also marks the email verified: the code proved control of it.
 * If that is the first proof, whoever registered the address before keeps nothing: every earlier
 * session and link ends, and the password set before the proof is dropped (the owner sets one
 * through a reset).
 */
export async function loginWithCode(
  s: Services,
  { email: rawEmail, code }: { email: string; code: string },
  client: ClientInfo,
): Promise<SignInOutcome> {
  const email = normalizeEmail(rawEmail);
  const now = s.clock.now();
  const codeHash = await hashCode(s, email, code);
  const { rows } = await s.db.execute<AttemptRow & { user: Record<string, unknown> }>(sql`
    with ${attempt(email, codeHash, now)},
    signing_in as (select user_id as id from attempt where matched and is_active),
    first_proof as (select id from ${users} where id in (select id from signing_in) and not is_verified),
    verified as (
      update ${users} set is_verified = true, updated_at = ${now},
        password_hash = case when id in (select id from first_proof) then null else password_hash end
      where id in (select id from signing_in)
      returning *
    )
    ${endHangingOff(sql`select id from first_proof`, now, {
      // The code in hand is the only live one (a new code replaces the last), so codes need no ending.
      sessions: 'all',
      links: EVERY_LINK,
      reason: 'mailbox_proven',
    })}
    select attempt.matched, attempt.is_active, row_to_json(verified.*) as user
    from attempt left join verified on verified.id = attempt.user_id`);
  const row = rows[0];
  if (!row?.matched) throw invalidCode();
  if (!row.is_active) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
  const user = rowToUser(row.user);
  s.authCache.forget(user.id); // a first proof of the mailbox may have ended every session
  return signIn(s, user, client);
}
