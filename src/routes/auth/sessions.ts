// Session lifecycle: refresh (rotation), logout, logout everywhere, and the list of live sessions.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';
import { clearRefreshCookie, REFRESH_COOKIE, readRefreshCookie } from '../../lib/cookies';
import { authOf, definePreload, requireAuth } from '../../middleware/auth';
import { emptyBodyIsNoBody } from '../../middleware/optional-body';
import { type Identify, rateLimit } from '../../middleware/rate-limit';
import {
  guardedBySession,
  listLiveSessions,
  refreshSession,
  revokeAllSessionsStatement,
  revokeSessionStatement,
  sessionOfRefreshToken,
} from '../../services/auth/sessions';
import { bearerSecurity, jsonResponse } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses } from '../openapi/problem-schema';
import { RefreshSchema, SessionSchema, TokenSchema } from './schemas';
import { assertAllowedOrigin, deliverTokens } from './session-response';

/** The token from the body (native clients) or else the cookie; an empty body counts as none. */
async function presentedRefreshToken(c: Context<AppEnv>): Promise<{ token?: string; fromBody: boolean }> {
  const body: unknown = await c.req.json().catch(() => undefined);
  const fromBody = (body as { refresh_token?: unknown } | undefined)?.refresh_token;
  if (typeof fromBody === 'string') return { token: fromBody, fromBody: true };
  return { token: readRefreshCookie(c), fromBody: false };
}

/** The session a well-formed, genuine refresh token names: the rate-limit key for its refreshes. */
const presentedSession: Identify = async (c) => {
  const { token } = await presentedRefreshToken(c);
  return token ? ((await sessionOfRefreshToken(c.var.services.config, token)) ?? undefined) : undefined;
};

const refresh = createRoute({
  method: 'post',
  path: '/refresh-token',
  tags: ['Sessions'],
  summary: 'Exchange the refresh token for a new access token (rotation)',
  description:
    `Browsers send the \`${REFRESH_COOKIE}\` cookie (and must send an allowed Origin); native clients send ` +
    '`{"refresh_token": ...}` in the body and get the next one in the body (an empty body counts as none). ' +
    'Every use rotates the token. ' +
    'A rotated token presented again within a short grace window gets the same successor; later, it revokes the session.',
  // The cookie (browsers) or a refresh_token in the body (native clients, no security scheme).
  security: [{ refreshCookie: [] }, {} as Record<string, string[]>],
  middleware: [
    rateLimit('refresh', presentedSession, { identifierOnly: (config) => config.REFRESH_RATE_LIMIT_MAX }),
    emptyBodyIsNoBody(),
  ] as const,
  request: {
    body: { required: false, content: { 'application/json': { schema: RefreshSchema } } },
  },
  responses: {
    200: jsonResponse(TokenSchema, 'New access token; the refresh token was rotated'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'INVALID_REFRESH_TOKEN',
      'ORIGIN_NOT_ALLOWED',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

// Sign-outs are written in the session check's round trip, each guarded by that same check.
const revokeOwn = definePreload((c, userId, sessionId) => {
  const now = c.var.services.clock.now();
  return revokeSessionStatement(c.var.services.db, {
    userId,
    sessionId,
    now,
    reason: 'logout',
    onlyIf: guardedBySession({ userId, sessionId, now }),
  });
});
const revokeAll = definePreload((c, userId, sessionId) => {
  const now = c.var.services.clock.now();
  return revokeAllSessionsStatement(c.var.services.db, {
    userId,
    now,
    reason: 'logout_all',
    onlyIf: guardedBySession({ userId, sessionId, now }),
  });
});
const SessionIdParams = z.object({ id: z.uuid() });
/** An id that is not a UUID revokes nothing: the validator answers 422. */
const revokeNamed = definePreload((c, userId, sessionId) => {
  const params = SessionIdParams.safeParse(c.req.param());
  if (!params.success) return undefined;
  const target = params.data.id;
  const now = c.var.services.clock.now();
  return revokeSessionStatement(c.var.services.db, {
    userId,
    sessionId: target,
    now,
    reason: 'revoked_by_user',
    onlyIf: guardedBySession({ userId, sessionId, now }),
  });
});

const logout = createRoute({
  method: 'post',
  path: '/logout',
  tags: ['Sessions'],
  summary: 'Sign out of the current session',
  security: bearerSecurity,
  middleware: [requireAuth({ preload: revokeOwn })] as const,
  responses: {
    204: { description: 'Session revoked; refresh cookie cleared' },
    ...problemResponses(...AUTH_ERRORS),
  },
});

const logoutAll = createRoute({
  method: 'post',
  path: '/logout-all',
  tags: ['Sessions'],
  summary: 'Sign out of every session',
  security: bearerSecurity,
  middleware: [requireAuth({ preload: revokeAll })] as const,
  responses: {
    204: { description: 'Every session revoked; refresh cookie cleared' },
    ...problemResponses(...AUTH_ERRORS),
  },
});

/** GET /sessions reads the list with the session check: one round trip. */
const preloadSessions = definePreload(
  (c, userId) => listLiveSessions(c.var.services.db, userId, c.var.services.clock.now()),
  { cacheAs: 'sessions' },
);

const list = createRoute({
  method: 'get',
  path: '/sessions',
  tags: ['Sessions'],
  summary: 'List the live sessions of the current user',
  security: bearerSecurity,
  middleware: [requireAuth({ preload: preloadSessions })] as const,
  responses: {
    200: jsonResponse(
      z.object({ sessions: z.array(SessionSchema) }),
      'Live sessions, most recently used first',
    ),
    ...problemResponses(...AUTH_ERRORS),
  },
});

const revoke = createRoute({
  method: 'delete',
  path: '/sessions/{id}',
  tags: ['Sessions'],
  summary: 'Revoke one of your sessions',
  security: bearerSecurity,
  middleware: [requireAuth({ preload: revokeNamed })] as const,
  request: { params: SessionIdParams },
  responses: {
    204: { description: 'Session revoked' },
    ...problemResponses(...AUTH_ERRORS, 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
});

export const sessionRoutes = new OpenAPIHono<AppEnv>()
  .openapi(refresh, async (c) => {
    c.req.valid('json');
    const { token, fromBody } = await presentedRefreshToken(c);
    if (!token) throw new AppError('INVALID_REFRESH_TOKEN', 'Refresh token is missing');
    if (!fromBody) assertAllowedOrigin(c);
    const tokens = await refreshSession(c.var.services, token);
    return c.json(deliverTokens(c, tokens, fromBody), 200);
  })
  .openapi(logout, (c) => {
    clearRefreshCookie(c, c.var.services.config);
    return c.body(null, 204);
  })
  .openapi(logoutAll, (c) => {
    clearRefreshCookie(c, c.var.services.config);
    return c.body(null, 204);
  })
  .openapi(list, async (c) => {
    const { sessionId } = authOf(c);
    const rows = preloadSessions.rowsOf(c);
    const sessions = rows.map((row) => ({
      id: row.id,
      created_at: row.createdAt.toISOString(),
      last_used_at: row.lastUsedAt.toISOString(),
      expires_at: row.expiresAt.toISOString(),
      user_agent: row.userAgent,
      ip_address: row.ipAddress,
      current: row.id === sessionId,
    }));
    return c.json({ sessions }, 200);
  })
  .openapi(revoke, (c) => {
    c.req.valid('param');
    if (revokeNamed.rowsOf(c).length === 0) throw new AppError('NOT_FOUND', 'No live session with this id');
    return c.body(null, 204);
  });
