// Rate limits for the sensitive auth routes (@upstash/ratelimit, sliding window), per client IP and per
// identifier (the email in the body, or the signed-in user). They fail closed: if Redis cannot answer
// in time the route answers 503 rather than letting unlimited guesses through.
import { Ratelimit } from '@upstash/ratelimit';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { withDeadline } from '../lib/deadline';
import { log } from '../lib/log';
import { describeError } from '../lib/log-error';

const DECISION_TIMEOUT_MS = 1500;

export type Identify = (c: Context<AppEnv>) => Promise<string | undefined> | string | undefined;

/** The email field of a JSON body, normalised; undefined when absent or not JSON (validation answers). */
export const emailInBody: Identify = async (c) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.length <= 320 ? email.trim().toLowerCase() : undefined;
};

export const signedInUser: Identify = (c) => c.get('auth')?.user.id;

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}

export function rateLimit(name: string, identify?: Identify) {
  return createMiddleware<AppEnv>(async function rateLimitMiddleware(c, next) {
    const { redis, config } = c.var.services;
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(config.RATE_LIMIT_MAX, `${config.RATE_LIMIT_WINDOW_SECONDS} s`),
      prefix: `edgeauth:rl:${name}`,
      // Our own deadline below decides; the library's would let the request through on timeout.
      timeout: 0,
      ephemeralCache: false,
      analytics: false,
    });
    const identifier = identify ? await identify(c) : undefined;
    const keys = [`ip:${clientIp(c)}`, ...(identifier ? [`id:${identifier}`] : [])];
    let decisions: Awaited<ReturnType<Ratelimit['limit']>>[];
    try {
      decisions = await withDeadline(Promise.all(keys.map((key) => limiter.limit(key))), DECISION_TIMEOUT_MS);
    } catch (error) {
      log('error', 'rate limiter unavailable', {
        limiter: name,
        error: describeError(error, { dependency: 'redis' }),
      });
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'Rate limiting is unavailable; try again shortly');
    }
    const now = Date.now();
    const remaining = Math.min(...decisions.map((d) => d.remaining));
    const blocked = decisions.filter((d) => !d.success);
    const resetAt = Math.max(...(blocked.length > 0 ? blocked : decisions).map((d) => d.reset));
    const resetSeconds = Math.max(1, Math.ceil((resetAt - now) / 1000));
    const headers = {
      'RateLimit-Limit': String(config.RATE_LIMIT_MAX),
      'RateLimit-Remaining': String(Math.max(0, remaining)),
      'RateLimit-Reset': String(resetSeconds),
    };
    if (blocked.length > 0) {
      throw new AppError(
        'RATE_LIMITED',
        'Too many requests; try again later',
        {},
        {
          ...headers,
          'Retry-After': String(resetSeconds),
        },
      );
    }
    await next();
    for (const [header, value] of Object.entries(headers)) c.header(header, value);
  });
}
