// One JSON log line per request, at a level by its outcome: error for a 5xx, warn for an answer that took
// a second or more, info for the rest (see README "Logs"). Logs the route pattern, never the raw URL:
// query strings can hold tokens.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { type Level, log } from '../lib/log';

/** An answer at least this slow is logged at warn. */
const SLOW_REQUEST_MS = 1000;

function levelOf(status: number, durationMs: number): Level {
  if (status >= 500) return 'error';
  return durationMs >= SLOW_REQUEST_MS ? 'warn' : 'info';
}

export function requestLog() {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const durationMs = performance.now() - started;
    log(levelOf(status, durationMs), 'request', {
      method: c.req.method,
      route: c.req.routePath === '/*' ? 'unmatched' : c.req.routePath,
      status,
      duration_ms: Math.round(durationMs * 10) / 10,
      request_id: c.get('requestId'),
      user_id: c.get('userId'),
    });
  });
}
