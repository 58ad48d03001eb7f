// Deactivating an account: the user is disabled, every session ends, and a notice is sent.
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema';
import type { Services } from '../../services';
import { revokeAllSessionsStatement } from './sessions';
import type { UserRow } from './users';

export async function deactivateAccount(s: Services, user: UserRow): Promise<void> {
  const now = s.clock.now();
  await s.db.batch([
    s.db
      .update(users)
      .set({ isActive: false, deactivatedAt: now, updatedAt: now })
      .where(eq(users.id, user.id)),
    revokeAllSessionsStatement(s.db, { userId: user.id, now, reason: 'deactivated' }),
  ]);
  await s.sendEmail(user.email, { template: 'account_deactivated', data: { username: user.username } });
}
