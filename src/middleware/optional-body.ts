// For routes whose JSON body is optional: a request that declares a JSON body but sends zero bytes (what
// `fetch` sends with the header set and no body) is handled as a request without a body, not as malformed JSON.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

export function emptyBodyIsNoBody() {
  return createMiddleware<AppEnv>(async function emptyBodyIsNoBodyMiddleware(c, next) {
    const raw = c.req.raw;
    if (raw.body !== null && (await c.req.arrayBuffer()).byteLength === 0) {
      const headers = new Headers(raw.headers);
      headers.delete('content-type');
      headers.delete('content-length');
      // Validators read the body through c.req, so it is replaced by the same request without one.
      c.req.raw = new Request(raw.url, { method: raw.method, headers, signal: raw.signal, cf: raw.cf });
      c.req.bodyCache = {};
    }
    await next();
  });
}
