// The Stripe stand-in's test controls under /_standin/: faults, the clock, events, payments and renewals.
import http from 'node:http';
import { readBody, sendJson } from './http-kit.mjs';
import { failPayment, payCheckout, renewSubscription } from './stripe-billing.mjs';
import { get, internalCall, now, StripeError } from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ event: string, type: string, delivered: boolean, attempts: number, status: number | null,
 *   error: string | null }} Delivery */
/** @typedef {{ S: Store, faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout>,
 *   log: (line: string) => void, deliver: (events: Obj[]) => Promise<Delivery[]> }} Context */

import { cardDeclined, compile, MAX_BODY_BYTES, route, takeFault } from './stripe.mjs';

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
export async function handleControl(req, res, url, ctx) {
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
