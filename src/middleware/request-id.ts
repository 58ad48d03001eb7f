// Gives every request an id: the caller's X-Request-Id when it is sane, else a new UUID.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId() {
  return createMiddleware<AppEnv>(async function requestIdMiddleware(c, next) {
    const incoming = c.req.header('x-request-id');
    const id = incoming && SANE_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    await next();
    c.res.headers.set('X-Request-Id', id);
  });
}
