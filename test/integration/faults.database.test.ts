// Database faults injected at the Neon stand-in (scoped to this file's database): every route answers
// 503 DEPENDENCY_UNAVAILABLE, never a 500 or a hang, and nothing is half-written.
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema';
import { bearer, createUser, db, login, uniqueEmail } from '../support/accounts';
import { databaseFault } from '../support/faults';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

afterEach(() => databaseFault('none'));

describe.each([
  ['down (connection dropped)', { mode: 'down' }],
  ['5xx from the endpoint', { mode: 'error' }],
  ['malformed reply', { mode: 'malformed' }],
  ['slower than DATABASE_TIMEOUT_MS', { mode: 'slow', delay_ms: 3000 }],
])('database %s', (_name, fault) => {
  it('answers a read with 503, and the next request works again', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    await databaseFault(fault.mode, { ...fault, count: 1 });
    await expectProblem(await api('/me', { headers: bearer(token) }), 503, 'DEPENDENCY_UNAVAILABLE');
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
  });

  it('answers a write with 503 and writes nothing', async () => {
    const email = uniqueEmail('fault');
    await databaseFault(fault.mode, { ...fault });
    const response = await api('/register', {
      method: 'POST',
      json: { email, username: `f${Date.now()}`, password: 'a strong password' },
    });
    await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
    await databaseFault('none');
    expect(await db().select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });
});
