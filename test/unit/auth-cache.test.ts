// The auth cache's own rules, which the Worker-level tests (auth.cache.test.ts) cannot reach one by one:
// the TTL edge, a read that began before a forget is not stored, and memory stays bounded by weight.
import { describe, expect, it } from 'vitest';
import { AuthCache, MAX_ENTRY_WEIGHT } from '../../src/services/auth/auth-cache';

const TTL = 5000;

describe('AuthCache', () => {
  it('serves an entry for less than the TTL after it was stored, on the caller’s clock', () => {
    const cache = new AuthCache();
    cache.set('u', 'k', 'v', cache.ticket(), 1000);
    expect(cache.get('u', 'k', 1000, TTL)).toBe('v');
    expect(cache.get('u', 'k', 1000 + TTL - 1, TTL)).toBe('v');
    expect(cache.get('u', 'k', 1000 + TTL, TTL)).toBeUndefined();
    // A clock that went back does not make an entry fresh.
    expect(cache.get('u', 'k', 999, TTL)).toBeUndefined();
  });

  it('forgets one user’s entries and keeps the others’', () => {
    const cache = new AuthCache();
    cache.set('a', 'k', 1, cache.ticket(), 0);
    cache.set('b', 'k', 2, cache.ticket(), 0);
    cache.forget('a');
    expect(cache.get('a', 'k', 0, TTL)).toBeUndefined();
    expect(cache.get('b', 'k', 0, TTL)).toBe(2);
  });

  it('does not store a read that began before the user was forgotten (it may predate the change)', () => {
    const cache = new AuthCache();
    const before = cache.ticket();
    cache.forget('u'); // a write committed while the read was in flight
    cache.set('u', 'k', 'stale', before, 0);
    expect(cache.get('u', 'k', 0, TTL)).toBeUndefined();
    // A read that began after the forget is stored.
    cache.set('u', 'k', 'fresh', cache.ticket(), 0);
    expect(cache.get('u', 'k', 0, TTL)).toBe('fresh');
  });

  it('refuses in-flight reads after forgetAll()', () => {
    const cache = new AuthCache();
    cache.set('u', 'k', 'v', cache.ticket(), 0);
    const before = cache.ticket();
    cache.forgetAll();
    expect(cache.get('u', 'k', 0, TTL)).toBeUndefined();
    cache.set('u', 'k', 'stale', before, 0);
    expect(cache.get('u', 'k', 0, TTL)).toBeUndefined();
  });

  it('keeps its weight under the bound, dropping the least recently stored users, and still refuses a stale read of one dropped', () => {
    const cache = new AuthCache(4); // a user's record weighs 1, each entry its rows: two users of one entry
    const before = cache.ticket();
    cache.forget('a'); // a tombstone: a read of 'a' from before must not be stored
    cache.set('b', 'k', 'b', cache.ticket(), 0);
    cache.set('c', 'k', 'c', cache.ticket(), 0); // evicts 'a'
    expect(cache.get('b', 'k', 0, TTL)).toBe('b');
    expect(cache.get('c', 'k', 0, TTL)).toBe('c');
    cache.set('a', 'k', 'stale', before, 0);
    expect(cache.get('a', 'k', 0, TTL)).toBeUndefined();
    cache.set('d', 'k', 'd', cache.ticket(), 0); // evicts 'b', the least recently stored
    expect(cache.get('b', 'k', 0, TTL)).toBeUndefined();
    expect(cache.get('d', 'k', 0, TTL)).toBe('d');
    expect(cache.storedWeight).toBe(4);
  });

  it('weighs a list by its rows and does not store one heavier than MAX_ENTRY_WEIGHT', () => {
    const cache = new AuthCache();
    cache.set('u', 'sessions', ['s1', 's2', 's3'], cache.ticket(), 0, 3);
    expect(cache.storedWeight).toBe(1 + 3);
    cache.set('u', 'sessions', ['s1'], cache.ticket(), 0, 1); // replaces, weighs its own rows
    expect(cache.storedWeight).toBe(1 + 1);
    const long = Array.from({ length: MAX_ENTRY_WEIGHT + 1 }, (_, i) => `s${i}`);
    cache.set('v', 'sessions', long, cache.ticket(), 0, long.length);
    expect(cache.get('v', 'sessions', 0, TTL)).toBeUndefined();
    expect(cache.storedWeight).toBe(1 + 1);
  });

  it('frees an entry found past its TTL and everything of a forgotten user but the tombstone', () => {
    const cache = new AuthCache();
    cache.set('u', 'a', 1, cache.ticket(), 0);
    cache.set('u', 'b', 2, cache.ticket(), 0, 5);
    expect(cache.storedWeight).toBe(1 + 1 + 5);
    expect(cache.get('u', 'a', TTL, TTL)).toBeUndefined();
    expect(cache.storedWeight).toBe(1 + 5);
    cache.forget('u');
    expect(cache.storedWeight).toBe(1);
    cache.forgetAll();
    expect(cache.storedWeight).toBe(0);
  });

  it('keeps at most 32 entries per user, dropping the oldest', () => {
    const cache = new AuthCache();
    for (let i = 0; i < 40; i++) cache.set('u', `session:${i}`, i, cache.ticket(), 0);
    expect(cache.get('u', 'session:0', 0, TTL)).toBeUndefined();
    expect(cache.get('u', 'session:7', 0, TTL)).toBeUndefined();
    expect(cache.get('u', 'session:8', 0, TTL)).toBe(8);
    expect(cache.get('u', 'session:39', 0, TTL)).toBe(39);
  });
});
