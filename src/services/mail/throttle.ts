// Per-recipient limits on the emails a stranger can cause (a code, a reset link, a verification link, a
// sign-up notice, the deletion notice of a never-verified account): at most one of a kind per address per minute and five an hour, so nobody can flood a
// mailbox through our forms. Security notices that follow the owner's own actions are never held back.
import { AppError } from '../../errors';
import { withDeadline } from '../../lib/deadline';
import type { Services } from '../../services';

export type ThrottledEmail =
  | 'login_code'
  | 'reset_password'
  | 'verify_email'
  | 'account_exists'
  | 'account_deleted';

export const EMAIL_COOLDOWN_SECONDS = 60;
export const EMAILS_PER_HOUR = 5;
const REDIS_TIMEOUT_MS = 1500;

/**
 * Whether an email of `kind` may go to `address` now; counts it when it may. Throws 503
 * DEPENDENCY_UNAVAILABLE when Redis cannot say: callers then send nothing.
 */
export async function mayEmail(s: Services, kind: ThrottledEmail, address: string): Promise<boolean> {
  const email = address.trim().toLowerCase();
  try {
    return await withDeadline(
      (async () => {
        const first = await s.redis.set(`edgeauth:mail:cooldown:${kind}:${email}`, '1', {
          nx: true,
          ex: EMAIL_COOLDOWN_SECONDS,
        });
        if (first !== 'OK') return false;
        const hourly = {
          prefix: `edgeauth:mail:hourly:${kind}`,
          kind: 'fixed',
          limit: EMAILS_PER_HOUR,
          seconds: 3600,
        } as const;
        return (await s.rateLimiter.hit(hourly, email)).success;
      })(),
      REDIS_TIMEOUT_MS,
    );
  } catch {
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'Email is unavailable; try again shortly');
  }
}
