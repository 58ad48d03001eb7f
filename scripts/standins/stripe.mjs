// Local Stripe API stand-in for tests and `npm run dev`: the v1 wire protocol as the official SDK speaks it, signed
// webhook delivery, hosted Checkout and portal pages, and /_standin/ test controls. State is in memory, per instance.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';
import {
  cancelSubscription,
  changeCancelAtPeriodEnd,
  failPayment,
  listInvoices,
  listSubscriptions,
  payCheckout,
  previewInvoice,
  renewSubscription,
  updateSubscription,
} from './stripe-billing.mjs';
import {
  formatAmount,
  formatInterval,
  PAGE_CSP,
  renderCheckoutPage,
  renderNoticePage,
  renderPortalPage,
} from './stripe-pages.mjs';
import { createRefund, listInvoicePayments, retrieveRefund } from './stripe-payments.mjs';
import {
  createCheckoutSession,
  createCustomer,
  createPortalSession,
  createPrice,
  createProduct,
  deleteProduct,
  expireCheckoutSession,
  getSession,
  listCheckoutSessions,
  listCustomers,
  listEvents,
  listPrices,
  listProducts,
  sessionLineItems,
  updateCustomer,
  updatePrice,
  updateProduct,
} from './stripe-resources.mjs';
import {
  API_VERSION,
  applyExpand,
  createStore,
  get,
  internalCall,
  newId,
  now,
  parseForm,
  StripeError,
} from './stripe-wire.mjs';

export { parseForm };

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ event: string, type: string, delivered: boolean, attempts: number, status: number | null,
 *   error: string | null }} Delivery */
/** @typedef {{ S: Store, faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout>,
 *   log: (line: string) => void, deliver: (events: Obj[]) => Promise<Delivery[]> }} Context */

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_LOGGED_REQUESTS = 10_000;
const FAULT_MODES = ['error', 'down', 'slow', 'card_declined'];
/** Short, so a test whose receiver fails on purpose is not held up; Stripe itself retries for days. */
const WEBHOOK_RETRY_DELAYS_MS = [100, 500, 2000];
const WEBHOOK_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// API routes.

/** @typedef {(S: Store, call: Call) => Obj} Handler */

/** @param {string} type @param {string} [kind] @returns {Handler} */
const retrieve =
  (type, kind = type) =>
  (S, { ids }) =>
    get(S, type, kind, ids[0]);

/**
 * `'POST /v1/prices/:id'` → method, anchored pattern, handler.
 * @template H @param {Array<[string, H]>} table @returns {Array<[string, RegExp, H]>}
 */
function compile(table) {
  return table.map(([spec, handler]) => {
    const [method, path] = spec.split(' ');
    return [method, new RegExp(`^${path.replaceAll(':id', '([^/]+)')}$`), handler];
  });
}

const ROUTES = compile(
  /** @type {Array<[string, Handler]>} */ ([
    ['POST /v1/customers', createCustomer],
    ['GET /v1/customers', listCustomers],
    ['GET /v1/customers/:id', retrieve('customer')],
    ['POST /v1/customers/:id', updateCustomer],
    ['POST /v1/products', createProduct],
    ['GET /v1/products', listProducts],
    ['GET /v1/products/:id', retrieve('product')],
    ['POST /v1/products/:id', updateProduct],
    ['DELETE /v1/products/:id', deleteProduct],
    ['POST /v1/prices', createPrice],
    ['GET /v1/prices', listPrices],
    ['GET /v1/prices/:id', retrieve('price')],
    ['POST /v1/prices/:id', updatePrice],
    ['POST /v1/checkout/sessions', createCheckoutSession],
    ['GET /v1/checkout/sessions', listCheckoutSessions],
    ['GET /v1/checkout/sessions/:id', (S, call) => getSession(S, call, call.ids[0])],
    [
      'GET /v1/checkout/sessions/:id/line_items',
      (S, call) => sessionLineItems(S, getSession(S, call, call.ids[0])),
    ],
    ['POST /v1/checkout/sessions/:id/expire', expireCheckoutSession],
    ['GET /v1/subscriptions', listSubscriptions],
    ['GET /v1/subscriptions/:id', retrieve('subscription')],
    ['POST /v1/subscriptions/:id', updateSubscription],
    ['DELETE /v1/subscriptions/:id', cancelSubscription],
    ['POST /v1/invoices/create_preview', previewInvoice],
    ['GET /v1/invoices', listInvoices],
    ['GET /v1/invoices/:id', retrieve('invoice')],
    ['GET /v1/invoice_payments', listInvoicePayments],
    ['POST /v1/refunds', createRefund],
    ['GET /v1/refunds/:id', retrieveRefund],
    ['POST /v1/billing_portal/sessions', createPortalSession],
    ['GET /v1/events', listEvents],
    ['GET /v1/events/:id', retrieve('event')],
  ]),
);

/**
 * @template H @param {Array<[string, RegExp, H]>} table @param {string} method @param {string} path
 * @returns {{ handler: H, ids: string[] } | null}
 */
function route(table, method, path) {
  for (const [routeMethod, pattern, handler] of table) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (match) return { handler, ids: match.slice(1).map(decodeURIComponent) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// The API request pipeline.

/**
 * A fault applies when its `match` is a path prefix of this request (or it has none) and its mode is one this
 * request can suffer; only then is one application consumed.
 * @param {ReturnType<typeof createFaults>} faults @param {string} path @param {string[]} modes
 */
function takeFault(faults, path, modes) {
  const { mode, match } = faults.state;
  if (!modes.includes(mode)) return null;
  if (match !== null && path !== match && !path.startsWith(match.endsWith('/') ? match : `${match}/`))
    return null;
  return faults.take(match ?? undefined);
}

/** @param {string | string[] | undefined} value */
const headerValue = (value) => (Array.isArray(value) ? value[0] : value) ?? null;

const cardDeclined = () =>
  new StripeError(402, 'Your card was declined.', {
    type: 'card_error',
    code: 'card_declined',
    decline_code: 'generic_decline',
  });

/**
 * One API request: logging, faults, auth, idempotency, handler, expansion; webhooks go out after the response.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url @param {Context} ctx
 */
async function handleApi(req, res, url, ctx) {
  const { S } = ctx;
  const method = req.method ?? 'GET';
  const key = headerValue(req.headers['idempotency-key']);
  const entry = { seq: ++S.requestSeq, method, path: url.pathname, idempotency_key: key, status: 0 };
  S.requests.push(entry);
  if (S.requests.length > MAX_LOGGED_REQUESTS) S.requests.shift();
  const requestId = newId('req', 14);
  /** @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
  const reply = (status, body, headers = {}) => {
    entry.status = status;
    const base = {
      'request-id': requestId,
      'stripe-version': API_VERSION,
      ...(key ? { 'idempotency-key': key } : {}),
    };
    sendJson(res, status, body, { ...base, ...headers });
  };

  // Only writes can be declined: a card is charged by a POST, never by a read.
  const fault = takeFault(
    ctx.faults,
    url.pathname,
    method === 'POST' ? FAULT_MODES : ['error', 'down', 'slow'],
  );
  if (fault?.mode === 'down') return void req.socket.destroy();
  if (fault?.mode === 'error') {
    return reply(
      500,
      new StripeError(500, 'An unknown error occurred (injected fault).', { type: 'api_error' }),
    );
  }
  const authError = checkAuth(req.headers.authorization);
  if (authError) return reply(401, authError);
  if (fault?.mode === 'card_declined') return reply(402, cardDeclined());

  const raw = method === 'POST' ? await readBody(req, MAX_BODY_BYTES) : Buffer.from(url.search.slice(1));
  if (raw === null) return reply(413, new StripeError(413, 'Request body too large.'));
  const text = raw.toString('utf8');
  const fingerprint = `${method} ${url.pathname} ${text}`;
  const idempotent = key !== null && method !== 'GET';
  if (idempotent) {
    const stored = S.idempotency.get(key);
    if (stored && stored.fingerprint !== fingerprint) return reply(400, idempotencyMismatch(key));
    if (stored) return reply(stored.status, stored.body, { 'idempotent-replayed': 'true' });
    if (S.inFlight.has(key)) return reply(409, idempotencyInFlight());
    S.inFlight.add(key);
  }
  try {
    if (fault?.mode === 'slow') await delay(fault.delay_ms, ctx.timers);
    if (res.destroyed) return;
    const { status, body, events } = runHandler(S, method, url.pathname, text, { id: requestId, key });
    // Like Stripe, keep results of requests that ran (and card declines), not of ones refused before running.
    if (idempotent && (status < 300 || status === 402)) S.idempotency.set(key, { fingerprint, status, body });
    reply(status, body);
    if (events.length > 0) ctx.deliver(events).catch(() => {});
  } finally {
    if (idempotent) S.inFlight.delete(key);
  }
}

/**
 * @param {Store} S @param {string} method @param {string} path @param {string} text
 * @param {{ id: string, key: string | null }} request
 * @returns {{ status: number, body: unknown, events: Obj[] }}
 */
function runHandler(S, method, path, text, request) {
  /** @type {Call} */
  const call = { params: {}, ids: [], request: { id: request.id, idempotency_key: request.key }, events: [] };
  try {
    const found = route(ROUTES, method, path);
    if (!found) throw new StripeError(404, `Unrecognized request URL (${method}: ${path}).`);
    call.params = parseForm(text);
    call.ids = found.ids;
    const result = found.handler(S, call);
    // Serialised now, so later changes to the stored object cannot leak into an idempotent replay.
    const body = JSON.parse(JSON.stringify(applyExpand(S, result, call.params.expand)));
    return { status: 200, body, events: call.events };
  } catch (error) {
    if (!(error instanceof StripeError)) throw error;
    return { status: error.status, body: error.toJSON(), events: call.events };
  }
}

/** Any secret key (`sk_…`) is accepted, as any key of a test account would be. @param {string | undefined} header */
function checkAuth(header) {
  const key = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!key)
    return new StripeError(401, 'You did not provide an API key. Provide it in the Authorization header.');
  if (!key.startsWith('sk_')) return new StripeError(401, `Invalid API Key provided: ${key.slice(0, 8)}***`);
  return null;
}

/** @param {string} key */
function idempotencyMismatch(key) {
  return new StripeError(
    400,
    'Keys for idempotent requests can only be used with the same parameters they were first used with. ' +
      `Try using a key other than '${key}' if you meant to execute a different request.`,
    { type: 'idempotency_error' },
  );
}

function idempotencyInFlight() {
  return new StripeError(409, 'There is currently another in-progress request using this Idempotency Key.', {
    type: 'idempotency_error',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook delivery.

/**
 * `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`, what `stripe.webhooks.constructEventAsync` verifies. The
 * timestamp is real time, not stand-in time: receivers reject signatures more than 5 minutes off their own clock.
 * @param {string} payload @param {string} secret @param {number} [timestamp]
 */
export function signatureHeader(payload, secret, timestamp = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * Delivers events one at a time in the order they were emitted, each retried with short backoff on a non-2xx
 * answer or an unreachable receiver.
 * @param {{ S: Store, secret: string, timers: Set<NodeJS.Timeout>, log: (line: string) => void }} options
 */
function createDelivery({ S, secret, timers, log }) {
  let queue = Promise.resolve();
  const controller = new AbortController();

  /** @param {Obj} event @returns {Promise<Delivery>} */
  async function deliverOne(event) {
    /** @type {Delivery} */
    const result = {
      event: event.id,
      type: event.type,
      delivered: false,
      attempts: 0,
      status: null,
      error: null,
    };
    const url = S.webhookUrl;
    if (!url) return { ...result, error: 'no webhook URL configured' };
    const payload = JSON.stringify(event, null, 2);
    for (
      let attempt = 0;
      attempt <= WEBHOOK_RETRY_DELAYS_MS.length && !controller.signal.aborted;
      attempt++
    ) {
      if (attempt > 0) await delay(WEBHOOK_RETRY_DELAYS_MS[attempt - 1], timers);
      result.attempts++;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': signatureHeader(payload, secret),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          body: payload,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
        });
        await response.arrayBuffer().catch(() => {});
        result.status = response.status;
        result.error = response.ok ? null : `HTTP ${response.status}`;
      } catch (error) {
        result.error = /** @type {Error} */ (error).message;
      }
      log(`stripe stand-in: webhook ${event.type} ${event.id} → ${result.error ?? result.status}`);
      if (result.error === null) {
        event.pending_webhooks = 0;
        return { ...result, delivered: true };
      }
    }
    return result;
  }

  return {
    /** @param {Obj[]} events @returns {Promise<Delivery[]>} */
    deliver(events) {
      const run = queue.then(async () => {
        const results = [];
        for (const event of events) results.push(await deliverOne(event));
        return results;
      });
      queue = run.then(
        () => {},
        () => {},
      );
      return run;
    },
    stop: () => controller.abort(),
  };
}

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
async function handlePage(req, res, url, ctx) {
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

// ---------------------------------------------------------------------------------------------------------------
// Test controls under /_standin/.

/** @typedef {(ctx: Context, ids: string[], input: { body: Obj, url: URL }) =>
 *   [number, unknown] | Promise<[number, unknown]>} Control */

const CONTROLS = compile(
  /** @type {Array<[string, Control]>} */ ([
    ['GET /health', () => [200, { ok: true }]],
    ['GET /fault', (ctx) => [200, ctx.faults.state]],
    ['POST /fault', (ctx, _ids, { body }) => setFault(ctx, body)],
    ['GET /clock', ({ S }) => [200, { now: now(S), offset_seconds: S.clockOffset }]],
    ['POST /clock', ({ S }, _ids, { body }) => setClock(S, body)],
    ['GET /requests', ({ S }, _ids, { url }) => [200, { data: sinceSeq(S.requests, url) }]],
    ['GET /events', ({ S }, _ids, { url }) => [200, { data: storedEvents(S, url.searchParams.get('type')) }]],
    ['POST /events/:id/deliver', redeliver],
    ['POST /checkout/:id/pay', payControl],
    [
      'POST /subscriptions/:id/renew',
      (ctx, ids, { body }) => lifecycle(ctx, body, (c) => renewSubscription(ctx.S, c, ids[0])),
    ],
    [
      'POST /subscriptions/:id/fail_payment',
      (ctx, ids, { body }) => lifecycle(ctx, body, (c) => failPayment(ctx.S, c, ids[0])),
    ],
  ]),
);

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url @param {Context} ctx */
async function handleControl(req, res, url, ctx) {
  const body = req.method === 'POST' ? await readJson(req) : {};
  if (body === undefined) return sendJson(res, 400, { error: 'the body must be a JSON object' });
  const found = route(CONTROLS, req.method ?? 'GET', url.pathname.slice('/_standin'.length));
  if (!found) return sendJson(res, 404, { error: `no stand-in control ${req.method} ${url.pathname}` });
  try {
    const [status, payload] = await found.handler(ctx, found.ids, { body, url });
    sendJson(res, status, payload);
  } catch (error) {
    if (!(error instanceof StripeError)) throw error;
    sendJson(res, error.status, error);
  }
}

/** @param {Context} ctx @param {Obj} body @returns {[number, unknown]} */
function setFault(ctx, body) {
  try {
    return [200, ctx.faults.set(body)];
  } catch (error) {
    return [400, { error: /** @type {Error} */ (error).message }];
  }
}

/** @param {Store} S @param {Obj} body @returns {[number, unknown]} */
function setClock(S, body) {
  const real = Math.floor(Date.now() / 1000);
  if (Number.isInteger(body.now)) S.clockOffset = body.now - real;
  else if (Number.isInteger(body.advance_seconds)) S.clockOffset += body.advance_seconds;
  else return [400, { error: 'give {"advance_seconds": n} or {"now": unix_seconds}' }];
  return [200, { now: now(S), offset_seconds: S.clockOffset }];
}

/** `?since=<seq>` lets a test look only at requests it caused. @param {Obj[]} entries @param {URL} url */
function sinceSeq(entries, url) {
  const since = Number(url.searchParams.get('since') ?? 0);
  return entries.filter((entry) => entry.seq > since);
}

/** Oldest first, the order they were emitted in. @param {Store} S @param {string | null} type */
function storedEvents(S, type) {
  return [...S.byId.values()].filter((o) => o.object === 'event' && (type === null || o.type === type));
}

/** Sends a stored event again, as Stripe may: receivers must treat a repeat as already handled. @type {Control} */
async function redeliver(ctx, ids) {
  const event = get(ctx.S, 'event', 'event', ids[0]);
  const [delivery] = await ctx.deliver([event]);
  return [200, delivery];
}

/** The page's Pay button for tests: `{"deliver": false}` stores the events without sending them. @type {Control} */
function payControl(ctx, ids, { body }) {
  if (takeFault(ctx.faults, `/checkout/${ids[0]}/pay`, ['card_declined'])) throw cardDeclined();
  return lifecycle(ctx, body, (call) => payCheckout(ctx.S, call, ids[0]));
}

/**
 * Runs a lifecycle step, then (unless `deliver: false`) delivers its events before answering, so a test sees
 * the app's state after the webhooks.
 * @param {Context} ctx @param {Obj} body @param {(call: Call) => Obj} step @returns {Promise<[number, unknown]>}
 */
async function lifecycle(ctx, body, step) {
  const call = internalCall();
  let result;
  try {
    result = step(call);
  } catch (error) {
    ctx.deliver(call.events).catch(() => {});
    throw error;
  }
  const deliveries = body.deliver === false ? [] : await ctx.deliver(call.events);
  return [200, { ...result, events: call.events, deliveries }];
}

/** Missing or empty bodies count as `{}`; anything but a JSON object is refused. @param {http.IncomingMessage} req */
async function readJson(req) {
  const raw = await readBody(req, MAX_BODY_BYTES);
  const text = raw?.toString('utf8').trim() ?? '';
  if (text === '') return {};
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Server.

/**
 * Starts the stand-in. Point the SDK at it with `host`, `port` and `protocol: 'http'`; events go to `webhookUrl`
 * (settable later, e.g. once the app's port is known) signed with `webhookSecret`.
 * @param {{ port?: number, host?: string, webhookUrl?: string, webhookSecret?: string,
 *   log?: (line: string) => void }} [options]
 */
export async function startStripe({
  port = 0,
  host = '127.0.0.1',
  webhookUrl,
  webhookSecret = 'whsec_standin',
  log = () => {},
} = {}) {
  const virtual = { 'checkout.session.line_items': sessionLineItems };
  const S = createStore({ host, port, webhookUrl, virtual });
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  const delivery = createDelivery({ S, secret: webhookSecret, timers, log });
  /** @type {Context} */
  const ctx = { S, faults: createFaults(FAULT_MODES), timers, log, deliver: delivery.deliver };
  const server = http.createServer((req, res) => {
    dispatch(req, res, ctx).catch((error) => {
      if (res.destroyed) return;
      log(`stripe stand-in: internal error: ${error?.stack ?? error}`);
      sendJson(res, 500, new StripeError(500, 'Internal stand-in error.', { type: 'api_error' }));
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  const address = await listen(server, port, host);
  S.port = address.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  log(`stripe stand-in listening on ${url}${webhookUrl ? `, webhooks to ${webhookUrl}` : ''}`);

  return {
    url,
    port: address.port,
    host,
    apiKey: 'sk_test_standin',
    webhookSecret,
    faults: ctx.faults,
    /** @param {string | undefined} next */
    setWebhookUrl(next) {
      S.webhookUrl = next;
    },
    async close() {
      delivery.stop();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    },
  };
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx */
async function dispatch(req, res, ctx) {
  const url = new URL(req.url ?? '/', 'http://standin');
  if (url.pathname.startsWith('/v1/')) return handleApi(req, res, url, ctx);
  if (url.pathname.startsWith('/_standin/')) return handleControl(req, res, url, ctx);
  if (/^\/(checkout|portal)\/[^/]+/.test(url.pathname)) return handlePage(req, res, url, ctx);
  if (req.method === 'GET' && url.pathname === '/favicon.ico') return sendFavicon(res);
  sendJson(res, 404, new StripeError(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`));
}
