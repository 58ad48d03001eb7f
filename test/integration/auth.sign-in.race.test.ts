// A sign-in checks the password, hashes for tens of milliseconds, then starts the session. A password
// reset, change or first proof of the mailbox that lands in between must win: the session starts only
// if the account still has the password hash (and the active state) the sign-in checked. Drives the
// sign-in service with the account as it was read before the change, which is that interleaving.
import { createExecutionContext } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sessions, users } from '../../src/db/schema';
import { AppError } from '../../src/errors';
import { createServices } from '../../src/services';
import { signIn } from '../../src/services/auth/login';
import { createUser, db, reloadUser } from '../support/accounts';
import { testEnv } from '../support/worker';

const services = () => createServices(testEnv(), createExecutionContext());
const sessionsOf = (userId: string) => db().select().from(sessions).where(eq(sessions.userId, userId));

describe('signIn after a credential change it did not see', () => {
  it('starts no session when the password changed after it was checked', async () => {
    const user = await createUser();
    const readBeforeTheChange = (await reloadUser(user.id))!;
    await db().update(users).set({ passwordHash: null }).where(eq(users.id, user.id));

    const error = await signIn(services(), readBeforeTheChange, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('INVALID_CREDENTIALS');
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it('starts no session when the account was deactivated meanwhile', async () => {
    const user = await createUser();
    const readBefore = (await reloadUser(user.id))!;
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    await expect(signIn(services(), readBefore, {})).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it('starts the session when nothing changed', async () => {
    const user = await createUser();
    const grant = await signIn(services(), (await reloadUser(user.id))!, {});
    if (grant.mfaRequired) throw new Error('no second factor was set up');
    expect((await sessionsOf(user.id)).map((row) => row.id)).toEqual([grant.sessionId]);
  });
});
