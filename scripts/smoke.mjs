// `npm run smoke`: walks the main flows against a running `npm run dev`, as a new user would with curl:
// register -> verify via the mailbox -> login -> refresh -> subscribe -> pay on the sandbox checkout
// page -> entitlements -> cancel -> resume. Exits non-zero at the first step that does not work.
// API_URL and MAIL_URL (default: npm run dev's) say where; it refuses to start unless they are edgeauth's
// API and mail sink (scripts/smoke-target.mjs).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiClient } from './api-client.mjs';
import { smokeTargetProblem } from './smoke-target.mjs';

const API = (process.env.API_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const MAIL = (process.env.MAIL_URL ?? 'http://127.0.0.1:8025').replace(/\/$/, '');
const ADMIN_EMAIL = process.env.SMOKE_ADMIN_EMAIL ?? firstAdminEmail();
const PASSWORD = 'smoke test password 123';

/** The first address in .dev.vars' ADMIN_EMAILS (empty by default: no address is an admin in dev). */
function firstAdminEmail() {
  const devVars = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.dev.vars');
  let text;
  try {
    text = readFileSync(devVars, 'utf8');
  } catch {
    return undefined;
  }
  const listed = /^ADMIN_EMAILS=(.*)$/m.exec(text)?.[1]?.replace(/^(['"])(.*)\1$/, '$2') ?? '';
  return listed.split(',')[0]?.trim() || undefined;
}

let step = 0;
function ok(what, detail = '') {
  step += 1;
  console.log(`${String(step).padStart(2)}. ${what}${detail ? `: ${detail}` : ''}`);
}

const call = createApiClient(API);

function expect(condition, message) {
  if (!condition) {
    console.error(`FAILED at step ${step + 1}: ${message}`);
    process.exit(1);
  }
}

async function latestMail(to, subjectPart) {
  for (let i = 0; i < 100; i++) {
    const list = await (await fetch(`${MAIL}/api/v1/search?query=${encodeURIComponent(`to:${to}`)}`)).json();
    for (const summary of list.messages) {
      if (summary.Subject.includes(subjectPart))
        return (await fetch(`${MAIL}/api/v1/message/${summary.ID}`)).json();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function verifiedLogin(email, username) {
  const registered = await call('/register', {
    method: 'POST',
    json: { email, username, password: PASSWORD },
  });
  expect(registered.status === 201 || registered.status === 409, `register ${email}: ${registered.status}`);
  const mail = await latestMail(email, 'Verify your email');
  if (mail) {
    const link = mail.Text.match(/https?:\/\/\S+\/verify\?token=\S+/)?.[0];
    expect(link, 'verification link in the email');
    const verified = await call(new URL(link).pathname + new URL(link).search);
    expect(verified.status === 200 || verified.status === 400, `verify: ${verified.status}`);
  }
  const login = await call('/login', { method: 'POST', json: { email, password: PASSWORD } });
  expect(login.status === 200, `login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
  return login;
}

const problem = await smokeTargetProblem({ apiUrl: API, mailUrl: MAIL });
if (problem) {
  console.error(`Not running the smoke test: ${problem}`);
  process.exit(1);
}
ok('API healthy, mailbox is the mail sink', `${API}, ${MAIL}`);

const plans = await call('/billing/plans');
let plan = plans.body.find((p) => p.code === 'starter-monthly');
if (!plan) {
  expect(
    ADMIN_EMAIL,
    'creating the plan needs an admin: put your address in ADMIN_EMAILS in .dev.vars and restart npm run dev ' +
      '(or set SMOKE_ADMIN_EMAIL to an address listed there)',
  );
  const admin = await verifiedLogin(ADMIN_EMAIL, 'admin');
  ok('admin signed in', ADMIN_EMAIL);
  const created = await call('/billing/plans', {
    method: 'POST',
    token: admin.body.token,
    json: {
      code: 'starter-monthly',
      name: 'Starter',
      price_cents: 900,
      billing_period: 'monthly',
      tier: 'pro',
      features: ['api'],
    },
  });
  expect(created.status === 201, `create plan: ${created.status} ${JSON.stringify(created.body)}`);
  plan = created.body;
}
ok('plan available', `${plan.code} ${plan.price_cents / 100} ${plan.currency}`);

const email = `smoke-${Date.now()}@example.com`;
const user = await verifiedLogin(email, `smoke${Date.now()}`);
expect(
  user.body.user.is_verified,
  `no verification email for ${email} reached ${MAIL} within 10 s: is MAIL_URL the mailbox of the API at ${API}?`,
);
ok('registered, verified via the mailbox, signed in', email);

const cookie = user.headers
  .getSetCookie()
  .find((c) => c.startsWith('edgeauth_refresh='))
  ?.split(';')[0];
const refreshed = await call('/refresh-token', { method: 'POST', headers: { cookie, origin: API } });
expect(refreshed.status === 200, `refresh: ${refreshed.status}`);
ok('refreshed the session with the cookie');
const token = refreshed.body.token;

const subscribed = await call('/billing/subscriptions/subscribe', {
  method: 'POST',
  token,
  json: { plan_code: plan.code },
});
expect(subscribed.status === 201, `subscribe: ${subscribed.status} ${JSON.stringify(subscribed.body)}`);
const checkoutUrl = subscribed.body.checkout_url;
ok('checkout started', checkoutUrl);

const page = await fetch(checkoutUrl);
expect(
  page.status === 200 && (await page.text()).includes('Pay'),
  'the sandbox checkout page shows a Pay button',
);
const paid = await fetch(`${checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
expect(paid.status === 303, `pay: ${paid.status}`);
ok('paid on the sandbox checkout page', `redirected to ${paid.headers.get('location')}`);

const entitlements = await call('/billing/entitlements', { token });
expect(
  entitlements.status === 200,
  `entitlements: ${entitlements.status} ${JSON.stringify(entitlements.body)}`,
);
ok('access granted', JSON.stringify(entitlements.body));

const cancelled = await call('/billing/subscriptions/cancel', { method: 'POST', token });
expect(
  cancelled.status === 200 && cancelled.body.cancel_at_period_end && cancelled.body.has_access,
  'cancel keeps access',
);
ok('cancelled at period end', `access until ${cancelled.body.access_until}`);
const resumed = await call('/billing/subscriptions/resume', { method: 'POST', token });
expect(resumed.status === 200 && !resumed.body.cancel_at_period_end, 'resume');
ok('resumed');

const payments = await call('/billing/payments/me', { token });
expect(payments.status === 200 && payments.body.total >= 1, 'a payment is recorded');
ok('payment recorded', `${payments.body.data[0].amount_cents / 100} ${payments.body.data[0].currency}`);
console.log('\nAll flows work.');
