// Step-up: the signed-in owner proves who they are again (the password, or a fresh emailed code), which
// marks the session freshly authenticated. Sensitive actions need that to be at most
// REAUTH_MAX_AGE_SECONDS old; a stolen access token alone cannot change second factors or close the account.
import { and, eq, isNull } from 'drizzle-orm';
import { sessions } from '../../db/schema';
import { AppError } from '../../errors';
import type { Services } from '../../services';
import { confirmWithCode } from './login-codes';
import type { UserRow } from './users';

export type OwnerProof = { password: string } | { code: string };

/** Checks the proof; 403 INCORRECT_PASSWORD or 400 INVALID_LOGIN_CODE when it does not hold. */
export async function confirmOwner(s: Services, user: UserRow, proof: OwnerProof): Promise<void> {
  if ('code' in proof) return confirmWithCode(s, user.email, proof.code);
  const { ok } = await s.hasher.verify(user.passwordHash, proof.password);
  if (!ok || !user.passwordHash) {
    throw new AppError(
      'INCORRECT_PASSWORD',
      user.passwordHash
        ? "Password isn't correct"
        : 'This account has no password; confirm with an emailed code',
    );
  }
}

export async function reauthenticate(
  s: Services,
  { user, sessionId }: { user: UserRow; sessionId: string },
  proof: OwnerProof,
): Promise<Date> {
  await confirmOwner(s, user, proof);
  const now = s.clock.now();
  const updated = await s.db
    .update(sessions)
    .set({ authenticatedAt: now })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, user.id), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  if (updated.length === 0) throw new AppError('SESSION_REVOKED', 'This session has been signed out');
  return now;
}

/** 403 REAUTHENTICATION_REQUIRED unless the session authenticated within REAUTH_MAX_AGE_SECONDS. */
export function assertRecentAuthentication(s: Services, authenticatedAt: Date): void {
  const ageSeconds = (s.clock.now().getTime() - authenticatedAt.getTime()) / 1000;
  if (ageSeconds > s.config.REAUTH_MAX_AGE_SECONDS) {
    throw new AppError(
      'REAUTHENTICATION_REQUIRED',
      `Confirm it is you first (POST /reauthenticate): this session last authenticated more than ${s.config.REAUTH_MAX_AGE_SECONDS} seconds ago`,
    );
  }
}
