// Counting requests against windows in Redis (@upstash/ratelimit). One limiter per window shape is built
// once and reused; each decision is one Redis round trip. Callers choose the keys and what a refusal means.
import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';

export interface LimitWindow {
  /** Redis key prefix: which counter family this is (the prefix also names the limit in it). */
  prefix: string;
  /** Sliding windows smooth bursts at the edges; fixed ones are cheaper and reset on the hour. */
  kind: 'sliding' | 'fixed';
  limit: number;
  seconds: number;
}

export interface LimitDecision {
  success: boolean;
  limit: number;
  remaining: number;
  /** When the window frees up again, in Unix milliseconds. */
  reset: number;
}

export interface RateLimiter {
  /** Counts one hit by `key` in `window`. Rejects when Redis fails; it never decides for the caller. */
  hit(window: LimitWindow, key: string): Promise<LimitDecision>;
  /** How many hits `key` has left in `window`, counting none. Rejects when Redis fails. */
  remaining(window: LimitWindow, key: string): Promise<number>;
}

export function createRateLimiter(redis: Redis): RateLimiter {
  const limiters = new Map<string, Ratelimit>();
  const limiterFor = ({ prefix, kind, limit, seconds }: LimitWindow) => {
    const id = `${prefix}\n${kind}\n${limit}\n${seconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = new Ratelimit({
        redis,
        limiter:
          kind === 'sliding'
            ? Ratelimit.slidingWindow(limit, `${seconds} s`)
            : Ratelimit.fixedWindow(limit, `${seconds} s`),
        prefix,
        // Callers set their own deadline; the library's would let the request through on timeout.
        timeout: 0,
        ephemeralCache: false,
        analytics: false,
      });
      limiters.set(id, limiter);
    }
    return limiter;
  };
  return {
    async hit(window, key) {
      const { success, limit, remaining, reset } = await limiterFor(window).limit(key);
      return { success, limit, remaining, reset };
    },
    async remaining(window, key) {
      return (await limiterFor(window).getRemaining(key)).remaining;
    },
  };
}
