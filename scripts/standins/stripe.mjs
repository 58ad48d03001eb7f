// Local Stripe API stand-in for tests and `npm run dev`: the v1 wire protocol as the official SDK speaks it, signed
// webhook delivery, hosted Checkout and portal pages, and /_standin/ test controls. State is in memory, per instance.
// This file serves the API and starts the server; stripe-webhooks.mjs delivers events, stripe-hosted.mjs serves
// the pages a browser sees, stripe-controls.mjs the test controls.
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';
import { cancelSubscription } from './stripe-billing.mjs';
import { listInvoices } from './stripe-invoices.mjs';
import { createRefund, listInvoicePayments } from './stripe-payments.mjs';
import { previewInvoice, updateSubscription } from './stripe-plan-changes.mjs';
import {
  createCustomer,
  createPrice,
  createProduct,
  listCustomers,
  listPrices,
  updatePrice,
  updateProduct,
} from './stripe-resources.mjs';
import {
  createCheckoutSession,
  createPortalSession,
  expireCheckoutSession,
  getSession,
  listCheckoutSessions,
  sessionLineItems,
} from './stripe-sessions.mjs';
import { API_VERSION, applyExpand, createStore, get, newId, parseForm, StripeError } from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ event: string, type: string, delivered: boolean, attempts: number, status: number | null,
 *   error: string | null }} Delivery */
/** @typedef {{ S: Store, faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout>,
 *   log: (line: string) => void, deliver: (events: Obj[]) => Promise<Delivery[]> }} Context */

import { handleControl } from './stripe-controls.mjs';
import { handlePage } from './stripe-hosted.mjs';
import { createDelivery } from './stripe-webhooks.mjs';

export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_LOGGED_REQUESTS = 10_000;
const FAULT_MODES = ['error', 'down', 'slow', 'card_declined'];

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
export function compile(table) {
  return table.map(([spec, handler]) => {
    const [method, path] = spec.split(' ');
    return [method, new RegExp(`^${path.replaceAll(':id', '([^/]+)')}$`), handler];
  });
}

const ROUTES = compile(
  /** @type {Array<[string, Handler]>} */ ([
    ['POST /v1/customers', createCustomer],
    ['GET /v1/customers', listCustomers],
    ['POST /v1/products', createProduct],
    ['GET /v1/products/:id', retrieve('product')],
    ['POST /v1/products/:id', updateProduct],
    ['POST /v1/prices', createPrice],
    ['GET /v1/prices', listPrices],
    ['GET /v1/prices/:id', retrieve('price')],
    ['POST /v1/prices/:id', updatePrice],
    ['POST /v1/checkout/sessions', createCheckoutSession],
    ['GET /v1/checkout/sessions', listCheckoutSessions],
    ['GET /v1/checkout/sessions/:id', (S, call) => getSession(S, call, call.ids[0])],
    ['POST /v1/checkout/sessions/:id/expire', expireCheckoutSession],
    ['GET /v1/subscriptions/:id', retrieve('subscription')],
    ['POST /v1/subscriptions/:id', updateSubscription],
    ['DELETE /v1/subscriptions/:id', cancelSubscription],
    ['POST /v1/invoices/create_preview', previewInvoice],
    ['GET /v1/invoices', listInvoices],
    ['GET /v1/invoices/:id', retrieve('invoice')],
    ['GET /v1/invoice_payments', listInvoicePayments],
    ['POST /v1/refunds', createRefund],
    ['POST /v1/billing_portal/sessions', createPortalSession],
  ]),
);

/**
 * @template H @param {Array<[string, RegExp, H]>} table @param {string} method @param {string} path
 * @returns {{ handler: H, ids: string[] } | null}
 */
export function route(table, method, path) {
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
export function takeFault(faults, path, modes) {
  const { mode, match } = faults.state;
  if (!modes.includes(mode)) return null;
  if (match !== null && path !== match && !path.startsWith(match.endsWith('/') ? match : `${match}/`))
    return null;
  return faults.take(match ?? undefined);
}

/** @param {string | string[] | undefined} value */
const headerValue = (value) => (Array.isArray(value) ? value[0] : value) ?? null;

export const cardDeclined = () =>
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
