// Single-use tokens sent by email (verification and password-reset links): random, stored as a keyed
// hash bound to one purpose and one user, expiring, and superseded by the next one of their kind.
// emailLink issues one and queues the email that carries it.
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailTokens } from '../../db/schema';
import type { Config } from '../../env';
import { keyedHash, randomToken } from '../../lib/crypto';
import type { Services } from '../../services';
import type { UserRow } from './users';

export type EmailTokenPurpose = (typeof emailTokens.$inferSelect)['purpose'];

type TokenConfig = Pick<Config, 'VALIDATION_SECRET_KEY' | 'VALIDATION_TOKEN_EXPIRE'>;

/** The purpose is part of the hashed message: a verification token never matches as a reset token. */
export const hashEmailToken = (config: TokenConfig, purpose: EmailTokenPurpose, token: string) =>
  keyedHash(config.VALIDATION_SECRET_KEY, `email-token:${purpose}`, token);

/** Issues a token; older unused tokens of the same purpose stop working in the same batch. */
export async function issueEmailToken(
  db: Database,
  config: TokenConfig,
  { userId, purpose, now }: { userId: string; purpose: EmailTokenPurpose; now: Date },
) {
  const token = randomToken();
  const tokenHash = await hashEmailToken(config, purpose, token);
  await db.batch([
    db
      .update(emailTokens)
      .set({ consumedAt: now })
      .where(
        and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.consumedAt)),
      ),
    db.insert(emailTokens).values({
      userId,
      purpose,
      tokenHash,
      createdAt: now,
      expiresAt: new Date(now.getTime() + config.VALIDATION_TOKEN_EXPIRE * 1000),
    }),
  ]);
  return token;
}

/** Issues a link of `purpose` to the user and queues its email (template named like the purpose). */
export async function emailLink(
  s: Services,
  user: Pick<UserRow, 'id' | 'email' | 'username'>,
  purpose: EmailTokenPurpose,
): Promise<void> {
  const token = await issueEmailToken(s.db, s.config, { userId: user.id, purpose, now: s.clock.now() });
  const data = { username: user.username, expiresInSeconds: s.config.VALIDATION_TOKEN_EXPIRE };
  await s.sendEmail(user.email, { template: purpose, data }, token);
}
