// Signing in: password verification with equal work on every path, and the session grant shared by
// password, email-code and OAuth sign-in.

import { and, eq } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { users } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';
import { issueAccessToken } from './access-tokens';
import { type ClientInfo, startSession } from './sessions';
import { findUserByEmail, type UserRow } from './users';

export interface SessionGrant {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
  user: UserRow;
}

/**
 * Starts a session for `user` as read by the sign-in (in one round trip, with any `alsoRun`
 * statements) and issues tokens. If the account's password or state changed since it was read, no
 * session starts and the sign-in fails like a wrong password.
 */
export async function signIn(
  s: Services,
  user: UserRow,
  client: ClientInfo,
  alsoRun: BatchItem<'pg'>[] = [],
): Promise<SessionGrant> {
  const now = s.clock.now();
  const session = await startSession(s.db, s.config, {
    userId: user.id,
    now,
    client,
    grantedFor: { passwordHash: user.passwordHash },
  });
  const [started] = await s.db.batch([session.statement, ...alsoRun]);
  if (started.rows.length === 0) throw invalidCredentials();
  const access = await issueAccessToken(s.config, now, {
    userId: user.id,
    sessionId: session.sessionId,
    emailVerified: user.isVerified,
  });
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
): Promise<SessionGrant> {
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
