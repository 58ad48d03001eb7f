// How a session reaches the client: browsers get the refresh token in the httpOnly cookie; native
// clients that send `X-Refresh-Token-Transport: body` get it in the JSON body instead (never a URL).
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';
import { setRefreshCookie } from '../../lib/cookies';
import { clientIp } from '../../middleware/rate-limit';
import type { SessionGrant, SignInOutcome } from '../../services/auth/login';
import type { ClientInfo } from '../../services/auth/sessions';
import { toPublicUser } from '../../services/auth/users';

export const TRANSPORT_HEADER = 'X-Refresh-Token-Transport';

export function wantsBodyTransport(c: Context<AppEnv>): boolean {
  return c.req.header(TRANSPORT_HEADER)?.toLowerCase() === 'body';
}

export function clientInfo(c: Context<AppEnv>): ClientInfo {
  return { userAgent: c.req.header('user-agent'), ipAddress: clientIp(c) };
}

/** Delivers the tokens of a new or refreshed session by the transport the client chose. */
export function deliverTokens(
  c: Context<AppEnv>,
  tokens: { accessToken: string; expiresIn: number; refreshToken: string },
  inBody: boolean,
) {
  if (!inBody) setRefreshCookie(c, c.var.services.config, tokens.refreshToken);
  return {
    token: tokens.accessToken,
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    ...(inBody ? { refresh_token: tokens.refreshToken } : {}),
  };
}

export function sessionGrantBody(c: Context<AppEnv>, grant: SessionGrant) {
  c.set('userId', grant.user.id);
  return {
    ...deliverTokens(c, grant, wantsBodyTransport(c)),
    user: toPublicUser(grant.user, c.var.services.config.ADMIN_EMAILS),
  };
}

/** A sign-in's answer: the session, or the second-factor challenge (no token, no cookie). */
export function signInBody(c: Context<AppEnv>, outcome: SignInOutcome) {
  if (!outcome.mfaRequired) return sessionGrantBody(c, outcome);
  c.set('userId', outcome.user.id);
  return { mfa_required: true as const, mfa_token: outcome.mfaToken, methods: outcome.methods };
}

/**
 * CSRF defence for routes that a cookie authenticates: the request must come from the API's own
 * origin, the front end, or an origin in CORS_ORIGINS. Browsers always send Origin on POST.
 */
export function assertAllowedOrigin(c: Context<AppEnv>): void {
  const { config } = c.var.services;
  const origin = c.req.header('origin');
  const allowed = new Set([new URL(config.APP_URL).origin, ...config.CORS_ORIGINS]);
  if (config.FRONTEND_URL) allowed.add(new URL(config.FRONTEND_URL).origin);
  if (!origin || !allowed.has(origin)) {
    throw new AppError(
      'ORIGIN_NOT_ALLOWED',
      'Cookie-authenticated requests must come from an allowed Origin',
    );
  }
}
