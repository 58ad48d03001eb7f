// Single-use tokens sent by email (verification and password-reset links): random, stored as a keyed
// hash bound to one purpose and one user, expiring, and superseded by the next one of their kind.
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailTokens } from '../../db/schema';
import type { Config } from '../../env';
import { keyedHash, randomToken } from '../../lib/crypto';

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
