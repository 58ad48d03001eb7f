// Durations and Stripe's Unix seconds: the one place each conversion is written.

export const SECOND_MS = 1000;
export const DAY_MS = 24 * 60 * 60 * SECOND_MS;

/** Stripe's Unix seconds as a Date (null when Stripe sent none). */
export function fromUnix(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' ? new Date(seconds * SECOND_MS) : null;
}
