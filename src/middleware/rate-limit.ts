// Rate limits for the sensitive auth routes (@upstash/ratelimit, sliding window). With an identifier (the
// email in the body, or the signed-in user) a route is limited per (IP, identifier) at RATE_LIMIT_MAX, per
// identifier at a higher ceiling and per IP at a much higher one: guessing one account's password stays
// slow, yet strangers cannot lock its owner out and an office behind one NAT is not one client. They
// fail closed: if Redis cannot answer in time the route answers 503 rather than letting guesses through.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import type { Config } from '../env';
import { AppError } from '../errors';
import { withDeadline } from '../lib/deadline';
import { log } from '../lib/log';
import { describeError } from '../lib/log-error';
import type { LimitDecision } from '../services/rate-limiter';

const DECISION_TIMEOUT_MS = 1500;
/** Ceilings relative to RATE_LIMIT_MAX: one identifier from anywhere, and one IP for anyone. */
export const PER_IDENTIFIER_FACTOR = 4;
export const PER_IP_FACTOR = 20;

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

interface Key {
  key: string;
  limit: number;
}

export interface RateLimitOptions {
  /**
   * Limit only by the identifier, at this many requests per window, and let requests without one
   * through (the route refuses those itself without touching a dependency). For /refresh-token: the
   * session is the client, whatever IP it comes from.
   */
  identifierOnly?: (config: Config) => number;
  /**
   * For routes anyone calls without naming an account (passkey sign-in options, fetched on every page
   * that offers the button): the per-IP limit, instead of RATE_LIMIT_MAX.
   */
  perIp?: (config: Config) => number;
}

function keysFor(
  config: Config,
  ip: string,
  identifier: string | undefined,
  options: RateLimitOptions,
): Key[] {
  const max = config.RATE_LIMIT_MAX;
  if (options.identifierOnly)
    return identifier ? [{ key: `id:${identifier}`, limit: options.identifierOnly(config) }] : [];
  if (!identifier) return [{ key: `ip:${ip}`, limit: options.perIp?.(config) ?? max }];
  return [
    { key: `pair:${ip}|${identifier}`, limit: max },
    { key: `id:${identifier}`, limit: max * PER_IDENTIFIER_FACTOR },
    { key: `ip:${ip}`, limit: max * PER_IP_FACTOR },
  ];
}

export function rateLimit(name: string, identify?: Identify, options: RateLimitOptions = {}) {
  return createMiddleware<AppEnv>(async function rateLimitMiddleware(c, next) {
    const { rateLimiter, config } = c.var.services;
    const identifier = identify ? await identify(c) : undefined;
    const keys = keysFor(config, clientIp(c), identifier, options);
    if (keys.length === 0) return next();
    const decide = ({ key, limit }: Key) =>
      rateLimiter.hit(
        {
          prefix: `edgeauth:rl:${name}:${limit}`,
          kind: 'sliding',
          limit,
          seconds: config.RATE_LIMIT_WINDOW_SECONDS,
        },
        key,
      );
    let decisions: LimitDecision[];
    try {
      decisions = await withDeadline(Promise.all(keys.map(decide)), DECISION_TIMEOUT_MS);
    } catch (error) {
      log('error', 'rate limiter unavailable', {
        limiter: name,
        error: describeError(error, { dependency: 'redis' }),
      });
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'Rate limiting is unavailable; try again shortly');
    }
    const now = Date.now();
    const blocked = decisions.filter((d) => !d.success);
    // The headers describe the tightest limit: the blocking one, else the one with least room left.
    const tightest = (blocked.length > 0 ? blocked : decisions).reduce((a, b) =>
      b.remaining < a.remaining || (b.remaining === a.remaining && b.reset > a.reset) ? b : a,
    );
    const resetSeconds = Math.max(1, Math.ceil((tightest.reset - now) / 1000));
    const headers = {
      'RateLimit-Limit': String(tightest.limit),
      'RateLimit-Remaining': String(Math.max(0, tightest.remaining)),
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
    for (const [header, value] of Object.entries(headers)) c.res.headers.set(header, value);
  });
}
