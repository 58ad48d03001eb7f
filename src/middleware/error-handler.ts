// Renders every failure as one problem+json envelope: AppErrors as registered, Hono's own HTTP errors
// mapped to codes, anything unknown logged (kind, code and stack, never its message) and answered with a
// 500 that reveals nothing.
import { NeonDbError } from '@neondatabase/serverless';
import { errors as upstashErrors } from '@upstash/redis/cloudflare';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Context, ErrorHandler, Hono, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import type { AppEnv } from '../app-env';
import { ConfigError } from '../env';
import { AppError, type ErrorCode, problemBody } from '../errors';
import { log } from '../lib/log';
import { describeError } from '../lib/log-error';

export function problem(c: Context<AppEnv>, error: AppError): Response {
  const requestId = c.get('requestId') ?? crypto.randomUUID();
  const body = problemBody(error.code, error.detail, requestId, error.extensions);
  return c.json(body, error.status, {
    'Content-Type': 'application/problem+json',
    'X-Request-Id': requestId,
    ...error.headers,
  });
}

function fromHttpException(error: HTTPException): AppError {
  const byStatus: Record<number, ErrorCode> = {
    400: 'MALFORMED_REQUEST',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
  };
  const code = byStatus[error.status] ?? (error.status >= 500 ? 'INTERNAL_ERROR' : 'MALFORMED_REQUEST');
  const detail =
    error.status === 400 && /json/i.test(error.message) ? 'Malformed JSON in request body' : undefined;
  return new AppError(code, detail);
}

/**
 * True when a dependency, not our code, failed: the database unreachable, timing out, answering 5xx or
 * garbage (a Postgres error with a SQLSTATE is a bug of ours, except connection-class ones), or Redis down.
 */
function isDependencyFailure(error: unknown): boolean {
  const cause = error instanceof DrizzleQueryError ? error.cause : error;
  if (cause instanceof NeonDbError)
    return !cause.code || cause.code.startsWith('08') || cause.code.startsWith('57P');
  if (error instanceof DrizzleQueryError) return !(cause instanceof Error && 'code' in cause);
  return (
    cause instanceof upstashErrors.UpstashError || (cause instanceof Error && cause.name === 'TimeoutError')
  );
}

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof AppError) return problem(c, error);
  if (error instanceof HTTPException) return problem(c, fromHttpException(error));
  if (isDependencyFailure(error)) {
    log('error', 'dependency unavailable', { request_id: c.get('requestId'), error: describeError(error) });
    return problem(
      c,
      new AppError('DEPENDENCY_UNAVAILABLE', 'A service we depend on is unavailable; try again shortly'),
    );
  }
  log('error', error instanceof ConfigError ? 'configuration invalid' : 'unhandled error', {
    request_id: c.get('requestId'),
    error: describeError(error, { includeStack: true }),
  });
  return problem(c, new AppError('INTERNAL_ERROR', 'Something went wrong on our side'));
};

/**
 * The methods each path answers, from the app's own route table, matched by Hono's own router (so a
 * path matches here exactly when it would match there). Built on the first miss, once per app.
 */
function methodsRouter(app: Hono<AppEnv>) {
  const router = new TrieRouter<string>();
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue; // middleware, not an endpoint
    router.add(route.method, route.path, route.method);
    methods.add(route.method);
  }
  return (path: string) => [...methods].filter((method) => router.match(method, path)[0].length > 0);
}

/** 404 for unknown paths, 405 (with Allow) for known paths called with the wrong method. */
export function notFoundHandler(app: Hono<AppEnv>): NotFoundHandler<AppEnv> {
  let allowedMethods: ((path: string) => string[]) | undefined;
  return (c) => {
    allowedMethods ??= methodsRouter(app);
    const allowed = new Set(allowedMethods(c.req.path));
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      if (allowed.has('GET')) allowed.add('HEAD');
      const allow = [...allowed].sort().join(', ');
      return problem(
        c,
        new AppError(
          'METHOD_NOT_ALLOWED',
          `${c.req.method} is not allowed here; use ${allow}`,
          {},
          { Allow: allow },
        ),
      );
    }
    return problem(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`));
  };
}
