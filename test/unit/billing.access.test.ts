// The access rule: one pure function every billing guard uses.
import { describe, expect, it } from 'vitest';
import { accessOf } from '../../src/services/billing/access';

const now = new Date('2030-06-15T12:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 24 * 60 * 60 * 1000);
const sub = (status: string, currentPeriodEnd: Date | null, pastDueSince: Date | null = null) =>
  ({ status, currentPeriodEnd, pastDueSince }) as Parameters<typeof accessOf>[0];

describe('accessOf', () => {
  it('grants access while active or trialing and the period has not ended', () => {
    expect(accessOf(sub('active', days(10)), now, 7)).toEqual({ hasAccess: true, accessUntil: days(10) });
    expect(accessOf(sub('trialing', days(3)), now, 7)).toEqual({ hasAccess: true, accessUntil: days(3) });
  });

  it('ends access when the paid period is over, even if the status still says active', () => {
    expect(accessOf(sub('active', days(-1)), now, 7)).toEqual({ hasAccess: false, accessUntil: days(-1) });
  });

  it('keeps access for the grace period after a payment failed', () => {
    expect(accessOf(sub('past_due', days(20), days(-3)), now, 7)).toEqual({
      hasAccess: true,
      accessUntil: days(4),
    });
    expect(accessOf(sub('past_due', days(20), days(-8)), now, 7)).toEqual({
      hasAccess: false,
      accessUntil: days(-1),
    });
    expect(accessOf(sub('past_due', days(20), days(-1)), now, 0).hasAccess).toBe(false);
  });

  it('grants nothing for canceled, unpaid, incomplete or no subscription', () => {
    for (const status of ['canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused']) {
      expect(accessOf(sub(status, days(10)), now, 7)).toEqual({ hasAccess: false, accessUntil: null });
    }
    expect(accessOf(null, now, 7)).toEqual({ hasAccess: false, accessUntil: null });
  });
});
