// Sessions and their rotating refresh tokens. A session is one sign-in; each refresh exchanges the
// presented token for its successor in a single SQL statement (neon-http has no interactive
// transactions), so concurrent refreshes and replays resolve inside Postgres, not in our code.
import { and, desc, eq, gt, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { mfaChallenges, refreshTokens, sessions, totpFactors, users } from '../../db/schema';
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { constantTimeEqual, keyedHash, randomToken } from '../../lib/crypto';
import type { Services } from '../../services';
import { entitlementOf } from '../billing/access';
import { type CurrentSubscription, currentSubscriptionQuery } from '../billing/subscriptions';
import { issueAccessToken } from './access-tokens';

type SessionConfig = Pick<
  Config,
  'REFRESH_SECRET_KEY' | 'REFRESH_TOKEN_EXPIRE' | 'REFRESH_REUSE_GRACE_SECONDS'
>;

export interface ClientInfo {
  userAgent?: string | undefined;
  ipAddress?: string | undefined;
}

const hashToken = (config: SessionConfig, token: string) =>
  keyedHash(config.REFRESH_SECRET_KEY, 'refresh-token', token);

/**
 * A refresh token is `<session id>.<secret>.<tag>`: the tag (an HMAC of the rest) lets a request be tied
 * to its session, for the per-session rate limit, and lets a forged token be refused, before the
 * database is asked. Only the token's hash is stored.
 */
const tagOf = async (config: SessionConfig, body: string) =>
  (await keyedHash(config.REFRESH_SECRET_KEY, 'refresh-token-tag', body)).slice(0, 22);

async function mintRefreshToken(config: SessionConfig, sessionId: string, secret: string) {
  const body = `${sessionId}.${secret}`;
  return `${body}.${await tagOf(config, body)}`;
}

const TOKEN_SHAPE = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/;

/** The session a refresh token belongs to, or null when the token is not one we issued. */
export async function sessionOfRefreshToken(config: SessionConfig, token: string): Promise<string | null> {
  const parts = TOKEN_SHAPE.exec(token);
  if (!parts) return null;
  const [, sessionId, secret, tag] = parts as unknown as [string, string, string, string];
  const expected = await tagOf(config, `${sessionId}.${secret}`);
  const encoder = new TextEncoder();
  return constantTimeEqual(encoder.encode(expected), encoder.encode(tag)) ? sessionId : null;
}

/**
 * The successor of a refresh token is derived from it (HMAC under our secret), not drawn at random:
 * two concurrent refreshes of one token compute the same successor, so the loser of the race can be
 * handed the winner's token without it ever being stored in clear.
 */
async function successorOf(config: SessionConfig, sessionId: string, token: string) {
  const secret = await keyedHash(config.REFRESH_SECRET_KEY, 'refresh-token-successor', token);
  return mintRefreshToken(config, sessionId, secret);
}

const expiryFrom = (config: SessionConfig, now: Date) =>
  new Date(now.getTime() + config.REFRESH_TOKEN_EXPIRE * 1000);

/**
 * The statement that starts a session and stores its first refresh token; batch it with other writes.
 * With `grantedFor`, the session starts only if the account is still active with the password hash the
 * sign-in checked: a password reset, change or first proof of the mailbox that lands while a sign-in
 * is still hashing must not be outlived by it. The statement then returns no row.
 */
export async function startSession(
  db: Database,
  config: SessionConfig,
  {
    userId,
    now,
    client,
    grantedFor,
    unlessSecondFactor,
    after,
  }: {
    userId: string;
    now: Date;
    client: ClientInfo;
    grantedFor?: { passwordHash: string | null };
    /** When the account has TOTP on, record this challenge instead of starting the session. */
    unlessSecondFactor?: { tokenHash: string; expiresAt: Date };
    /**
     * Statements that run first, in the same statement (common table expressions), and the condition
     * on them the session needs; `report` adds columns to the returned row.
     */
    after?: { ctes: SQL; holds: SQL; report: SQL };
  },
) {
  const sessionId = crypto.randomUUID();
  const refreshToken = await mintRefreshToken(config, sessionId, randomToken());
  const expiresAt = expiryFrom(config, now);
  const stillValid = grantedFor
    ? sql`exists (select 1 from ${users} where id = ${userId} and is_active
        and password_hash is not distinct from ${grantedFor.passwordHash})`
    : sql`exists (select 1 from ${users} where id = ${userId} and is_active)`;
  // Decided in the statement itself, so a second factor turned on during the sign-in still applies.
  const needsSecondFactor = unlessSecondFactor
    ? sql`exists (select 1 from ${totpFactors} where user_id = ${userId} and confirmed_at is not null)`
    : sql`false`;
  const challenge = unlessSecondFactor
    ? sql`insert into ${mfaChallenges} (user_id, token_hash, expires_at, created_at)
        select ${userId}, ${unlessSecondFactor.tokenHash}, ${unlessSecondFactor.expiresAt}, ${now}
        from gate where valid and second_factor
        returning id`
    : sql`select null::uuid as id where false`;
  const statement = db.execute<
    { session_id: string | null; challenge_id: string | null } & Record<string, unknown>
  >(sql`
    with ${after ? sql`${after.ctes},` : sql``}
    gate as (select ${stillValid} and ${after ? after.holds : sql`true`} as valid, ${needsSecondFactor} as second_factor),
    created as (
      insert into ${sessions} (id, user_id, created_at, last_used_at, authenticated_at, expires_at, user_agent, ip_address)
      select ${sessionId}, ${userId}, ${now}, ${now}, ${now}, ${expiresAt}, ${client.userAgent?.slice(0, 512) ?? null},
             ${client.ipAddress ?? null}
      from gate where valid and not second_factor
      returning id
    ),
    challenge as (${challenge}),
    token as (
      insert into ${refreshTokens} (session_id, token_hash, generation, created_at, expires_at)
      select id, ${await hashToken(config, refreshToken)}, 0, ${now}, ${expiresAt} from created
      returning session_id
    )
    select (select session_id from token) as session_id, (select id from challenge) as challenge_id
      ${after ? sql`, ${after.report}` : sql``}`);
  return { sessionId, refreshToken, statement };
}

export interface RefreshedUser {
  id: string;
  email: string;
  username: string;
  isVerified: boolean;
}

export type RotationResult =
  | {
      kind: 'rotated';
      refreshToken: string;
      sessionId: string;
      user: RefreshedUser;
      /** The user's subscription, read in the same round trip, for the entitlement claim. */
      current: CurrentSubscription | null;
    }
  | { kind: 'reused'; userId: string }
  | { kind: 'invalid' };

interface RotationRow extends Record<string, unknown> {
  session_id: string;
  user_id: string;
  email: string;
  username: string;
  is_verified: boolean;
  granted: boolean;
  theft: boolean;
}

/**
 * Exchanges `token` for its successor in one round trip.
 * - Never rotated: marked rotated; the successor is stored and returned.
 * - Rotated within the grace window (a concurrent duplicate, two tabs): the same successor again.
 * - Rotated before the grace window: a stolen token is being replayed; the whole session is revoked.
 * - Unknown, expired, revoked, or the user deactivated: invalid.
 */
export async function rotateRefreshToken(
  db: Database,
  config: SessionConfig,
  token: string,
  now: Date,
): Promise<RotationResult> {
  const sessionId = await sessionOfRefreshToken(config, token);
  if (!sessionId) return { kind: 'invalid' };
  const [hash, successor] = await Promise.all([
    hashToken(config, token),
    successorOf(config, sessionId, token),
  ]);
  const successorHash = await hashToken(config, successor);
  const graceStart = new Date(now.getTime() - config.REFRESH_REUSE_GRACE_SECONDS * 1000);
  const expiresAt = expiryFrom(config, now);
  const rotation = db.execute<RotationRow>(sql`
    with current_token as (
      select t.session_id, t.generation, t.rotated_at, t.expires_at as token_expires_at,
             s.revoked_at, s.expires_at as session_expires_at, s.user_id,
             u.email, u.username, u.is_active, u.is_verified
      from ${refreshTokens} t
      join ${sessions} s on s.id = t.session_id
      join ${users} u on u.id = s.user_id
      where t.token_hash = ${hash}
    ),
    usable as (
      select * from current_token
      where revoked_at is null and is_active and token_expires_at > ${now} and session_expires_at > ${now}
    ),
    mark_rotated as (
      update ${refreshTokens} set rotated_at = ${now}
      where token_hash = ${hash} and rotated_at is null and exists (select 1 from usable)
      returning id
    ),
    granted as (
      -- rotated_at is read from the statement's snapshot: null here while another request marks it
      -- rotated means we lost a race that is by definition inside the grace window.
      select * from usable where rotated_at is null or rotated_at > ${graceStart}
    ),
    store_successor as (
      insert into ${refreshTokens} (session_id, token_hash, generation, created_at, expires_at)
      select session_id, ${successorHash}, generation + 1, ${now}, ${expiresAt} from granted
      on conflict (token_hash) do nothing
      returning id
    ),
    extend_session as (
      update ${sessions} set last_used_at = ${now}, expires_at = ${expiresAt}
      where id in (select session_id from granted)
      returning id
    ),
    revoke_family as (
      update ${sessions} set revoked_at = ${now}, revoke_reason = 'refresh_token_reuse'
      where id in (select session_id from usable where rotated_at is not null and rotated_at <= ${graceStart})
      returning id
    )
    select session_id, user_id, email, username, is_verified,
           exists (select 1 from granted) as granted,
           exists (select 1 from revoke_family) as theft
    from current_token`);
  const owner = sql`(select ${sessions.userId} from ${sessions} where ${sessions.id} = ${sessionId})`;
  const [{ rows }, subscription] = await db.batch([rotation, currentSubscriptionQuery(db, owner)]);
  const row = rows[0];
  if (!row) return { kind: 'invalid' };
  if (row.theft) return { kind: 'reused', userId: row.user_id };
  if (!row.granted) return { kind: 'invalid' };
  return {
    kind: 'rotated',
    refreshToken: successor,
    sessionId: row.session_id,
    user: { id: row.user_id, email: row.email, username: row.username, isVerified: row.is_verified },
    current: subscription[0] ?? null,
  };
}

/** Revokes the session the refresh token belongs to, whatever state the token is in. */
/** POST /refresh-token: rotates the presented token and issues an access token for its session. */
export async function refreshSession(s: Services, refreshToken: string) {
  const now = s.clock.now();
  const rotation = await rotateRefreshToken(s.db, s.config, refreshToken, now);
  if (rotation.kind === 'reused') {
    s.authCache.forget(rotation.userId);
    throw new AppError(
      'INVALID_REFRESH_TOKEN',
      'This refresh token was already used; the session has been revoked',
    );
  }
  if (rotation.kind === 'invalid')
    throw new AppError('INVALID_REFRESH_TOKEN', 'Refresh token is invalid or expired');
  const access = await issueAccessToken(s.config, now, {
    userId: rotation.user.id,
    sessionId: rotation.sessionId,
    emailVerified: rotation.user.isVerified,
    entitlements: entitlementOf(rotation.current, now, s.config.PAST_DUE_GRACE_DAYS),
  });
  // The session's last use and expiry moved: this isolate's cached copies of it are stale.
  s.authCache.forget(rotation.user.id);
  return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken: rotation.refreshToken };
}

/**
 * The condition a write batched with the session check needs (it runs whatever the check finds): the
 * caller's session is live and its user active, as requireAuth() is about to confirm.
 */
export function guardedBySession({
  userId,
  sessionId,
  now,
}: {
  userId: string;
  sessionId: string;
  now: Date;
}) {
  return sql`exists (
    select 1 from ${sessions} s join ${users} u on u.id = s.user_id
    where s.id = ${sessionId} and s.user_id = ${userId} and s.revoked_at is null and s.expires_at > ${now}
      and u.is_active)`;
}

export function revokeSessionStatement(
  db: Database,
  {
    userId,
    sessionId,
    now,
    reason,
    onlyIf,
  }: { userId: string; sessionId: string; now: Date; reason: string; onlyIf?: SQL },
) {
  return db
    .update(sessions)
    .set({ revokedAt: now, revokeReason: reason })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), onlyIf))
    .returning({ id: sessions.id });
}

/** Revokes every live session of the user, except `keep` when given (the caller's own). */
export function revokeAllSessionsStatement(
  db: Database,
  {
    userId,
    now,
    reason,
    keep,
    onlyIf,
  }: { userId: string; now: Date; reason: string; keep?: string; onlyIf?: SQL },
) {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (keep) conditions.push(ne(sessions.id, keep));
  if (onlyIf) conditions.push(onlyIf);
  return db
    .update(sessions)
    .set({ revokedAt: now, revokeReason: reason })
    .where(and(...conditions))
    .returning({ id: sessions.id });
}

export function listLiveSessions(db: Database, userId: string, now: Date) {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      expiresAt: sessions.expiresAt,
      userAgent: sessions.userAgent,
      ipAddress: sessions.ipAddress,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .orderBy(desc(sessions.lastUsedAt));
}
