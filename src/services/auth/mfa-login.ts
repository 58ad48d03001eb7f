// The second step of signing in to an account with TOTP on: the first factor left a challenge (an opaque
// mfa_token, 5 minutes, 5 tries, single use); a TOTP code or a recovery code spends it and starts the
// session. Every check that two racing requests could both pass is one SQL statement.
import { sql } from 'drizzle-orm';
import { mfaChallenges, recoveryCodes, totpFactors, users } from '../../db/schema';
import { AppError } from '../../errors';
import { keyedHash, randomToken } from '../../lib/crypto';
import type { Services } from '../../services';
import { grantFor, type SessionGrant } from './login';
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
  const spend = await spendProof(s, challenge, proof, now);
  // The factor and the challenge are spent together or not at all: of two racing requests one wins.
  const { rows: consumed } = await s.db.execute<{ id: string }>(sql`
    with ${spend},
    consumed as (
      update ${mfaChallenges} set consumed_at = ${now}
      where id = ${challenge.id} and consumed_at is null and exists (select 1 from spent)
      returning id
    )
    select id from consumed`);
  if (consumed.length === 0) throw invalidCode();
  const user = rowToUser(challenge.user);
  const session = await startSession(s.db, s.config, { userId: user.id, now, client });
  const [started] = (await session.statement).rows;
  if (!started?.session_id) throw invalidToken();
  return grantFor(s, user, session, now);
}

/** The CTE `spent`: the TOTP step or the recovery code this proof uses up, if it is good. */
async function spendProof(s: Services, challenge: ChallengeRow, proof: SecondFactorProof, now: Date) {
  if ('recoveryCode' in proof) {
    const codeHash = await hashRecoveryCode(s, challenge.user_id, proof.recoveryCode);
    return sql`spent as (
      update ${recoveryCodes} set used_at = ${now}
      where user_id = ${challenge.user_id} and code_hash = ${codeHash} and used_at is null
      returning id)`;
  }
  const secret = challenge.sealed_secret ? await unsealTotpSecret(s, challenge.sealed_secret) : null;
  const step = secret ? matchingStep(secret, proof.code, now) : null;
  if (step === null) throw invalidCode();
  // A code accepted once is refused for the rest of its window (and so is any older one).
  return sql`spent as (
    update ${totpFactors} set last_used_step = ${step}
    where user_id = ${challenge.user_id} and confirmed_at is not null
      and coalesce(last_used_step, -1) < ${step}
    returning user_id)`;
}
