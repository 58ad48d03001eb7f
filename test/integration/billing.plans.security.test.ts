// The shared security suite (test/support/security.ts) on the admin-only plan routes, plus the admin rule
// itself: the admin email only counts once it is verified.
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, db, login } from '../support/accounts';
import { expectProblem } from '../support/problem';
import { describeProtectedRoute, type ProtectedRoute } from '../support/security';
import { api } from '../support/worker';

// The suite signs in fresh accounts and expects its valid token to get past authorisation; on admin
// routes that needs an admin, so every account created in this file's own database is flagged as one.
beforeAll(async () => {
  await db().execute(
    sql.raw(`CREATE FUNCTION make_every_user_admin() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.is_admin := true; RETURN NEW; END $$`),
  );
  await db().execute(
    sql.raw(`CREATE TRIGGER every_user_is_admin BEFORE INSERT ON users
      FOR EACH ROW EXECUTE FUNCTION make_every_user_admin()`),
  );
});

const planBody = {
  code: `security-${crypto.randomUUID().slice(0, 8)}`,
  name: 'Security',
  price_cents: 500,
  billing_period: 'monthly',
};

// Unknown plan ids: an admin with a valid token gets past every check and is answered 404.
const ROUTES: ProtectedRoute[] = [
  { method: 'POST', path: '/billing/plans', body: planBody, requiresVerified: true },
  {
    method: 'PATCH',
    path: `/billing/plans/${crypto.randomUUID()}`,
    body: { name: 'Renamed' },
    requiresVerified: true,
  },
  { method: 'DELETE', path: `/billing/plans/${crypto.randomUUID()}`, requiresVerified: true },
];

for (const route of ROUTES) describeProtectedRoute(route);

describe('the admin email without verification', () => {
  let token = '';
  beforeAll(async () => {
    const admin = await createUser({ email: 'admin@edgeauth.test', isVerified: false });
    token = (await login(admin.email)).token;
  });

  it.each(ROUTES)('answers 403 EMAIL_NOT_VERIFIED on $method $path', async (route) => {
    const response = await api(route.path, {
      method: route.method,
      headers: { authorization: `Bearer ${token}` },
      ...(route.body === undefined ? {} : { json: route.body }),
    });
    const problem = await expectProblem(response, 403, 'EMAIL_NOT_VERIFIED');
    expect(problem.detail).toBe('Verify your email address first');
  });
});
