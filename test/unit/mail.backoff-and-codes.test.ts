// The pure parts of mail delivery and login codes: how long a failed send waits, what a code looks like.
import { describe, expect, it } from 'vitest';
import { backoffSeconds } from '../../src/queue/email-consumer';
import { generateLoginCode } from '../../src/services/auth/login-codes';

describe('backoffSeconds', () => {
  it('doubles from 10 s with each attempt and stops at 15 minutes', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffSeconds(attempt))).toEqual([10, 20, 40, 80, 160]);
    expect(backoffSeconds(8)).toBe(900);
    expect(backoffSeconds(50)).toBe(900);
    expect(backoffSeconds(0)).toBe(10);
  });

  it("waits at least as long as the relay's Retry-After, within the same ceiling", () => {
    expect(backoffSeconds(1, 120)).toBe(120);
    expect(backoffSeconds(4, 30)).toBe(80);
    expect(backoffSeconds(1, 86_400)).toBe(900);
  });
});

describe('generateLoginCode', () => {
  it('is six digits, leading zeros kept', () => {
    const codes = Array.from({ length: 2000 }, generateLoginCode);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    // 2000 draws from a million values: a repeat-heavy or constant generator shows up here.
    expect(new Set(codes).size).toBeGreaterThan(1990);
  });

  it('uses every digit in every position', () => {
    const codes = Array.from({ length: 2000 }, generateLoginCode);
    for (let position = 0; position < 6; position++) {
      expect(new Set(codes.map((code) => code[position])).size).toBe(10);
    }
  });
});
