// Database round trips per route, counted at the Neon stand-in: reset its counter, call the route once over
// HTTP with realistic state in place (verified users, sessions, plans, a paid subscription), let background
// work settle, read the count. Stripe webhooks are delivered one event at a time through the Stripe
// stand-in, so each event type gets its own count.
import { createClient, createRoundTripCounter, expectStatus, waitForMail } from './http.mjs';
import { ADMIN_EMAIL } from './stack.mjs';

export const PASSWORD = 'bench password 12345';
const NEW_PASSWORD = 'bench password 67890';
const BODY_TRANSPORT = { 'x-refresh-token-transport': 'body' };

/**
 * The budgets of issue 6 (authenticated reads and /refresh-token 1, /login and each webhook 2) and of
 * issue 16 (sign-outs 1).
 */
export const BUDGET = {
  'POST /logout': 1,
  'POST /logout-all': 1,
  'DELETE /sessions/{id}': 1,
  'GET /me': 1,
  'GET /sessions': 1,
  'GET /billing/subscriptions/me': 1,
  'GET /billing/payments/me': 1,
  'GET /billing/entitlements': 1,
  'POST /refresh-token': 1,
  'POST /login': 2,
  webhook: 2,
};

/**
 * Runs every route once against the Worker at `apiUrl` and returns one row per route:
 * {label, roundTrips, queries, budget, status}. Leaves behind users and a plan the later phases use.
 */
async function clearMailCooldown(upstash, kind, email) {
  const response = await fetch(upstash.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${upstash.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(['DEL', `edgeauth:mail:cooldown:${kind}:${email}`]),
  });
  if (!response.ok)
    throw new Error(`clearing the mail cooldown: ${response.status} ${await response.text()}`);
}

export async function measureRoundTrips({ apiUrl, controlUrl, standins }) {
  const call = createClient(apiUrl);
  const control = createClient(controlUrl);
  const counter = createRoundTripCounter(standins.neon.url, standins.neon.defaultDatabase);
  const stripeUrl = standins.stripe.url;
  const oauthUrl = standins.oauth.url;
  const mailUrl = standins.mail.url;
  const rows = [];
  const seenMail = new Set();
  const mail = (to, subject) => waitForMail(mailUrl, to, subject, { seen: seenMail });

  async function measure(label, { budget = BUDGET[label], expect }, run) {
    await counter.reset();
    const result = await run();
    if (expect !== undefined) expectStatus(result, expect, label);
    const { requests, queries } = await counter.settle();
    rows.push({ label, roundTrips: requests, queries, budget, status: result.status });
    return result;
  }

  // Webhooks are delivered only while we count them: the app's own Stripe calls emit events, and an
  // automatic delivery would land in the count of whichever route is being measured.
  standins.stripe.setWebhookUrl(undefined);
  const seenEvents = new Set();
  const webhookCounts = new Map();
  async function deliverNewEvents() {
    const { data } = await (await fetch(`${stripeUrl}/_standin/events`)).json();
    for (const event of data) {
      if (seenEvents.has(event.id)) continue;
      seenEvents.add(event.id);
      await deliverMeasured(event, event.type);
    }
  }
  async function deliverMeasured(event, label) {
    standins.stripe.setWebhookUrl(`${apiUrl}/billing/stripe/webhook`);
    await counter.reset();
    const delivery = await (
      await fetch(`${stripeUrl}/_standin/events/${event.id}/deliver`, { method: 'POST' })
    ).json();
    const { requests, queries } = await counter.settle();
    standins.stripe.setWebhookUrl(undefined);
    if (!delivery.delivered) throw new Error(`webhook ${event.type}: ${delivery.error}`);
    const counts = webhookCounts.get(label) ?? { roundTrips: [], queries: [], status: delivery.status };
    counts.roundTrips.push(requests);
    counts.queries.push(queries);
    webhookCounts.set(label, counts);
  }

  const emailOf = (name) => `${name}-${Date.now()}@bench.test`;
  const linkToken = (text, path) => decodeURIComponent(new RegExp(`${path}\\?token=([^\\s]+)`).exec(text)[1]);

  await measure('GET /health', { expect: 200 }, () => call('/health'));
  await measure('GET /openapi.json', { expect: 200 }, () => call('/openapi.json'));
  await measure('GET /docs', { expect: 200 }, () => call('/docs'));

  // The main user: registered, verified through the emailed link, signed in as a native client.
  const userEmail = emailOf('user');
  await measure('POST /register', { expect: 201 }, () =>
    call('/register', {
      method: 'POST',
      json: { email: userEmail, username: `user${Date.now()}`, password: PASSWORD },
    }),
  );
  const verifyToken = linkToken(await mail(userEmail, 'Verify'), '/verify');
  await measure('GET /verify', { expect: 200 }, () =>
    call(`/verify?token=${encodeURIComponent(verifyToken)}`),
  );
  const login = await measure('POST /login', { expect: 200 }, () =>
    call('/login', {
      method: 'POST',
      json: { email: userEmail, password: PASSWORD },
      headers: BODY_TRANSPORT,
    }),
  );
  await measure('POST /login (wrong password)', { budget: BUDGET['POST /login'], expect: 401 }, () =>
    call('/login', { method: 'POST', json: { email: userEmail, password: 'not the password' } }),
  );
  await measure('POST /login (unknown email)', { budget: BUDGET['POST /login'], expect: 401 }, () =>
    call('/login', { method: 'POST', json: { email: emailOf('nobody'), password: PASSWORD } }),
  );
  const refreshed = await measure('POST /refresh-token', { expect: 200 }, () =>
    call('/refresh-token', { method: 'POST', json: { refresh_token: login.body.refresh_token } }),
  );
  const token = refreshed.body.token;
  await measure('GET /me', { expect: 200 }, () => call('/me', { token }));
  await measure('GET /sessions', { expect: 200 }, () => call('/sessions', { token }));

  // The admin and the plan catalogue.
  await expectStatus(
    await call('/register', {
      method: 'POST',
      json: { email: ADMIN_EMAIL, username: 'benchadmin', password: PASSWORD },
    }),
    201,
    'register admin',
  );
  const adminVerify = linkToken(await mail(ADMIN_EMAIL, 'Verify'), '/verify');
  expectStatus(await call(`/verify?token=${encodeURIComponent(adminVerify)}`), 200, 'verify admin');
  const admin = expectStatus(
    await call('/login', { method: 'POST', json: { email: ADMIN_EMAIL, password: PASSWORD } }),
    200,
    'admin login',
  ).body.token;
  const planBody = (code, tier, price) => ({
    code,
    name: `Bench ${tier}`,
    price_cents: price,
    billing_period: 'monthly',
    tier,
    features: ['api', 'exports'],
  });
  const pro = (
    await measure('POST /billing/plans', { expect: 201 }, () =>
      call('/billing/plans', { method: 'POST', token: admin, json: planBody('bench-pro', 'pro', 1900) }),
    )
  ).body;
  const vip = expectStatus(
    await call('/billing/plans', { method: 'POST', token: admin, json: planBody('bench-vip', 'vip', 4900) }),
    201,
    'create vip plan',
  ).body;
  const spare = expectStatus(
    await call('/billing/plans', { method: 'POST', token: admin, json: planBody('bench-old', 'pro', 900) }),
    201,
    'create spare plan',
  ).body;
  await measure('GET /billing/plans', { expect: 200 }, () => call('/billing/plans'));
  await measure('GET /billing/plans/{id}', { expect: 200 }, () => call(`/billing/plans/${pro.id}`));
  await measure('PATCH /billing/plans/{id}', { expect: 200 }, () =>
    call(`/billing/plans/${spare.id}`, { method: 'PATCH', token: admin, json: { name: 'Bench legacy' } }),
  );
  await measure('DELETE /billing/plans/{id}', { expect: 204 }, () =>
    call(`/billing/plans/${spare.id}`, { method: 'DELETE', token: admin }),
  );
  await deliverNewEvents();

  // A subscription, paid on the Stripe stand-in; its events reach the Worker one by one.
  const checkout = await measure('POST /billing/subscriptions/subscribe', { expect: 201 }, () =>
    call('/billing/subscriptions/subscribe', { method: 'POST', token, json: { plan_code: pro.code } }),
  );
  const sessionId = new URL(checkout.body.checkout_url).pathname.split('/').pop();
  const paid = await (
    await fetch(`${stripeUrl}/_standin/checkout/${sessionId}/pay`, {
      method: 'POST',
      body: JSON.stringify({ deliver: false }),
    })
  ).json();
  if (!paid.subscription?.id) throw new Error(`checkout pay failed: ${JSON.stringify(paid).slice(0, 300)}`);
  await deliverNewEvents();
  const replayed = paid.events.find((e) => e.type === 'checkout.session.completed') ?? paid.events[0];
  await deliverMeasured(replayed, `${replayed.type}, delivered again`);

  await measure('GET /billing/subscriptions/me', { expect: 200 }, () =>
    call('/billing/subscriptions/me', { token }),
  );
  await measure('GET /billing/payments/me', { expect: 200 }, () => call('/billing/payments/me', { token }));
  await measure('GET /billing/entitlements', { expect: 200 }, () => call('/billing/entitlements', { token }));
  await measure('GET /billing/subscriptions/upgrade/preview', { expect: 200 }, () =>
    call(`/billing/subscriptions/upgrade/preview?plan_code=${vip.code}`, { token }),
  );
  await measure('POST /billing/subscriptions/upgrade', { expect: 200 }, () =>
    call('/billing/subscriptions/upgrade', { method: 'POST', token, json: { plan_code: vip.code } }),
  );
  await deliverNewEvents();
  await measure('POST /billing/subscriptions/cancel', { expect: 200 }, () =>
    call('/billing/subscriptions/cancel', { method: 'POST', token }),
  );
  await deliverNewEvents();
  await measure('POST /billing/subscriptions/resume', { expect: 200 }, () =>
    call('/billing/subscriptions/resume', { method: 'POST', token }),
  );
  await deliverNewEvents();
  await measure('POST /billing/portal', { expect: 200 }, () =>
    call('/billing/portal', { method: 'POST', token }),
  );
  // A renewal and a failed payment, as Stripe would send them later in the subscription's life.
  for (const step of ['renew', 'fail_payment']) {
    const response = await fetch(`${stripeUrl}/_standin/subscriptions/${paid.subscription.id}/${step}`, {
      method: 'POST',
      body: JSON.stringify({ deliver: false }),
    });
    if (!response.ok) throw new Error(`stand-in ${step}: ${response.status} ${await response.text()}`);
    await deliverNewEvents();
  }

  // A second account for the email flows: unverified at first, then reset, changed and closed.
  const otherEmail = emailOf('other');
  expectStatus(
    await call('/register', {
      method: 'POST',
      json: { email: otherEmail, username: `other${Date.now()}`, password: PASSWORD },
    }),
    201,
    'register second user',
  );
  await mail(otherEmail, 'Verify');
  const other = expectStatus(
    await call('/login', { method: 'POST', json: { email: otherEmail, password: PASSWORD } }),
    200,
    'second user login',
  ).body.token;
  // Registration just sent the first link; the once-a-minute cooldown would refuse a second one now, and the
  // bench measures the work of sending it, so it clears the cooldown at Redis first.
  await clearMailCooldown(standins.upstash, 'verify_email', otherEmail);
  await measure('POST /request/verify', { expect: 202 }, () =>
    call('/request/verify', { method: 'POST', token: other }),
  );
  await measure('POST /forget-password', { expect: 202 }, () =>
    call('/forget-password', { method: 'POST', json: { email: otherEmail } }),
  );
  const resetToken = linkToken(await mail(otherEmail, 'Reset'), '/reset-password');
  await measure('GET /reset-password', { expect: 200 }, () =>
    call(`/reset-password?token=${encodeURIComponent(resetToken)}`),
  );
  await measure('POST /new-password', { expect: 200 }, () =>
    call('/new-password', { method: 'POST', json: { token: resetToken, password: NEW_PASSWORD } }),
  );
  const otherAgain = expectStatus(
    await call('/login', { method: 'POST', json: { email: otherEmail, password: NEW_PASSWORD } }),
    200,
    'second user login after reset',
  ).body.token;
  await measure('POST /change-password', { expect: 200 }, () =>
    call('/change-password', {
      method: 'POST',
      token: otherAgain,
      json: { old_password: NEW_PASSWORD, new_password: PASSWORD },
    }),
  );
  await measure('POST /deactivate', { expect: 200 }, () =>
    call('/deactivate', { method: 'POST', token: otherAgain, json: { password: PASSWORD } }),
  );

  // Passwordless sign-in for the main user.
  await measure('POST /request/login-code', { expect: 202 }, () =>
    call('/request/login-code', { method: 'POST', json: { email: userEmail } }),
  );
  const code = /sign-in code is: (\d{6})/.exec(await mail(userEmail, 'sign-in code'))[1];
  const byCode = await measure('POST /login/code', { expect: 200 }, () =>
    call('/login/code', { method: 'POST', json: { email: userEmail, code } }),
  );

  // Social sign-in through the OAuth stand-in's consent step, each creating an account.
  for (const provider of ['google', 'github']) {
    const started = await measure(`GET /${provider}/login`, { expect: 302 }, () =>
      call(`/${provider}/login`),
    );
    const cookie = started.headers
      .getSetCookie()
      .find((c) => c.startsWith('edgeauth_oauth='))
      .split(';')[0];
    const email = emailOf(provider);
    const identity =
      provider === 'google'
        ? { sub: `g-${Date.now()}`, email, email_verified: true, name: 'Bench Google' }
        : {
            id: Date.now() % 1e9,
            login: `bench-${Date.now()}`,
            name: 'Bench GitHub',
            emails: [{ email, primary: true, verified: true, visibility: 'private' }],
          };
    const consent = await (
      await fetch(`${oauthUrl}/_standin/authorize`, {
        method: 'POST',
        body: JSON.stringify({ authorization_url: started.headers.get('location'), identity }),
      })
    ).json();
    const callback = new URL(consent.redirect);
    await measure(`GET /auth/social/callback/${provider}`, { expect: 200 }, () =>
      call(`${callback.pathname}${callback.search}`, { headers: { cookie } }),
    );
  }

  // Pages served without a front end.
  await measure('GET /billing/success', { expect: 200 }, () =>
    call(`/billing/success?session_id=${sessionId}`),
  );
  await measure('GET /billing/cancel', { expect: 200 }, () => call('/billing/cancel'));

  // Ending sessions: another device's by id, the current one, then all.
  const device = expectStatus(
    await call('/login', { method: 'POST', json: { email: userEmail, password: PASSWORD } }),
    200,
    'login on another device',
  ).body.token;
  const deviceSession = (await call('/sessions', { token: device })).body.sessions.find((s) => s.current);
  await measure('DELETE /sessions/{id}', { expect: 204 }, () =>
    call(`/sessions/${deviceSession.id}`, { method: 'DELETE', token }),
  );
  await measure('POST /logout', { expect: 204 }, () => call('/logout', { method: 'POST', token }));
  await measure('POST /logout-all', { expect: 204 }, () =>
    call('/logout-all', { method: 'POST', token: byCode.body.token }),
  );

  // Cron triggers, through the benchmark host's control port.
  for (const [cron, name] of [
    ['0 * * * *', 'hourly sweep'],
    ['30 3 * * *', 'daily clean-up'],
  ]) {
    await measure(`cron ${name} (${cron})`, { expect: 200 }, () =>
      control(`/scheduled?cron=${encodeURIComponent(cron)}`),
    );
  }

  for (const [type, counts] of webhookCounts) {
    const range = (values) =>
      Math.min(...values) === Math.max(...values)
        ? values[0]
        : `${Math.min(...values)}–${Math.max(...values)}`;
    rows.push({
      label: `POST /billing/stripe/webhook: ${type}${counts.roundTrips.length > 1 ? ` (×${counts.roundTrips.length})` : ''}`,
      roundTrips: Math.max(...counts.roundTrips),
      roundTripsText: String(range(counts.roundTrips)),
      queries: Math.max(...counts.queries),
      budget: BUDGET.webhook,
      status: counts.status,
    });
  }
  return { rows, userEmail, plans: { pro, vip } };
}
