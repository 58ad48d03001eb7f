// Bearer authentication: a valid access token whose session is still live and whose user is active.
// Failures answer 401 with WWW-Authenticate (RFC 6750), or 403 for a disabled or unverified account.
import type { BatchItem } from 'drizzle-orm/batch';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, Authenticated } from '../app-env';
import { AppError, type ErrorCode } from '../errors';
import { verifyAccessToken } from '../services/auth/access-tokens';
import { assertRecentAuthentication } from '../services/auth/reauthentication';
import { userWithSessionQuery } from '../services/auth/users';

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
}

/** A Preload for requireAuth({ preload }); define it once per read, next to the route that uses it. */
export function definePreload<Rows>(query: Preload<Rows>['query']): Preload<Rows> {
  // Keyed by the request, so rows never outlive it or reach another one.
  const read = new WeakMap<Request, { rows: Rows }>();
  return {
    query,
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
    const { config, clock, db } = c.var.services;
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
    const extra = preload?.query(c, userId, sessionId);
    const [rows, preloaded] = extra
      ? await db.batch([userWithSessionQuery(db, userId, sessionId), extra])
      : [await userWithSessionQuery(db, userId, sessionId), undefined];
    const found = rows[0];
    if (!found) throw unauthorized('INVALID_TOKEN', 'Invalid token', 'invalid_token');
    if (found.sessionRevokedAt || found.sessionExpiresAt <= clock.now()) {
      throw unauthorized('SESSION_REVOKED', 'This session has been signed out', 'invalid_token');
    }
    if (!found.user.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
    if (verified && !found.user.isVerified) {
      throw new AppError('EMAIL_NOT_VERIFIED', 'Verify your email address first');
    }
    if (recent) assertRecentAuthentication(c.var.services, found.sessionAuthenticatedAt);
    c.set('auth', { user: found.user, sessionId, authenticatedAt: found.sessionAuthenticatedAt });
    if (extra && preload) preload.keep(c, preloaded);
    c.set('userId', userId);
    await next();
  });
}

/** The authenticated user; only for handlers behind requireAuth(). */
export function authOf(c: Context<AppEnv>): Authenticated {
  const auth = c.get('auth');
  if (!auth) throw new Error('authOf() used on a route without requireAuth()');
  return auth;
}
