// TOTP as authenticator apps speak it (RFC 6238: SHA-1, 6 digits, 30-second steps), with the step a
// code matched reported, so a code accepted once can be refused again within its window. Pure.
import { decodeBase32IgnorePadding, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, generateHOTP } from '@oslojs/otp';
import { renderSVG } from 'uqr';
import { constantTimeEqual, randomBytes } from '../../lib/crypto';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now, for clocks that drift and codes typed as they roll over. */
const ALLOWED_DRIFT_STEPS = 1;

/** A new 160-bit secret (RFC 4226's recommended length), base32 as apps take it. */
export function newTotpSecret(): string {
  return encodeBase32UpperCaseNoPadding(randomBytes(20));
}

/** The otpauth:// URI an authenticator app scans, and the same as an SVG QR code. */
export function totpEnrollment(secret: string, issuer: string, account: string) {
  const otpauthUrl = createTOTPKeyURI(
    issuer,
    account,
    decodeBase32IgnorePadding(secret),
    TOTP_PERIOD_SECONDS,
    TOTP_DIGITS,
  );
  return { otpauthUrl, qrSvg: renderSVG(otpauthUrl, { border: 2 }) };
}

export const stepAt = (now: Date) => Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);

/** The step (within the allowed drift of `now`) whose code is `code`, or null when none is. */
export function matchingStep(secret: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const key = decodeBase32IgnorePadding(secret);
  const given = new TextEncoder().encode(code);
  const current = stepAt(now);
  let matched: number | null = null;
  // Every candidate is computed and compared, so the time taken does not say which one matched.
  for (let step = current - ALLOWED_DRIFT_STEPS; step <= current + ALLOWED_DRIFT_STEPS; step++) {
    const expected = new TextEncoder().encode(generateHOTP(key, BigInt(step), TOTP_DIGITS));
    if (constantTimeEqual(expected, given) && matched === null) matched = step;
  }
  return matched;
}
