// The verified-token memory's bound and eviction order (README "Decisions": up to 4 096 tokens per key
// set, least recently used first), observed where the memory saves work: a remembered token reaches no
// signature check in WebCrypto, a forgotten one does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnv } from '../../src/env';
import { issueAccessToken, verifyAccessToken } from '../../src/services/auth/access-tokens';
import { testEnv } from '../support/worker';

/** The documented bound. */
const REMEMBERED = 4096;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the verified-token memory', () => {
  it('holds 4 096 tokens per key set and lets the least recently used go first', async () => {
    // A configuration of its own: its keys start with an empty memory.
    const config = parseEnv(testEnv());
    const now = new Date();
    const claims = {
      userId: crypto.randomUUID(),
      sessionId: crypto.randomUUID(),
      emailVerified: true,
      entitlements: null,
    };
    const tokens: string[] = [];
    for (let i = 0; i <= REMEMBERED; i++) tokens.push((await issueAccessToken(config, now, claims)).token);
    const checks = vi.spyOn(crypto.subtle, 'verify');
    const verify = async (token: string) => {
      const before = checks.mock.calls.length;
      const result = await verifyAccessToken(config, now, token);
      expect(result.ok).toBe(true);
      return checks.mock.calls.length - before;
    };

    // The first REMEMBERED tokens fill the memory, each checked once.
    for (const token of tokens.slice(0, REMEMBERED)) expect(await verify(token)).toBe(1);
    expect(await verify(tokens[0]!)).toBe(0);
    // One more pushes out the least recently used: tokens[1], since tokens[0] was just used again.
    expect(await verify(tokens[REMEMBERED]!)).toBe(1);
    expect(await verify(tokens[0]!)).toBe(0);
    expect(await verify(tokens[2]!)).toBe(0);
    expect(await verify(tokens[1]!)).toBe(1);
  });
});
