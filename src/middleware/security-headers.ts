// Security headers on every response; responses are not cacheable unless a route says otherwise.
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../app-env';

export function securityHeaders() {
  const defaults = secureHeaders({
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-site',
    // Headers only legacy browsers read (IE's download prompt and XSS auditor, DNS prefetch control):
    // bytes on every response for no protection a current browser applies.
    xDownloadOptions: false,
    xXssProtection: false,
    xDnsPrefetchControl: false,
  });
  return createMiddleware<AppEnv>(async function securityHeadersMiddleware(c, next) {
    await defaults(c, async () => {
      await next();
      if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    });
  });
}
