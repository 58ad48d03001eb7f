// Reading accounts: by email for sign-in, and with the session for every authenticated request.
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { sessions, users } from '../../db/schema';

export type UserRow = typeof users.$inferSelect;

export interface PublicUser {
  id: string;
  email: string;
  username: string;
  is_verified: boolean;
  is_admin: boolean;
  has_password: boolean;
  created_at: string;
}

export function toPublicUser(user: UserRow, adminEmails: readonly string[]): PublicUser {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    is_verified: user.isVerified,
    is_admin: isAdmin(user, adminEmails),
    has_password: user.passwordHash !== null,
    created_at: user.createdAt.toISOString(),
  };
}

/** Admins are verified accounts whose email is listed in ADMIN_EMAILS (or flagged in the database). */
export function isAdmin(
  user: Pick<UserRow, 'email' | 'isVerified' | 'isAdmin'>,
  adminEmails: readonly string[],
) {
  return user.isVerified && (user.isAdmin || adminEmails.includes(user.email.toLowerCase()));
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | null> {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${normalizeEmail(email)}`)
    .limit(1);
  return user ?? null;
}

/** The user behind an access token together with the state of its session, in one query. */
export function userWithSessionQuery(db: Database, userId: string, sessionId: string) {
  return db
    .select({ user: users, sessionRevokedAt: sessions.revokedAt, sessionExpiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .limit(1);
}
