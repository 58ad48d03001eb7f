// Billing lifecycle of the Stripe stand-in: subscriptions born from a paid Checkout Session, their periods,
// cancellation, and the renewals and failed payments tests trigger through /_standin/. Invoices are in
// stripe-invoices.mjs, plan changes with proration in stripe-plan-changes.mjs.
/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ start: number, end: number }} Period */
/** @typedef {{ amount: number, price: Obj, quantity: number, description: string, period: Period,
 *   proration: boolean, item: string }} LineSpec */
/** @typedef {{ anchor: number, interval: string, count: number, cycles: number, pending: LineSpec[] }} Cycle */
import { billNextPeriod, cycleLines, emitPaid, raiseInvoice, settleInvoice } from './stripe-invoices.mjs';
import { createCustomer } from './stripe-resources.mjs';
import { getSession } from './stripe-sessions.mjs';
import { changedAttributes, emit, get, invalid, newId, noSuch, now, put } from './stripe-wire.mjs';

const DAY = 24 * 60 * 60;
/** Stripe's default Smart Retries schedule starts a few days after a failed attempt. */
export const RETRY_AFTER_SECONDS = 3 * DAY;

// ---------------------------------------------------------------------------------------------------------------
// Periods. Every item of a subscription shares one period; in this API version it lives on the items.

/**
 * Adds intervals the way Stripe bills calendar months: the anchor's day of month is kept, clamped to short months.
 * @param {number} start @param {string} interval @param {number} count
 */
export function addInterval(start, interval, count) {
  if (interval === 'day') return start + count * DAY;
  if (interval === 'week') return start + count * 7 * DAY;
  const date = new Date(start * 1000);
  const months = (interval === 'year' ? 12 : 1) * count;
  const target = new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes()),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return target.getTime() / 1000 + date.getUTCSeconds();
}

/** Periods count from the anchor, so a 31st-of-month anchor is not dragged to the 28th by February. */
export function periodAt(/** @type {Cycle} */ cycle, /** @type {number} */ index) {
  const { anchor, interval, count } = cycle;
  return {
    start: addInterval(anchor, interval, count * index),
    end: addInterval(anchor, interval, count * (index + 1)),
  };
}

/** @param {Obj} sub @returns {Period} */
export function currentPeriod(sub) {
  const item = sub.items.data[0];
  return { start: item.current_period_start, end: item.current_period_end };
}

/** @param {Obj} sub @param {Period} period */
export function setPeriod(sub, period) {
  for (const item of sub.items.data) {
    item.current_period_start = period.start;
    item.current_period_end = period.end;
  }
}

/** @param {Store} S @param {Obj} sub @returns {Cycle} */
export const cycleOf = (S, sub) => /** @type {Cycle} */ (S.extra.get(sub.id));

// ---------------------------------------------------------------------------------------------------------------
// Subscriptions.

/** The legacy `plan` view of a price that subscription items still carry. @param {Obj} price */
export function planOf(price) {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

/** @param {Store} S @param {string} subscription @param {Obj} price @param {number} quantity @param {Period} period */
function newItem(S, subscription, price, quantity, period) {
  return {
    id: newId('si', 14),
    object: 'subscription_item',
    billing_thresholds: null,
    created: now(S),
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription,
    tax_rates: [],
  };
}

/**
 * An active subscription starting now, as a paid Checkout Session creates it.
 * @param {Store} S @param {Obj} customer @param {Array<{ price: string, quantity: number }>} lineItems
 * @param {Obj} metadata
 */
function createSubscription(S, customer, lineItems, metadata) {
  const start = now(S);
  const id = newId('sub', 24);
  const prices = lineItems.map((line) => get(S, 'price', 'price', line.price));
  const { interval, interval_count: count } = prices[0].recurring;
  /** @type {Cycle} */
  const cycle = { anchor: start, interval, count, cycles: 0, pending: [] };
  S.extra.set(id, cycle);
  const items = lineItems.map((line, i) => newItem(S, id, prices[i], line.quantity, periodAt(cycle, 0)));
  return put(S, {
    ...subscriptionDefaults(),
    id,
    object: 'subscription',
    billing_cycle_anchor: start,
    created: start,
    currency: prices[0].currency,
    customer: customer.id,
    items: { object: 'list', data: items, has_more: false, total_count: items.length, url: itemsUrl(id) },
    latest_invoice: null,
    metadata,
    start_date: start,
    status: 'active',
  });
}

/** @param {string} id */
const itemsUrl = (id) => `/v1/subscription_items?subscription=${id}`;

/** Fields of a card-billed subscription without trials, taxes or discounts, which the stand-in never varies. */
function subscriptionDefaults() {
  return {
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    livemode: false,
    managed_payments: null,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Checkout completion.

/**
 * Pays an open subscription-mode session: customer (created if the session had none), active subscription, paid
 * first invoice, completed session, then the events Stripe sends for it, in Stripe's order.
 * @param {Store} S @param {Call} call @param {string} sessionId
 */
export function payCheckout(S, call, sessionId) {
  const session = getSession(S, call, sessionId);
  if (session.status !== 'open') {
    throw invalid(`This Checkout Session is ${session.status} and can no longer be paid.`);
  }
  const { lineItems, subscriptionMetadata } = /** @type {Obj} */ (S.extra.get(session.id));
  const customer = session.customer
    ? get(S, 'customer', 'customer', session.customer)
    : createCustomer(S, { ...call, params: session.customer_email ? { email: session.customer_email } : {} });
  const sub = createSubscription(S, customer, lineItems, subscriptionMetadata);
  const start = now(S);
  const lines = cycleLines(S, sub.items.data, currentPeriod(sub));
  const invoice = raiseInvoice(S, sub, {
    reason: 'subscription_create',
    lines,
    paid: true,
    period: { start, end: start },
  });
  customer.delinquent = false;
  Object.assign(session, {
    customer: customer.id,
    customer_details: {
      address: null,
      email: customer.email,
      name: customer.name,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    },
    invoice: invoice.id,
    payment_status: 'paid',
    status: 'complete',
    subscription: sub.id,
    url: null,
  });
  emit(S, call, 'checkout.session.completed', session);
  emit(S, call, 'customer.subscription.created', sub);
  emitPaid(S, call, invoice);
  return { subscription: sub, invoice };
}

// ---------------------------------------------------------------------------------------------------------------
// Cancellation, renewal, failed payment.

/**
 * @param {Store} S @param {Call} call @param {Obj} sub @param {number} at @param {string} reason
 */
function endSubscription(S, call, sub, at, reason) {
  Object.assign(sub, {
    status: 'canceled',
    canceled_at: sub.canceled_at ?? at,
    ended_at: at,
    cancellation_details: { ...sub.cancellation_details, reason },
  });
  cycleOf(S, sub).pending = [];
  emit(S, call, 'customer.subscription.deleted', sub);
}

/** `DELETE /v1/subscriptions/:id`: ends it now. Stripe no longer finds a canceled one to cancel. */
export function cancelSubscription(/** @type {Store} */ S, /** @type {Call} */ call) {
  const sub = get(S, 'subscription', 'subscription', call.ids[0]);
  if (sub.status === 'canceled') throw noSuch('subscription', sub.id);
  sub.canceled_at = now(S);
  endSubscription(S, call, sub, now(S), 'cancellation_requested');
  return sub;
}

/** @param {Store} S @param {string} id */
function liveSubscription(S, id) {
  const sub = get(S, 'subscription', 'subscription', id);
  if (sub.status === 'canceled') throw invalid(`Subscription ${id} is canceled.`);
  return sub;
}

/** @param {Store} S @param {Obj} sub */
function openInvoice(S, sub) {
  const invoice = sub.latest_invoice ? S.byId.get(sub.latest_invoice) : null;
  return invoice?.status === 'open' ? invoice : null;
}

/**
 * Moves a subscription one period on, as Stripe does at its period end: a paid `subscription_cycle` invoice
 * (pending prorations included), or the end of a subscription set to cancel then, or, when it is past due, a
 * successful retry of the open invoice.
 * @param {Store} S @param {Call} call @param {string} id
 */
export function renewSubscription(S, call, id) {
  const sub = liveSubscription(S, id);
  const unpaid = openInvoice(S, sub);
  if (sub.cancel_at_period_end && !unpaid) {
    endSubscription(S, call, sub, currentPeriod(sub).end, 'cancellation_requested');
    return { subscription: sub, invoice: null };
  }
  const before = structuredClone(sub);
  const invoice = unpaid ? settleInvoice(S, unpaid) : billNextPeriod(S, sub, true);
  sub.status = 'active';
  get(S, 'customer', 'customer', sub.customer).delinquent = false;
  emitPaid(S, call, invoice);
  emit(S, call, 'customer.subscription.updated', sub, changedAttributes(before, sub));
  return { subscription: sub, invoice };
}

/**
 * A renewal whose payment fails: the period moves on, its invoice stays open, the subscription goes past_due.
 * When it already is, this is another failed attempt at the same invoice.
 * @param {Store} S @param {Call} call @param {string} id
 */
export function failPayment(S, call, id) {
  const sub = liveSubscription(S, id);
  const before = structuredClone(sub);
  const unpaid = openInvoice(S, sub);
  const invoice = unpaid ?? billNextPeriod(S, sub, false);
  if (unpaid) {
    unpaid.attempt_count += 1;
    unpaid.next_payment_attempt = now(S) + RETRY_AFTER_SECONDS;
  }
  sub.status = 'past_due';
  get(S, 'customer', 'customer', sub.customer).delinquent = true;
  emit(S, call, 'invoice.payment_failed', invoice);
  const previous = changedAttributes(before, sub);
  if (Object.keys(previous).length > 0) emit(S, call, 'customer.subscription.updated', sub, previous);
  return { subscription: sub, invoice };
}
