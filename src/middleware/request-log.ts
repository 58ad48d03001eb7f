// One JSON log line per request. Logs the route pattern, never the raw URL: query strings can hold tokens.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { log } from '../lib/log';

export function requestLog() {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    log(status >= 500 ? 'error' : 'info', 'request', {
      method: c.req.method,
      route: c.req.routePath === '/*' ? 'unmatched' : c.req.routePath,
      status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      request_id: c.get('requestId'),
      user_id: c.get('userId'),
    });
  });
}
