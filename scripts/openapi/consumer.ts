// A client as an adopter would write one: openapi-fetch over the types openapi-typescript generates from
// the served document (./schema.ts, written next to this file by `npm run openapi:check`). The check
// type-checks it against those types, then runs it against the stack: `node consumer.mjs <api base URL>`.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

const baseUrl = process.argv[2];
expect(baseUrl, 'usage: consumer <api base URL>');
const client = createClient<paths>({ baseUrl });
const calls: string[] = [];

const health = await client.GET('/health');
expect(health.data?.status === 'ok', `GET /health answered ${health.response.status}`);
calls.push(`GET /health → ${health.response.status} ${health.data.status}`);

const plans = await client.GET('/billing/plans');
expect(plans.data, `GET /billing/plans answered ${plans.response.status}`);
calls.push(`GET /billing/plans → ${plans.response.status}, ${plans.data.length} plans`);

const suffix = crypto.randomUUID().slice(0, 8);
const email = `openapi-consumer-${suffix}@example.com`;
const password = 'correct horse battery staple';
const registered = await client.POST('/register', {
  body: { email, username: `consumer-${suffix}`, password },
});
expect(registered.data?.user.email === email, `POST /register answered ${registered.response.status}`);
calls.push(`POST /register → ${registered.response.status} user ${registered.data.user.id}`);

const login = await client.POST('/login', { body: { email, password } });
expect(login.data, `POST /login answered ${login.response.status}`);
// The answer is the session or, for an account with TOTP on, the second-factor challenge.
const grant = login.data;
expect(!('mfa_required' in grant), 'a new account has no second factor');
calls.push(`POST /login → ${login.response.status}, token expires in ${grant.expires_in} s`);

const me = await client.GET('/me', { headers: { Authorization: `Bearer ${grant.token}` } });
expect(me.data?.user.email === email, `GET /me answered ${me.response.status}`);
calls.push(`GET /me → ${me.response.status} ${me.data.user.username}`);

const refused = await client.POST('/login', { body: { email, password: 'not the password' } });
expect(refused.error, `POST /login with a wrong password answered ${refused.response.status}`);
// error.code is typed as the codes /login documents, so a code it never answers does not compile.
// @ts-expect-error PLAN_CODE_TAKEN is not among them
expect(refused.error.code !== 'PLAN_CODE_TAKEN', 'unreachable');
expect(
  refused.response.status === 401 && refused.error.code === 'INVALID_CREDENTIALS',
  `POST /login with a wrong password: ${refused.response.status} ${refused.error.code}, not 401 INVALID_CREDENTIALS`,
);
calls.push(`POST /login (wrong password) → ${refused.response.status} ${refused.error.code}`);

console.log(calls.join('\n'));
