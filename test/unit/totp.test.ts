// TOTP codes as RFC 6238 defines them (its SHA-1 test vectors, cut to 6 digits) and as an authenticator
// app (otpauth) computes them from our otpauth:// URI; the step a code matched; the drift allowed.
import * as OTPAuth from 'otpauth';
import { describe, expect, it } from 'vitest';
import { matchingStep, newTotpSecret, totpEnrollment } from '../../src/services/auth/totp';

// RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const at = (seconds: number) => new Date(seconds * 1000);

describe('matchingStep', () => {
  it('accepts the RFC 6238 test vectors at their times and says which step matched', () => {
    expect(matchingStep(RFC_SECRET, '287082', at(59))).toBe(1);
    expect(matchingStep(RFC_SECRET, '081804', at(1_111_111_109))).toBe(37_037_036);
    expect(matchingStep(RFC_SECRET, '005924', at(1_234_567_890))).toBe(41_152_263);
    expect(matchingStep(RFC_SECRET, '279037', at(2_000_000_000))).toBe(66_666_666);
  });

  it('allows one step of drift either way, not two', () => {
    expect(matchingStep(RFC_SECRET, '081804', at(1_111_111_109 + 30))).toBe(37_037_036);
    expect(matchingStep(RFC_SECRET, '081804', at(1_111_111_109 - 30))).toBe(37_037_036);
    expect(matchingStep(RFC_SECRET, '081804', at(1_111_111_109 + 60))).toBeNull();
    expect(matchingStep(RFC_SECRET, '081804', at(1_111_111_109 - 60))).toBeNull();
  });

  it('refuses anything that is not six digits', () => {
    for (const code of ['', '28708', '2870822', '28708a', ' 287082', '２８７０８２']) {
      expect(matchingStep(RFC_SECRET, code, at(59))).toBeNull();
    }
  });
});

describe('totpEnrollment', () => {
  it('gives a URI an authenticator app parses into the same secret, whose codes we accept', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const { otpauthUrl, qrSvg } = totpEnrollment(secret, 'edgeauth', 'ann@example.com');
    const app = OTPAuth.URI.parse(otpauthUrl) as OTPAuth.TOTP;
    expect(app).toBeInstanceOf(OTPAuth.TOTP);
    expect(app).toMatchObject({ issuer: 'edgeauth', label: 'ann@example.com', digits: 6, period: 30 });
    expect(app.secret.base32).toBe(secret);
    const now = new Date('2030-01-01T00:00:10Z');
    expect(matchingStep(secret, app.generate({ timestamp: now.getTime() }), now)).toBe(
      Math.floor(now.getTime() / 30_000),
    );
    expect(qrSvg.startsWith('<svg')).toBe(true);
  });

  it('makes a new secret every time', () => {
    expect(new Set(Array.from({ length: 50 }, newTotpSecret)).size).toBe(50);
  });
});
