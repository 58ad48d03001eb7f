// Signing in: password verification with equal work on every path, and the session grant (or the
// second-factor challenge) shared by password, email-code and OAuth sign-in.

import { and, eq } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { users } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';
import { entitlementOf } from '../billing/access';
import { type CurrentSubscription, currentSubscriptionQuery } from '../billing/subscriptions';
import { issueAccessToken } from './access-tokens';
import { newChallenge, type SecondFactorMethod } from './mfa-login';
import { type ClientInfo, startSession } from './sessions';
import { findUserByEmail, type UserRow } from './users';

export interface SessionGrant {
  mfaRequired?: false;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
  user: UserRow;
}

/** The first factor checked out, but the account has TOTP on: no session until /login/mfa. */
export interface SecondFactorRequired {
  mfaRequired: true;
  mfaToken: string;
  methods: SecondFactorMethod[];
  user: UserRow;
}

export type SignInOutcome = SessionGrant | SecondFactorRequired;

/**
 * Starts a session for `user` as read by the sign-in (in one round trip, with any `alsoRun`
 * statements) and issues tokens; or, when the account has TOTP on, leaves an MFA challenge instead
 * (decided in the same statement). If the account's password or state changed since it was read,
 * nothing starts and the sign-in fails like a wrong password.
 */
export async function signIn(
  s: Services,
  user: UserRow,
  client: ClientInfo,
  alsoRun: BatchItem<'pg'>[] = [],
): Promise<SignInOutcome> {
  const now = s.clock.now();
  const challenge = await newChallenge(s, now);
  const session = await startSession(s.db, s.config, {
    userId: user.id,
    now,
    client,
    grantedFor: { passwordHash: user.passwordHash },
    unlessSecondFactor: challenge,
  });
  const { row, current } = await runSessionStart(s, user.id, session.statement, alsoRun);
  if (row?.challenge_id)
    return { mfaRequired: true, mfaToken: challenge.token, methods: challenge.methods, user };
  if (!row?.session_id) throw invalidCredentials();
  return grantFor(s, user, session, now, current);
}

/**
 * Runs a session's start (with `alsoRun`) and reads the user's subscription for the token's
 * entitlement claim, in one round trip.
 */
export async function runSessionStart<Row>(
  s: Services,
  userId: string,
  start: BatchItem<'pg'> & PromiseLike<{ rows: Row[] }>,
  alsoRun: BatchItem<'pg'>[] = [],
): Promise<{ row: Row | undefined; current: CurrentSubscription | null }> {
  const [started, subscription] = await s.db.batch([
    start,
    currentSubscriptionQuery(s.db, userId),
    ...alsoRun,
  ]);
  return { row: started.rows[0], current: subscription[0] ?? null };
}

/** Tokens for a session that has just started; `current` is the user's subscription, read with it. */
export async function grantFor(
  s: Services,
  user: UserRow,
  session: { sessionId: string; refreshToken: string },
  now: Date,
  current: CurrentSubscription | null,
): Promise<SessionGrant> {
  const access = await issueAccessToken(s.config, now, {
    userId: user.id,
    sessionId: session.sessionId,
    emailVerified: user.isVerified,
    entitlements: entitlementOf(current, now, s.config.PAST_DUE_GRACE_DAYS),
  });
  // A new session is a change to the account: this isolate's cached session list forgets it.
  s.authCache.forget(user.id);
  return {
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken: session.refreshToken,
    sessionId: session.sessionId,
    user,
  };
}

export const invalidCredentials = () =>
  new AppError(
    'INVALID_CREDENTIALS',
    'Invalid email or password',
    {},
    { 'WWW-Authenticate': 'Bearer realm="api"' },
  );

/**
 * One 401 for an unknown email, a wrong password and a password-less account, each after the same
 * Argon2id work. A deactivated account is refused only once its password matched.
 */
export async function loginWithPassword(
  s: Services,
  { email, password }: { email: string; password: string },
  client: ClientInfo,
): Promise<SignInOutcome> {
  const user = await findUserByEmail(s.db, email);
  const { ok, needsRehash } = await s.hasher.verify(user?.passwordHash ?? null, password);
  if (!user || !ok) throw invalidCredentials();
  if (!user.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
  const alsoRun: BatchItem<'pg'>[] = [];
  if (needsRehash && user.passwordHash) {
    const stronger = await s.hasher.hash(password);
    alsoRun.push(
      s.db
        .update(users)
        .set({ passwordHash: stronger, updatedAt: s.clock.now() })
        .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash))),
    );
  }
  return signIn(s, user, client, alsoRun);
}
