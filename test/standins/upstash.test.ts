// The Upstash stand-in speaks Upstash's REST protocol faithfully enough for the production clients
// (@upstash/redis with its default base64 encoding and auto-pipelining, and @upstash/ratelimit).
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { bindings } from '../support/bindings';

const redis = new Redis({ url: bindings.UPSTASH_REDIS_REST_URL, token: bindings.UPSTASH_REDIS_REST_TOKEN });
const key = (name: string) => `test:${crypto.randomUUID()}:${name}`;

describe('Upstash stand-in through @upstash/redis', () => {
  it('round-trips unicode strings, numbers and JSON values (base64 response encoding)', async () => {
    const k = key('unicode');
    expect(await redis.set(k, 'héllo wörld 🚀 "quotes" \\ \n newline')).toBe('OK');
    expect(await redis.get(k)).toBe('héllo wörld 🚀 "quotes" \\ \n newline');
    const j = key('json');
    await redis.set(j, { a: 1, nested: ['x', 'ü'] });
    expect(await redis.get(j)).toEqual({ a: 1, nested: ['x', 'ü'] });
    expect(await redis.incr(key('counter'))).toBe(1);
  });

  it('honours SET options in the case the client sends them (nx, ex)', async () => {
    const k = key('once');
    expect(await redis.set(k, 'first', { nx: true, ex: 60 })).toBe('OK');
    expect(await redis.set(k, 'second', { nx: true, ex: 60 })).toBeNull();
    expect(await redis.get(k)).toBe('first');
    const ttl = await redis.ttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('supports hashes, expiry and missing keys', async () => {
    const h = key('hash');
    expect(await redis.hset(h, { name: 'Ann', visits: 3 })).toBe(2);
    expect(await redis.hgetall(h)).toEqual({ name: 'Ann', visits: 3 });
    expect(await redis.expire(h, 60)).toBe(1);
    const ttl = await redis.ttl(h);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.get(key('missing'))).toBeNull();
  });

  it('runs explicit pipelines and transactions in order', async () => {
    const k = key('pipe');
    const results = await redis.pipeline().set(k, 1).incrby(k, 41).get(k).exec();
    expect(results).toEqual(['OK', 42, 42]);
    const tx = await redis.multi().incr(k).decr(k).exec();
    expect(tx).toEqual([43, 42]);
  });

  it('reports command errors as UpstashError', async () => {
    const k = key('wrongtype');
    await redis.set(k, 'text');
    await expect(redis.lpush(k, 'x')).rejects.toThrow(/WRONGTYPE/);
  });

  it('runs Lua scripts through EVALSHA, falling back to EVAL', async () => {
    const script = redis.createScript<number>('return redis.call("INCRBY", KEYS[1], ARGV[1])');
    const k = key('script');
    expect(await script.eval([k], ['5'])).toBe(5);
    expect(await script.evalsha([k], ['5'])).toBe(10);
    expect(await script.exec([k], ['5'])).toBe(15);
  });

  it('enforces @upstash/ratelimit sliding and fixed windows', async () => {
    for (const limiter of [Ratelimit.slidingWindow(3, '60 s'), Ratelimit.fixedWindow(3, '60 s')]) {
      const ratelimit = new Ratelimit({ redis, limiter, prefix: key('rl') });
      const outcomes = [];
      for (let i = 0; i < 5; i++) outcomes.push((await ratelimit.limit('client-1')).success);
      expect(outcomes).toEqual([true, true, true, false, false]);
      expect((await ratelimit.limit('client-2')).success).toBe(true);
      const blocked = await ratelimit.limit('client-1');
      expect(blocked.remaining).toBe(0);
      expect(blocked.reset).toBeGreaterThan(Date.now());
    }
  });

  it('rejects a wrong token', async () => {
    const intruder = new Redis({ url: bindings.UPSTASH_REDIS_REST_URL, token: 'wrong' });
    await expect(intruder.get(key('x'))).rejects.toThrow();
  });
});
