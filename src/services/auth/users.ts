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

/**
 * The statement every account creation sends first, in the batch (one transaction) with its insert: a lock
 * on the email and one on the username, held until commit. A creation that would conflict with one still
 * committing then waits for it before its insert's statement takes its snapshot, so what that statement
 * reads (who holds the email, whether the username is taken) includes the other. The keys fold case with
 * Postgres's lower(), as the unique indexes do. Email before username: whoever holds a username lock
 * waits for no other, so no two creations can deadlock.
 */
export const lockIdentity = (email: string, username: string) => sql`
  select pg_advisory_xact_lock(hashtextextended('email:' || lower(${email}), 0)),
    pg_advisory_xact_lock(hashtextextended('username:' || lower(${username}), 0))`;

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
    .select({
      user: users,
      sessionRevokedAt: sessions.revokedAt,
      sessionExpiresAt: sessions.expiresAt,
      sessionAuthenticatedAt: sessions.authenticatedAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .limit(1);
}

/** A users row read as JSON (row_to_json in raw SQL) as the typed row Drizzle would return. */
export function rowToUser(json: Record<string, unknown>): UserRow {
  return {
    id: json.id as string,
    email: json.email as string,
    username: json.username as string,
    passwordHash: (json.password_hash as string | null) ?? null,
    isActive: json.is_active as boolean,
    isVerified: json.is_verified as boolean,
    isAdmin: json.is_admin as boolean,
    stripeCustomerId: (json.stripe_customer_id as string | null) ?? null,
    createdAt: new Date(json.created_at as string),
    updatedAt: new Date(json.updated_at as string),
    deactivatedAt: json.deactivated_at ? new Date(json.deactivated_at as string) : null,
  };
}
