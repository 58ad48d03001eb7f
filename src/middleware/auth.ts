// Bearer authentication: a valid access token whose session is still live and whose user is active.
// Failures answer 401 with WWW-Authenticate (RFC 6750), or 403 for a disabled or unverified account.
// GET and HEAD may take the session check, and the reads marked cacheAs, from the auth cache
// (services/auth/auth-cache.ts) for AUTH_CACHE_TTL_SECONDS; every other method asks the database and
// then forgets what the cache held for the user, so their next read sees their write.
import type { BatchItem } from 'drizzle-orm/batch';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, Authenticated } from '../app-env';
import { AppError, type ErrorCode } from '../errors';
import { verifyAccessToken } from '../services/auth/access-tokens';
import { assertRecentAuthentication } from '../services/auth/reauthentication';
import { userWithSessionQuery } from '../services/auth/users';

type SessionCheck = Awaited<ReturnType<typeof userWithSessionQuery>>[number];

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

function unauthorized(code: ErrorCode, detail: string, error?: string): AppError {
  const challenge = error ? `Bearer realm="api", error="${error}"` : 'Bearer realm="api"';
  return new AppError(code, detail, {}, { 'WWW-Authenticate': challenge });
}

/**
 * A read the route needs anyway, sent in the same database round trip as the session check (the user
 * id is known from the token before the database is asked). The handler takes its rows, typed, with
 * `rowsOf(c)` once the session checks pass.
 */
export interface Preload<Rows> {
  /**
   * The read; `undefined` reads nothing (an invalid query: the validator answers 422). A write here runs
   * whatever the session check finds, so it must hold its own guard (see guardedBySession).
   */
  query(
    c: Context<AppEnv>,
    userId: string,
    sessionId: string,
  ): (BatchItem<'pg'> & PromiseLike<Rows>) | undefined;
  /** The rows read for this request; throws on a route whose requireAuth() has not this preload. */
  rowsOf(c: Context): Rows;
  /** The rows read for this request, or undefined when this preload did not run. */
  readFor(c: Context): Rows | undefined;
  keep(c: Context, rows: Rows): void;
  /**
   * Set on a read that depends on nothing but the user (no parameters): GETs may then take its rows from
   * the auth cache, under this key, like the session check itself.
   */
  cacheAs?: string;
}

/** A Preload for requireAuth({ preload }); define it once per read, next to the route that uses it. */
export function definePreload<Rows>(
  query: Preload<Rows>['query'],
  { cacheAs }: { cacheAs?: string } = {},
): Preload<Rows> {
  // Keyed by the request, so rows never outlive it or reach another one.
  const read = new WeakMap<Request, { rows: Rows }>();
  return {
    query,
    cacheAs,
    rowsOf(c) {
      const found = read.get(c.req.raw);
      if (!found) throw new Error('rowsOf() used on a route without this preload');
      return found.rows;
    },
    readFor: (c) => read.get(c.req.raw)?.rows,
    keep: (c, rows) => {
      read.set(c.req.raw, { rows });
    },
  };
}

const NO_CACHE = /(^|,)\s*no-(cache|store)\s*(,|$)/i;

export function requireAuth<Rows>({
  verified = false,
  recent = false,
  preload,
}: {
  verified?: boolean;
  /** The session must have authenticated within REAUTH_MAX_AGE_SECONDS (else 403, /reauthenticate). */
  recent?: boolean;
  preload?: Preload<Rows>;
} = {}) {
  return createMiddleware<AppEnv>(async function requireAuthMiddleware(c, next) {
    const { config, clock, db, authCache } = c.var.services;
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('UNAUTHORIZED', 'Not authenticated');
    const token = BEARER.exec(header.trim())?.[1];
    if (!token) throw unauthorized('INVALID_TOKEN', 'Invalid token', 'invalid_token');
    const verifiedToken = await verifyAccessToken(config, clock.now(), token);
    if (!verifiedToken.ok) {
      throw verifiedToken.reason === 'expired'
        ? unauthorized('TOKEN_EXPIRED', 'Token expired', 'invalid_token')
        : unauthorized('INVALID_TOKEN', 'Invalid token', 'invalid_token');
    }
    const { userId, sessionId } = verifiedToken.claims;
    const now = clock.now();
    const ttlMs = config.AUTH_CACHE_TTL_SECONDS * 1000;
    const safe = c.req.method === 'GET' || c.req.method === 'HEAD';
    // Only reads use the cache; a write always checks the database, and then forgets the user's entries.
    const cacheable = safe && ttlMs > 0 && (!preload || preload.cacheAs !== undefined);
    // `Cache-Control: no-cache` (a browser's fetch with cache: 'reload' sends it) reads the database and
    // refreshes the entry: a client that just wrote in another isolate sees its write.
    const useCached = cacheable && !NO_CACHE.test(c.req.header('cache-control') ?? '');
    const sessionKey = `session:${sessionId}`;
    let found = useCached ? authCache.get<SessionCheck>(userId, sessionKey, now.getTime(), ttlMs) : undefined;
    // A cached expiry may have been extended by a refresh elsewhere: only the database says it passed.
    if (found && found.sessionExpiresAt <= now) found = undefined;
    let preloaded =
      found && preload?.cacheAs
        ? authCache.get<Rows>(userId, preload.cacheAs, now.getTime(), ttlMs)
        : undefined;
    if (!found || (preload && preloaded === undefined)) {
      const ticket = authCache.ticket();
      const extra = preload?.query(c, userId, sessionId);
      const [rows, extraRows] = extra
        ? await db.batch([userWithSessionQuery(db, userId, sessionId), extra])
        : [await userWithSessionQuery(db, userId, sessionId), undefined];
      found = rows[0];
      preloaded = extraRows;
      if (cacheable && found) {
        authCache.set(userId, sessionKey, found, ticket, now.getTime());
        if (preload?.cacheAs && extra) {
          const weight = Array.isArray(extraRows) ? extraRows.length : 1;
          authCache.set(userId, preload.cacheAs, extraRows, ticket, now.getTime(), weight);
        }
      }
    }
    if (!found) throw unauthorized('INVALID_TOKEN', 'Invalid token', 'invalid_token');
    if (found.sessionRevokedAt || found.sessionExpiresAt <= now) {
      throw unauthorized('SESSION_REVOKED', 'This session has been signed out', 'invalid_token');
    }
    if (!found.user.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
    if (verified && !found.user.isVerified) {
      throw new AppError('EMAIL_NOT_VERIFIED', 'Verify your email address first');
    }
    if (recent) assertRecentAuthentication(c.var.services, found.sessionAuthenticatedAt);
    c.set('auth', { user: found.user, sessionId, authenticatedAt: found.sessionAuthenticatedAt });
    if (preload && preloaded !== undefined) preload.keep(c, preloaded as Rows);
    c.set('userId', userId);
    if (safe) return next();
    try {
      await next();
    } finally {
      authCache.forget(userId);
    }
  });
}

/** The authenticated user; only for handlers behind requireAuth(). */
export function authOf(c: Context<AppEnv>): Authenticated {
  const auth = c.get('auth');
  if (!auth) throw new Error('authOf() used on a route without requireAuth()');
  return auth;
}
