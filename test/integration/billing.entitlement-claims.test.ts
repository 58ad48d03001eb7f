// Entitlements as access-token claims: what a resource server reads with the client package's
// verifyAccessToken (JWKS from the Worker, no other call), compared with GET /billing/entitlements after
// each change to the subscription, once the token is refreshed; and requireSubscription() on edgeauth
// deciding from the database, not from the claim.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  type AccessTokenClaims,
  accessOf,
  hasFeature,
  verifyAccessToken,
} from '../../packages/client/src/server';
import { bearer, createUser, PASSWORD, uniqueIp } from '../support/accounts';
import {
  createPlan,
  deliverAll,
  payCheckout,
  startCheckout,
  stripe,
  stripeControl,
} from '../support/billing';
import { bindings } from '../support/bindings';
import { expectProblem } from '../support/problem';
import { API_ORIGIN, api, databaseRoundTrips } from '../support/worker';

/** The resource server's view: the token verified with the published keys, fetched from the Worker. */
const verify = (token: string): Promise<AccessTokenClaims> =>
  verifyAccessToken(token, {
    issuer: bindings.APP_URL,
    audience: `${bindings.APP_NAME}:api`,
    jwksUrl: `${API_ORIGIN}/.well-known/jwks.json`,
    fetch: (url, init) => api(new URL(url).pathname, init),
  });

interface Session {
  token: string;
  refreshToken: string;
}

async function signIn(email: string): Promise<Session> {
  const response = await api('/login', {
    method: 'POST',
    json: { email, password: PASSWORD },
    headers: { 'cf-connecting-ip': uniqueIp(), 'x-refresh-token-transport': 'body' },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; refresh_token: string };
  return { token: body.token, refreshToken: body.refresh_token };
}

async function refreshed(session: Session): Promise<Session> {
  const response = await api('/refresh-token', {
    method: 'POST',
    json: { refresh_token: session.refreshToken },
    headers: { 'cf-connecting-ip': uniqueIp() },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; refresh_token: string };
  return { token: body.token, refreshToken: body.refresh_token };
}

/** The token's claim equals what GET /billing/entitlements answers with that token (null for 403). */
async function expectClaimsMatchEntitlements(token: string) {
  const claims = await verify(token);
  const response = await api('/billing/entitlements', { headers: bearer(token) });
  if (response.status === 403) {
    await expectProblem(response, 403, 'SUBSCRIPTION_REQUIRED');
    expect(claims.entitlements).toBeNull();
  } else {
    expect(response.status).toBe(200);
    expect(claims.entitlements).toEqual(await response.json());
  }
  return claims;
}

async function eventsAtStripe(subscriptionId: string, type: string): Promise<Stripe.Event[]> {
  const { data } = await stripeControl<{ data: Stripe.Event[] }>(`/events?type=${encodeURIComponent(type)}`);
  return data.filter((event) => (event.data.object as { id?: string }).id === subscriptionId);
}

describe('entitlement claims in access tokens', () => {
  it('follow subscribe, upgrade, cancel and deletion once refreshed, and match GET /billing/entitlements', async () => {
    const basic = await createPlan({ price_cents: 1900, tier: 'pro', features: ['api'] });
    const max = await createPlan({ price_cents: 4900, tier: 'vip', features: ['api', 'exports'] });
    const user = await createUser({ isVerified: true });
    let session = await signIn(user.email);
    expect((await expectClaimsMatchEntitlements(session.token)).entitlements).toBeNull();

    // Subscribe: the token issued before still says nothing; the refreshed one carries the plan.
    const paid = await payCheckout(await startCheckout(bearer(session.token), basic.code));
    await deliverAll(paid.events);
    expect((await verify(session.token)).entitlements).toBeNull();
    session = await refreshed(session);
    const subscribed = await expectClaimsMatchEntitlements(session.token);
    expect(subscribed.entitlements).toMatchObject({ plan_code: basic.code, tier: 'pro', features: ['api'] });
    expect(hasFeature(subscribed, 'api')).toBe(true);
    expect(hasFeature(subscribed, 'exports')).toBe(false);

    // Upgrade.
    const upgraded = await api('/billing/subscriptions/upgrade', {
      method: 'POST',
      headers: bearer(session.token),
      json: { plan_code: max.code },
    });
    expect(upgraded.status).toBe(200);
    session = await refreshed(session);
    const onMax = await expectClaimsMatchEntitlements(session.token);
    expect(onMax.entitlements).toMatchObject({ plan_code: max.code, tier: 'vip' });
    expect(hasFeature(onMax, 'exports')).toBe(true);

    // Cancel at period end: access (and the claim) lasts until access_until.
    const canceled = await api('/billing/subscriptions/cancel', {
      method: 'POST',
      headers: bearer(session.token),
    });
    expect(canceled.status).toBe(200);
    session = await refreshed(session);
    const cancelling = await expectClaimsMatchEntitlements(session.token);
    expect(cancelling.entitlements).toEqual(onMax.entitlements);
    const accessUntil = new Date(cancelling.entitlements!.access_until!);
    expect(accessOf(cancelling, new Date(accessUntil.getTime() - 1000))).toEqual(cancelling.entitlements);
    expect(accessOf(cancelling, accessUntil)).toBeNull();
    expect(hasFeature(cancelling, 'exports', accessUntil)).toBe(false);

    // Deletion at Stripe: the next token carries none, and edgeauth refuses at once.
    const stale = session.token;
    await stripe.subscriptions.cancel(paid.subscription.id);
    await deliverAll(await eventsAtStripe(paid.subscription.id, 'customer.subscription.deleted'));
    await expectProblem(
      await api('/billing/entitlements', { headers: bearer(stale) }),
      403,
      'SUBSCRIPTION_REQUIRED',
    );
    // The token issued before still claims the plan (one access-token lifetime of staleness).
    expect((await verify(stale)).entitlements).toMatchObject({ plan_code: max.code });
    session = await refreshed(session);
    expect((await expectClaimsMatchEntitlements(session.token)).entitlements).toBeNull();
  });

  it('a subscriber’s sign-in carries the plan at once', async () => {
    const plan = await createPlan({ price_cents: 900, tier: 'pro', features: ['reports'] });
    const user = await createUser({ isVerified: true });
    const first = await signIn(user.email);
    const paid = await payCheckout(await startCheckout(bearer(first.token), plan.code));
    await deliverAll(paid.events);
    const second = await signIn(user.email);
    const claims = await expectClaimsMatchEntitlements(second.token);
    expect(claims.entitlements).toMatchObject({ plan_code: plan.code, features: ['reports'] });
  });

  it('refreshes in one database round trip, entitlements included', async () => {
    const user = await createUser({ isVerified: true });
    const session = await signIn(user.email);
    const before = await databaseRoundTrips();
    await refreshed(session);
    expect(await databaseRoundTrips()).toBe(before + 1);
  });
});
