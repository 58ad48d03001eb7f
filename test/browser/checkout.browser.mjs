// The offline billing sandbox end to end: a plan created by an admin, a verified user subscribes, pays on
// the Stripe stand-in's Checkout page in the browser, lands on the success page and gets access.
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, createVerifiedUser, uniqueUser } from './support.mjs';

export const name = 'the sandbox Checkout page completes a subscription';

export async function run({ page, api, call, mailUrl, shot, browserErrors }) {
  const admin = await createVerifiedUser({ call, mailUrl }, { email: ADMIN_EMAIL, username: 'browseradmin' });
  const code = `browser-pro-${Date.now().toString(36)}`;
  const plan = await call('/billing/plans', {
    method: 'POST',
    token: admin.token,
    json: {
      code,
      name: 'Browser Pro',
      description: 'Created by the browser tests',
      price_cents: 1900,
      billing_period: 'monthly',
      tier: 'pro',
      features: ['api', 'exports'],
    },
  });
  assert.equal(plan.status, 201, JSON.stringify(plan.body));

  const user = await createVerifiedUser({ call, mailUrl }, uniqueUser('buyer'));
  const before = await call('/billing/entitlements', { token: user.token });
  assert.equal(before.status, 403, 'no access before paying');
  assert.equal(before.body.code, 'SUBSCRIPTION_REQUIRED');

  const subscribed = await call('/billing/subscriptions/subscribe', {
    method: 'POST',
    token: user.token,
    json: { plan_code: code },
  });
  assert.equal(subscribed.status, 201, JSON.stringify(subscribed.body));
  const checkoutUrl = subscribed.body.checkout_url;
  assert.match(checkoutUrl, /^http:\/\/127\.0\.0\.1:\d+\//, 'the sandbox serves Checkout locally');

  const checkout = await page.goto(checkoutUrl);
  assert.equal(checkout?.status(), 200);
  await page.getByRole('heading', { name: 'Subscribe' }).waitFor();
  const summary = (await page.locator('main').textContent()) ?? '';
  assert.match(summary, /Browser Pro/);
  assert.match(summary, /\$19\.00/);
  assert.ok(summary.includes(user.user.email), 'Checkout shows the customer email');
  await shot('checkout');

  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.waitForURL((url) => url.href.startsWith(`${api}/billing/success?session_id=`));
  await page.getByRole('heading', { name: 'Payment received' }).waitFor();
  await shot('success');

  // The stand-in sends the webhooks before redirecting; allow a moment anyway.
  let entitlements = await call('/billing/entitlements', { token: user.token });
  for (let attempt = 0; attempt < 25 && entitlements.status !== 200; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    entitlements = await call('/billing/entitlements', { token: user.token });
  }
  assert.equal(entitlements.status, 200, JSON.stringify(entitlements.body));
  assert.equal(entitlements.body.plan_code, code);
  assert.equal(entitlements.body.tier, 'pro');
  assert.deepEqual(entitlements.body.features, ['api', 'exports']);
  assert.ok(Date.parse(entitlements.body.access_until) > Date.now(), 'access runs into the future');

  const subscription = await call('/billing/subscriptions/me', { token: user.token });
  assert.equal(subscription.status, 200);
  assert.equal(subscription.body.status, 'active');
  assert.equal(subscription.body.has_access, true);
  assert.deepEqual(browserErrors, [], 'no errors on the Checkout and success pages');
}
