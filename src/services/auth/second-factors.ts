// Turning a TOTP authenticator on and off, and its recovery codes. The secret is sealed at rest (AES-GCM,
// MFA_SECRET_KEY or a key derived from VALIDATION_SECRET_KEY); recovery codes are stored as keyed hashes
// and shown once. Turning TOTP on ends every other session; every change emails the owner.
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { eq, sql } from 'drizzle-orm';
import { passkeys, recoveryCodes, totpFactors, users } from '../../db/schema';
import { AppError } from '../../errors';
import { keyedHash, randomBytes, seal, unseal } from '../../lib/crypto';
import type { Services } from '../../services';
import { endHangingOff } from './account-lifecycle';
import { matchingStep, newTotpSecret, totpEnrollment } from './totp';
import type { UserRow } from './users';

export const RECOVERY_CODE_COUNT = 10;
const SEAL_PURPOSE = 'totp-secret';

const sealingKey = (s: Services) => s.config.MFA_SECRET_KEY ?? s.config.VALIDATION_SECRET_KEY;

export const unsealTotpSecret = (s: Services, sealed: string) => unseal(sealingKey(s), SEAL_PURPOSE, sealed);

/** Codes are compared without case, spaces or dashes: `ab3de-fg7hk` as printed, or typed loosely. */
const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

export const hashRecoveryCode = (s: Services, userId: string, code: string) =>
  keyedHash(s.config.VALIDATION_SECRET_KEY, `recovery-code:${userId}`, normalizeRecoveryCode(code));

/** Ten codes of 50 random bits each, printed as two groups of five. */
function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const code = encodeBase32LowerCaseNoPadding(randomBytes(7)).slice(0, 10);
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/** The rows replacing the user's recovery codes: `select` values for an insert. */
async function recoveryCodeRows(s: Services, userId: string, codes: string[], now: Date) {
  const hashes = await Promise.all(codes.map((code) => hashRecoveryCode(s, userId, code)));
  return sql.join(
    hashes.map((hash) => sql`(${userId}::uuid, ${hash}, ${now}::timestamptz)`),
    sql`, `,
  );
}

const alreadyOn = () =>
  new AppError('MFA_STATE', 'TOTP is already on; turn it off before setting up another');

/** Starts (or restarts) setting up TOTP; nothing is required at sign-in until it is confirmed. */
export async function setupTotp(s: Services, user: UserRow) {
  const secret = newTotpSecret();
  const now = s.clock.now();
  const { rows } = await s.db.execute<{ user_id: string }>(sql`
    insert into ${totpFactors} (user_id, sealed_secret, created_at)
    values (${user.id}, ${await seal(sealingKey(s), SEAL_PURPOSE, secret)}, ${now})
    on conflict (user_id) do update set sealed_secret = excluded.sealed_secret,
      created_at = excluded.created_at, last_used_step = null
    where ${totpFactors.confirmedAt} is null
    returning user_id`);
  if (rows.length === 0) throw alreadyOn();
  return { secret, ...totpEnrollment(secret, s.config.APP_NAME, user.email) };
}

/**
 * Confirms the authenticator set up last with a code from it: TOTP is on from now, a fresh set of
 * recovery codes replaces any old one, and every other session ends, in one statement.
 */
export async function confirmTotp(s: Services, user: UserRow, sessionId: string, code: string) {
  const [pending] = await s.db
    .select({ sealedSecret: totpFactors.sealedSecret, confirmedAt: totpFactors.confirmedAt })
    .from(totpFactors)
    .where(sql`${totpFactors.userId} = ${user.id}`);
  if (!pending) throw new AppError('MFA_STATE', 'Set up TOTP first (POST /mfa/totp/setup)');
  if (pending.confirmedAt) throw alreadyOn();
  const secret = await unsealTotpSecret(s, pending.sealedSecret);
  const now = s.clock.now();
  const step = secret ? matchingStep(secret, code, now) : null;
  if (step === null) throw new AppError('INVALID_MFA_CODE', 'The code does not match the authenticator');
  const codes = newRecoveryCodes();
  const { rows } = await s.db.execute<{ user_id: string }>(sql`
    with confirmed as (
      update ${totpFactors} set confirmed_at = ${now}, last_used_step = ${step}
      where user_id = ${user.id} and confirmed_at is null and sealed_secret = ${pending.sealedSecret}
      returning user_id
    ),
    old_codes as (delete from ${recoveryCodes} where user_id in (select user_id from confirmed)),
    new_codes as (
      insert into ${recoveryCodes} (user_id, code_hash, created_at)
      select * from (values ${await recoveryCodeRows(s, user.id, codes, now)}) v
      where exists (select 1 from confirmed)
    )
    ${endHangingOff(sql`select user_id from confirmed`, now, {
      sessions: { keep: sessionId },
      codes: true,
      reason: 'second_factor_enabled',
    })}
    select user_id from confirmed`);
  if (rows.length === 0)
    throw new AppError('CONFLICT', 'TOTP was set up or confirmed concurrently; try again');
  await secondFactorChanged(s, user, 'totp_enabled');
  return codes;
}

/** Turns TOTP off; its recovery codes go with it. */
export async function disableTotp(s: Services, user: UserRow) {
  const { rows } = await s.db.execute<{ user_id: string }>(sql`
    with removed as (
      delete from ${totpFactors} where user_id = ${user.id} and confirmed_at is not null returning user_id
    ),
    old_codes as (delete from ${recoveryCodes} where user_id in (select user_id from removed))
    select user_id from removed`);
  if (rows.length === 0) throw new AppError('MFA_STATE', 'TOTP is not on');
  await secondFactorChanged(s, user, 'totp_disabled');
}

/** A fresh set of recovery codes; the old set stops working in the same statement. */
export async function regenerateRecoveryCodes(s: Services, user: UserRow) {
  const codes = newRecoveryCodes();
  const now = s.clock.now();
  const { rows } = await s.db.execute<{ user_id: string }>(sql`
    with factor as (
      select user_id from ${totpFactors} where user_id = ${user.id} and confirmed_at is not null for update
    ),
    old_codes as (delete from ${recoveryCodes} where user_id in (select user_id from factor)),
    new_codes as (
      insert into ${recoveryCodes} (user_id, code_hash, created_at)
      select * from (values ${await recoveryCodeRows(s, user.id, codes, now)}) v
      where exists (select 1 from factor)
    )
    select user_id from factor`);
  if (rows.length === 0) throw new AppError('MFA_STATE', 'Recovery codes come with TOTP; turn TOTP on first');
  await secondFactorChanged(s, user, 'recovery_codes_regenerated');
  return codes;
}

export type SecondFactorNotice =
  | 'totp_enabled'
  | 'totp_disabled'
  | 'recovery_codes_regenerated'
  | 'passkey_added'
  | 'passkey_removed';

/**
 * After the statement that changed a second factor has committed: this isolate's cached reads of the
 * user go at once (their sessions may have just been revoked), then the owner hears of it.
 */
export function secondFactorChanged(s: Services, user: UserRow, kind: SecondFactorNotice) {
  s.authCache.forget(user.id);
  return s.sendEmail(user.email, { template: 'second_factor', data: { username: user.username, kind } });
}

/** For GET /me, batched with the session check: whether TOTP is on, and how many passkeys there are. */
export function secondFactorsQuery(s: Pick<Services, 'db'>, userId: string) {
  return s.db
    .select({
      totp: sql<boolean>`exists (select 1 from ${totpFactors} t where t.user_id = ${userId} and t.confirmed_at is not null)`,
      passkeys: sql<number>`(select count(*)::int from ${passkeys} p where p.user_id = ${userId})`,
    })
    .from(users)
    .where(eq(users.id, userId));
}
