// The Stripe stand-in's hosted pages as a browser meets them: Checkout, its outcome, and the customer portal.
import http from 'node:http';
import { readBody } from './http-kit.mjs';
import { payCheckout } from './stripe-billing.mjs';
import {
  formatAmount,
  formatInterval,
  PAGE_CSP,
  renderCheckoutPage,
  renderNoticePage,
  renderPortalPage,
} from './stripe-pages.mjs';
import { changeCancelAtPeriodEnd } from './stripe-plan-changes.mjs';
import { getSession, sessionLineItems } from './stripe-sessions.mjs';
import { get, internalCall, StripeError } from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ event: string, type: string, delivered: boolean, attempts: number, status: number | null,
 *   error: string | null }} Delivery */
/** @typedef {{ S: Store, faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout>,
 *   log: (line: string) => void, deliver: (events: Obj[]) => Promise<Delivery[]> }} Context */

import { MAX_BODY_BYTES, takeFault } from './stripe.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Hosted pages: Checkout and the customer portal.

/** @param {http.ServerResponse} res @param {number} status @param {string} html */
function sendHtml(res, status, html) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-store',
  });
  res.end(html);
}

/** @param {http.ServerResponse} res @param {string} location */
function redirect(res, location) {
  res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
}

/**
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url @param {Context} ctx
 */
export async function handlePage(req, res, url, ctx) {
  const [section, id, ...rest] = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (req.method === 'POST') await readBody(req, MAX_BODY_BYTES); // form fields are not needed, only drained
  try {
    if (section === 'checkout' && rest.length === 0 && req.method === 'GET')
      return checkoutPage(res, ctx, id);
    if (section === 'checkout' && rest.join('/') === 'pay' && req.method === 'POST') {
      return await checkoutPay(res, ctx, id);
    }
    if (section === 'portal' && rest.length === 0 && req.method === 'GET') return portalPage(res, ctx, id);
    const action = rest[0] === 'subscriptions' && rest.length === 3 ? rest[2] : null;
    if (section === 'portal' && (action === 'cancel' || action === 'resume') && req.method === 'POST') {
      return await portalAction(res, ctx, id, rest[1], action === 'cancel');
    }
  } catch (error) {
    if (!(error instanceof StripeError)) throw error;
    return sendHtml(res, error.status, renderNoticePage('Not available', error.message));
  }
  sendHtml(res, 404, renderNoticePage('Not found', 'There is no such page on the Stripe stand-in.'));
}

/** @param {http.ServerResponse} res @param {Context} ctx @param {string} id @param {string} [error] */
function checkoutPage(res, ctx, id, error) {
  const { S } = ctx;
  const call = internalCall();
  const session = getSession(S, call, id);
  ctx.deliver(call.events).catch(() => {});
  if (session.status !== 'open') return sessionClosedPage(res, session);
  const lines = sessionLineItems(S, session).data.map((/** @type {Obj} */ item) => ({
    name: item.description ?? item.price.product,
    description: S.byId.get(item.price.product)?.description ?? null,
    quantity: item.quantity,
    amount: formatAmount(item.amount_total, item.currency),
    interval: formatInterval(item.price.recurring),
  }));
  const email = session.customer_email ?? S.byId.get(session.customer)?.email ?? null;
  const view = {
    sessionId: session.id,
    email,
    lines,
    total: formatAmount(session.amount_total, session.currency),
    payAction: `/checkout/${encodeURIComponent(session.id)}/pay`,
    cancelUrl: session.cancel_url,
    error,
  };
  sendHtml(res, error ? 402 : 200, renderCheckoutPage(view));
}

/** @param {http.ServerResponse} res @param {Obj} session */
function sessionClosedPage(res, session) {
  const complete = session.status === 'complete';
  const href = complete ? successUrl(session) : session.cancel_url;
  const link = href ? { href, label: complete ? 'Continue' : 'Return' } : null;
  const message = complete
    ? 'This checkout session has already been paid.'
    : 'This checkout session has expired.';
  sendHtml(res, complete ? 200 : 410, renderNoticePage(complete ? 'Already paid' : 'Expired', message, link));
}

/** @param {Obj} session */
function successUrl(session) {
  return session.success_url?.replaceAll('{CHECKOUT_SESSION_ID}', session.id) ?? null;
}

/**
 * The page's Pay button: pays the session, waits for its webhooks so the app has seen them, then goes back to the
 * app like Stripe does. A `card_declined` fault matching `/checkout/<id>/pay` declines it instead.
 * @param {http.ServerResponse} res @param {Context} ctx @param {string} id
 */
async function checkoutPay(res, ctx, id) {
  if (takeFault(ctx.faults, `/checkout/${id}/pay`, ['card_declined'])) {
    return checkoutPage(res, ctx, id, 'Your card was declined. Try another card.');
  }
  const call = internalCall();
  try {
    payCheckout(ctx.S, call, id);
  } finally {
    await ctx.deliver(call.events);
  }
  const session = get(ctx.S, 'checkout.session', 'checkout.session', id);
  const target = successUrl(session);
  if (target) return redirect(res, target);
  sendHtml(res, 200, renderNoticePage('Payment complete', 'Your subscription is active.'));
}

/** @param {http.ServerResponse} res @param {Context} ctx @param {string} id */
function portalPage(res, ctx, id) {
  const { S } = ctx;
  const session = get(S, 'billing_portal.session', 'billing portal session', id);
  const customer = get(S, 'customer', 'customer', session.customer);
  const subscriptions = [...S.byId.values()]
    .filter((o) => o.object === 'subscription' && o.customer === customer.id)
    .reverse()
    .map((sub) => {
      const item = sub.items.data[0];
      const action = `/portal/${encodeURIComponent(id)}/subscriptions/${encodeURIComponent(sub.id)}`;
      return {
        id: sub.id,
        name: S.byId.get(item.price.product)?.name ?? item.price.product,
        amount: formatAmount(item.price.unit_amount * item.quantity, item.price.currency),
        interval: formatInterval(item.price.recurring),
        status: sub.status,
        periodEnd: item.current_period_end,
        cancelAtPeriodEnd: sub.cancel_at_period_end,
        cancelAction: `${action}/cancel`,
        resumeAction: `${action}/resume`,
      };
    });
  sendHtml(res, 200, renderPortalPage({ customer, subscriptions, returnUrl: session.return_url }));
}

/**
 * @param {http.ServerResponse} res @param {Context} ctx @param {string} id @param {string} subId
 * @param {boolean} cancel
 */
async function portalAction(res, ctx, id, subId, cancel) {
  const session = get(ctx.S, 'billing_portal.session', 'billing portal session', id);
  const sub = get(ctx.S, 'subscription', 'subscription', subId);
  if (sub.customer !== session.customer || sub.status === 'canceled')
    throw new StripeError(400, 'Not allowed.');
  const call = internalCall();
  changeCancelAtPeriodEnd(ctx.S, call, sub, cancel);
  await ctx.deliver(call.events);
  redirect(res, `/portal/${encodeURIComponent(id)}`);
}
