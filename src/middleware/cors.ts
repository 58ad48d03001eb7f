// CORS for browser front ends: only origins listed in CORS_ORIGINS, with credentials (the refresh cookie).
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

export function corsAllowList() {
  const handler = cors({
    origin: (origin, c) => (c.get('services').config.CORS_ORIGINS.includes(origin) ? origin : null),
    credentials: true,
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    // X-Refresh-Token-Transport: a client in a browser may still ask for the refresh token in the body.
    // Cache-Control: no-cache makes an authenticated GET skip the auth cache (README "Session checks").
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'X-Request-Id',
      'Idempotency-Key',
      'X-Refresh-Token-Transport',
      'Cache-Control',
    ],
    exposeHeaders: [
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'WWW-Authenticate',
    ],
    maxAge: 600,
  });
  return createMiddleware<AppEnv>(async function corsMiddleware(c, next) {
    if (c.req.header('origin') !== undefined) return handler(c, next);
    // No Origin, no browser asking: nothing to allow. The answer still varies with Origin for caches.
    await next();
    c.res.headers.append('Vary', 'Origin');
  });
}
