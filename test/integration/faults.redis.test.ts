// Redis faults injected at the Upstash stand-in, scoped to this file's clients: the rate-limited auth
// routes fail closed with 503 and write nothing; routes that do not need Redis keep serving.
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema';
import { bearer, createUser, db, login, uniqueEmail } from '../support/accounts';
import { redisScope } from '../support/faults';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const redis = redisScope('redis-faults');
const scopedEnv = redis.env;
const redisFault = redis.fault;

afterEach(() => redisFault('none'));

describe.each([
  ['5xx', { mode: 'error' }],
  ['malformed replies', { mode: 'malformed' }],
  ['slower than the limiter deadline', { mode: 'slow', delay_ms: 3000 }],
  ['dropped connections', { mode: 'down' }],
])('Redis answering with %s', (_name, fault) => {
  it('fails login and registration closed, writing nothing', async () => {
    const user = await createUser();
    await redisFault(fault.mode, fault);
    const env = scopedEnv();
    await expectProblem(
      await api('/login', { method: 'POST', json: { email: user.email, password: user.password } }, env),
      503,
      'DEPENDENCY_UNAVAILABLE',
    );
    const email = uniqueEmail('redis-fault');
    await expectProblem(
      await api(
        '/register',
        { method: 'POST', json: { email, username: `r${Date.now()}`, password: 'a strong password' } },
        env,
      ),
      503,
      'DEPENDENCY_UNAVAILABLE',
    );
    expect(await db().select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });

  it('keeps serving the routes that do not need Redis', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    await redisFault(fault.mode, fault);
    const env = scopedEnv();
    expect((await api('/me', { headers: bearer(token) }, env)).status).toBe(200);
    expect((await api('/billing/plans', {}, env)).status).toBe(200);
  });
});
