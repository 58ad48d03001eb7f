// The second step of signing in to an account with TOTP on: the first factor left a challenge (an opaque
// mfa_token, 5 minutes, 5 tries, single use); a TOTP code or a recovery code spends it and starts the
// session. Every check that two racing requests could both pass is one SQL statement.
import { sql } from 'drizzle-orm';
import { mfaChallenges, recoveryCodes, totpFactors, users } from '../../db/schema';
import { AppError } from '../../errors';
import { keyedHash, randomToken } from '../../lib/crypto';
import { withDeadline } from '../../lib/deadline';
import type { Services } from '../../services';
import type { LimitWindow } from '../rate-limiter';
import { grantFor, runSessionStart, type SessionGrant } from './login';
import { hashRecoveryCode, unsealTotpSecret } from './second-factors';
import { type ClientInfo, startSession } from './sessions';
import { matchingStep } from './totp';
import { rowToUser } from './users';

export const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
export const MFA_MAX_ATTEMPTS = 5;
export type SecondFactorMethod = 'totp' | 'recovery_code';
const METHODS: SecondFactorMethod[] = ['totp', 'recovery_code'];

const hashChallengeToken = (s: Services, token: string) =>
  keyedHash(s.config.VALIDATION_SECRET_KEY, 'mfa-token', token);

/** A challenge for signIn to record if the account turns out to need its second factor. */
export async function newChallenge(s: Services, now: Date) {
  const token = randomToken();
  return {
    token,
    tokenHash: await hashChallengeToken(s, token),
    expiresAt: new Date(now.getTime() + MFA_CHALLENGE_TTL_SECONDS * 1000),
    methods: METHODS,
  };
}

export type SecondFactorProof = { code: string } | { recoveryCode: string };

const invalidToken = () =>
  new AppError('INVALID_MFA_TOKEN', 'This sign-in step has expired or was used up; sign in again');
const invalidCode = () => new AppError('INVALID_MFA_CODE', 'The code is wrong or was already used');

interface ChallengeRow extends Record<string, unknown> {
  id: string;
  user_id: string;
  sealed_secret: string | null;
  user: Record<string, unknown>;
}

export async function completeSecondFactor(
  s: Services,
  mfaToken: string,
  proof: SecondFactorProof,
  client: ClientInfo,
): Promise<SessionGrant> {
  const now = s.clock.now();
  // One try spent, whatever the code: the token alone cannot be used to guess more than 5 codes.
  const { rows } = await s.db.execute<ChallengeRow>(sql`
    with tried as (
      update ${mfaChallenges} set attempts = attempts + 1
      where token_hash = ${await hashChallengeToken(s, mfaToken)} and consumed_at is null
        and expires_at > ${now} and attempts < ${MFA_MAX_ATTEMPTS}
      returning id, user_id
    )
    select tried.id, tried.user_id, t.sealed_secret, row_to_json(u.*) as user
    from tried join ${users} u on u.id = tried.user_id and u.is_active
    left join ${totpFactors} t on t.user_id = tried.user_id and t.confirmed_at is not null`);
  const challenge = rows[0];
  if (!challenge) throw invalidToken();
  const user = rowToUser(challenge.user);
  // Whoever has the password gets a new challenge per sign-in: wrong codes are also capped per account.
  await assertFailuresLeft(s, user.id);
  const spend = await spendProof(s, challenge, proof, now);
  if (!spend) return failed(s, user.id);
  // One statement: the challenge is locked, the factor spent, the challenge consumed and the session
  // started together or not at all, and only while the password is the one the challenge was left under.
  const session = await startSession(s.db, s.config, {
    userId: user.id,
    now,
    client,
    grantedFor: { passwordHash: user.passwordHash },
    after: {
      ctes: sql`locked as (
          select id from ${mfaChallenges}
          where id = ${challenge.id} and consumed_at is null and expires_at > ${now}
          for update
        ),
        ${spend},
        consumed as (
          update ${mfaChallenges} set consumed_at = ${now}
          where id in (select id from locked) and exists (select 1 from spent)
          returning id
        )`,
      holds: sql`exists (select 1 from consumed)`,
      report: sql`exists (select 1 from locked) as had_challenge, exists (select 1 from consumed) as consumed`,
    },
  });
  const { row, current } = await runSessionStart(s, user.id, session.statement);
  if (row?.session_id) return grantFor(s, user, session, now, current);
  if (!row?.had_challenge || row.consumed) throw invalidToken();
  return failed(s, user.id);
}

const FAILURES: LimitWindow = { prefix: 'edgeauth:mfa-failures', kind: 'fixed', limit: 10, seconds: 3600 };
export const MFA_FAILURES_PER_HOUR = FAILURES.limit;
const REDIS_TIMEOUT_MS = 1500;

async function assertFailuresLeft(s: Services, userId: string) {
  const left = await withDeadline(s.rateLimiter.remaining(FAILURES, userId), REDIS_TIMEOUT_MS).catch(() => {
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'Sign-in is unavailable; try again shortly');
  });
  if (left <= 0) {
    throw new AppError('RATE_LIMITED', 'Too many wrong codes for this account; try again in an hour');
  }
}

/** A wrong or spent code: counted against the account, then refused. */
async function failed(s: Services, userId: string): Promise<never> {
  await withDeadline(s.rateLimiter.hit(FAILURES, userId), REDIS_TIMEOUT_MS).catch(() => {
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'Sign-in is unavailable; try again shortly');
  });
  throw invalidCode();
}

/**
 * The CTE `spent`: the TOTP step or the recovery code this proof uses up, once `locked` holds the
 * challenge; null when the code cannot be right.
 */
async function spendProof(s: Services, challenge: ChallengeRow, proof: SecondFactorProof, now: Date) {
  if ('recoveryCode' in proof) {
    const codeHash = await hashRecoveryCode(s, challenge.user_id, proof.recoveryCode);
    return sql`spent as (
      update ${recoveryCodes} set used_at = ${now}
      where user_id = ${challenge.user_id} and code_hash = ${codeHash} and used_at is null
        and exists (select 1 from locked)
      returning id)`;
  }
  const secret = challenge.sealed_secret ? await unsealTotpSecret(s, challenge.sealed_secret) : null;
  const step = secret ? matchingStep(secret, proof.code, now) : null;
  if (step === null) return null;
  // A code accepted once is refused for the rest of its window (and so is any older one).
  return sql`spent as (
    update ${totpFactors} set last_used_step = ${step}
    where user_id = ${challenge.user_id} and confirmed_at is not null
      and coalesce(last_used_step, -1) < ${step} and exists (select 1 from locked)
    returning user_id)`;
}
