// Billing lifecycle of the Stripe stand-in: subscriptions born from a paid Checkout Session, their invoices, plan
// changes with proration, cancellation, and the renewals and failed payments tests trigger through /_standin/.

import { formatAmount, formatDate, formatInterval } from './stripe-pages.mjs';
import { recordInvoicePayment } from './stripe-payments.mjs';
import { createCustomer, getSession } from './stripe-resources.mjs';
import {
  applyMetadata,
  changedAttributes,
  emit,
  get,
  invalid,
  list,
  matches,
  newId,
  noSuch,
  now,
  put,
  readBool,
  readInt,
  readString,
  required,
} from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ start: number, end: number }} Period */
/** @typedef {{ amount: number, price: Obj, quantity: number, description: string, period: Period,
 *   proration: boolean, item: string }} LineSpec */
/** @typedef {{ anchor: number, interval: string, count: number, cycles: number, pending: LineSpec[] }} Cycle */

const DAY = 24 * 60 * 60;
/** Stripe's default Smart Retries schedule starts a few days after a failed attempt. */
const RETRY_AFTER_SECONDS = 3 * DAY;
const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'];

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
function periodAt(/** @type {Cycle} */ cycle, /** @type {number} */ index) {
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
function setPeriod(sub, period) {
  for (const item of sub.items.data) {
    item.current_period_start = period.start;
    item.current_period_end = period.end;
  }
}

/** @param {Store} S @param {Obj} sub @returns {Cycle} */
const cycleOf = (S, sub) => /** @type {Cycle} */ (S.extra.get(sub.id));

// ---------------------------------------------------------------------------------------------------------------
// Subscriptions.

/** The legacy `plan` view of a price that subscription items still carry. @param {Obj} price */
function planOf(price) {
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

/** Without `status`, Stripe lists every subscription that is not canceled; `status=all` includes those too. */
export function listSubscriptions(/** @type {Store} */ S, /** @type {Call} */ { params }) {
  const status = readString(params.status, 'status');
  return list(S, 'subscription', '/v1/subscriptions', params, (sub) => {
    const statusOk =
      status === 'all' || (status === undefined ? sub.status !== 'canceled' : sub.status === status);
    const priceOk =
      params.price === undefined ||
      sub.items.data.some((/** @type {Obj} */ i) => i.price.id === params.price);
    return statusOk && priceOk && matches(params.customer, sub.customer);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Invoices.

/** @param {Store} S @param {Obj} price */
const productName = (S, price) => S.byId.get(price.product)?.name ?? price.product;

/**
 * One line per item for a whole period at the items' prices.
 * @param {Store} S @param {Obj[]} items @param {Period} period @returns {LineSpec[]}
 */
function cycleLines(S, items, period) {
  return items.map((item) => ({
    amount: item.price.unit_amount * item.quantity,
    price: item.price,
    quantity: item.quantity,
    description: `${item.quantity} × ${productName(S, item.price)} (at ${formatAmount(item.price.unit_amount, item.price.currency)} ${formatInterval(item.price.recurring)})`,
    period,
    proration: false,
    item: item.id,
  }));
}

/** @param {LineSpec} spec @param {string} invoice @param {string} subscription */
function invoiceLine(spec, invoice, subscription) {
  return {
    id: newId('il', 24),
    object: 'line_item',
    amount: spec.amount,
    currency: spec.price.currency,
    description: spec.description,
    discount_amounts: [],
    discountable: !spec.proration,
    discounts: [],
    invoice,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: spec.proration ? newId('ii', 24) : null,
        proration: spec.proration,
        proration_details: { credited_items: null },
        subscription,
        subscription_item: spec.item,
      },
      type: 'subscription_item_details',
    },
    period: spec.period,
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: spec.price.id, product: spec.price.product },
      type: 'price_details',
      unit_amount_decimal: spec.price.unit_amount_decimal,
    },
    quantity: spec.quantity,
    quantity_decimal: String(spec.quantity),
    subscription,
    subtotal: spec.amount,
    taxes: [],
  };
}

/**
 * An invoice of a subscription. `period` is the invoice's own period, which Stripe sets to the span in which its
 * pending items accrued (nothing, on a first invoice; the previous period, on a renewal), not the period billed:
 * that one is on the lines.
 * @param {Store} S @param {Obj} sub
 * @param {{ reason: string, lines: LineSpec[], paid: boolean, period: Period, id?: string, prorationDate?: number }} spec
 */
function buildInvoice(S, sub, { reason, lines, paid, period, id = newId('in', 24), prorationDate }) {
  const created = now(S);
  const customer = S.byId.get(sub.customer) ?? {};
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const due = Math.max(0, total);
  const preview = id.startsWith('upcoming_');
  const data = lines.map((line) => invoiceLine(line, id, sub.id));
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe stand-in',
    account_tax_ids: null,
    amount_due: due,
    amount_overpaid: 0,
    amount_paid: paid ? due : 0,
    amount_remaining: paid ? 0 : due,
    amount_shipping: 0,
    application: null,
    attempt_count: preview ? 0 : 1,
    attempted: !preview,
    auto_advance: !paid && !preview,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: reason,
    collection_method: 'charge_automatically',
    created,
    currency: sub.currency,
    custom_fields: null,
    customer: sub.customer,
    customer_account: null,
    customer_address: null,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: preview ? null : created,
    ending_balance: preview ? null : 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: 'list',
      data,
      has_more: false,
      total_count: data.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: paid || preview ? null : created + RETRY_AFTER_SECONDS,
    number: preview
      ? null
      : `${customer.invoice_prefix ?? 'STANDIN'}-${String(customer.next_invoice_sequence++).padStart(4, '0')}`,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: {
        metadata: { ...sub.metadata },
        subscription: sub.id,
        ...(prorationDate === undefined ? {} : { subscription_proration_date: prorationDate }),
      },
      type: 'subscription_details',
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: period.end,
    period_start: period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: preview ? 'draft' : paid ? 'paid' : 'open',
    status_transitions: {
      finalized_at: preview ? null : created,
      marked_uncollectible_at: null,
      paid_at: paid ? created : null,
      voided_at: null,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: preview ? null : created,
  };
}

/** @param {Store} S @param {Call} call */
export function listInvoices(S, { params }) {
  return list(S, 'invoice', '/v1/invoices', params, (invoice) => {
    return (
      matches(params.customer, invoice.customer) &&
      matches(params.subscription, invoice.parent?.subscription_details?.subscription) &&
      matches(params.status, invoice.status)
    );
  });
}

/**
 * Stores a subscription's new invoice, which takes up its pending prorations and becomes its `latest_invoice`.
 * @param {Store} S @param {Obj} sub
 * @param {{ reason: string, lines: LineSpec[], paid: boolean, period: Period }} spec
 */
function raiseInvoice(S, sub, spec) {
  const invoice = put(S, buildInvoice(S, sub, spec));
  if (invoice.status === 'paid') recordInvoicePayment(S, invoice);
  cycleOf(S, sub).pending = [];
  sub.latest_invoice = invoice.id;
  return invoice;
}

/** Starts the next period and bills it, as Stripe does at a period end. @param {Store} S @param {Obj} sub
 *  @param {boolean} paid */
function billNextPeriod(S, sub, paid) {
  const cycle = cycleOf(S, sub);
  const previous = currentPeriod(sub);
  setPeriod(sub, periodAt(cycle, ++cycle.cycles));
  const lines = [...cycle.pending, ...cycleLines(S, sub.items.data, currentPeriod(sub))];
  return raiseInvoice(S, sub, { reason: 'subscription_cycle', lines, paid, period: previous });
}

/** A retry of an open invoice that succeeds. @param {Store} S @param {Obj} invoice */
function settleInvoice(S, invoice) {
  Object.assign(invoice, {
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    attempt_count: invoice.attempt_count + 1,
    next_payment_attempt: null,
    status: 'paid',
  });
  invoice.status_transitions.paid_at = now(S);
  recordInvoicePayment(S, invoice);
  return invoice;
}

/** @param {Store} S @param {Call} call @param {Obj} invoice */
function emitPaid(S, call, invoice) {
  emit(S, call, 'invoice.paid', invoice);
  emit(S, call, 'invoice.payment_succeeded', invoice);
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
// Plan changes and proration.

/** @param {unknown} value @param {string} param */
function readProrationBehavior(value, param) {
  const behavior = readString(value, param) ?? 'create_prorations';
  if (!PRORATION_BEHAVIORS.includes(behavior)) {
    throw invalid(`Invalid ${param}: must be one of ${PRORATION_BEHAVIORS.join(', ')}`, param);
  }
  return behavior;
}

/**
 * `items[n]` entries of an update: each must name an item of this subscription (adding or deleting items is
 * beyond the stand-in) and may change its price and quantity.
 * @param {Store} S @param {Obj} sub @param {unknown} value @param {string} param
 */
function readItemChanges(S, sub, value, param) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('Invalid array', param);
  return value.map((change, index) => {
    const at = `${param}[${index}]`;
    const id = required(readString(change?.id, `${at}[id]`), `${at}[id]`);
    const item = sub.items.data.find((/** @type {Obj} */ candidate) => candidate.id === id);
    if (!item) throw noSuch('subscription item', id, `${at}[id]`);
    if (change.deleted !== undefined)
      throw invalid('The stand-in cannot delete subscription items.', `${at}[deleted]`);
    const priceId = readString(change.price, `${at}[price]`);
    const price = priceId === undefined ? item.price : get(S, 'price', 'price', priceId, `${at}[price]`);
    if (priceId !== undefined && !price.active) {
      throw invalid(
        'The price specified is inactive. This field only accepts active prices.',
        `${at}[price]`,
      );
    }
    if (!price.recurring || price.currency !== sub.currency) {
      throw invalid(`The price must be recurring and in ${sub.currency}.`, `${at}[price]`);
    }
    const quantity = readInt(change.quantity, `${at}[quantity]`) ?? item.quantity;
    return { item, price, quantity };
  });
}

/** @param {Store} S @param {Obj} price @param {number} quantity @param {number} fraction @param {Period} period
 *  @param {string} item @param {string} label */
function prorationLine(S, price, quantity, fraction, period, item, label) {
  const amount = Math.sign(fraction) * Math.round(Math.abs(price.unit_amount * quantity * fraction));
  const description = `${label} ${quantity} × ${productName(S, price)} after ${formatDate(period.start)}`;
  return { amount, price, quantity, description, period, proration: true, item };
}

/**
 * What a change costs, prorated by the second as Stripe does: a credit for the unused rest of the period at the old
 * price and a charge for it at the new one. A new interval restarts the billing cycle now instead, billed in full.
 * @param {Store} S @param {Obj} sub @param {Array<{ item: Obj, price: Obj, quantity: number }>} changes
 * @param {string} behavior @param {number} prorationDate
 */
function planChange(S, sub, changes, behavior, prorationDate) {
  const cycle = cycleOf(S, sub);
  const current = currentPeriod(sub);
  const from = Math.min(Math.max(prorationDate, current.start), current.end);
  const fraction = (current.end - from) / Math.max(1, current.end - current.start);
  const items = sub.items.data.map((/** @type {Obj} */ item) => {
    const change = changes.find((c) => c.item.id === item.id);
    return change ? { ...item, price: change.price, quantity: change.quantity } : item;
  });
  const recurring = items[0].price.recurring;
  const reset = recurring.interval !== cycle.interval || recurring.interval_count !== cycle.count;
  /** @type {LineSpec[]} */
  const lines = [];
  const span = { start: from, end: current.end };
  for (const { item, price, quantity } of behavior === 'none' ? [] : changes) {
    if (item.price.id === price.id && item.quantity === quantity) continue;
    lines.push(prorationLine(S, item.price, item.quantity, -fraction, span, item.id, 'Unused time on'));
    if (!reset) lines.push(prorationLine(S, price, quantity, fraction, span, item.id, 'Remaining time on'));
  }
  const start = now(S);
  const period = reset
    ? { start, end: addInterval(start, recurring.interval, recurring.interval_count) }
    : current;
  return { lines, reset, items, period, recurring, from };
}

/**
 * Applies item changes; returns the invoice Stripe would raise at once (new interval, or always_invoice), if any.
 * @param {Store} S @param {Obj} sub @param {ReturnType<typeof readItemChanges>} changes @param {string} behavior
 * @param {number} prorationDate
 */
function applyItemChanges(S, sub, changes, behavior, prorationDate) {
  const plan = planChange(S, sub, changes, behavior, prorationDate);
  const cycle = cycleOf(S, sub);
  for (const { item, price, quantity } of changes) {
    Object.assign(item, { price: structuredClone(price), plan: planOf(price), quantity });
  }
  const today = { start: now(S), end: now(S) };
  if (plan.reset) {
    const { interval, interval_count: count } = plan.recurring;
    Object.assign(cycle, { anchor: plan.period.start, interval, count, cycles: 0 });
    sub.billing_cycle_anchor = plan.period.start;
    setPeriod(sub, plan.period);
    const lines = [...cycle.pending, ...plan.lines, ...cycleLines(S, sub.items.data, plan.period)];
    return raiseInvoice(S, sub, { reason: 'subscription_update', lines, paid: true, period: today });
  }
  if (behavior === 'always_invoice' && plan.lines.length > 0) {
    const lines = [...cycle.pending, ...plan.lines];
    return raiseInvoice(S, sub, { reason: 'subscription_update', lines, paid: true, period: today });
  }
  if (behavior === 'create_prorations') cycle.pending.push(...plan.lines);
  return null;
}

/** @param {Store} S @param {Obj} sub @param {boolean} value */
function setCancelAtPeriodEnd(S, sub, value) {
  if (value === sub.cancel_at_period_end) return;
  sub.cancel_at_period_end = value;
  sub.cancel_at = value ? currentPeriod(sub).end : null;
  sub.canceled_at = value ? now(S) : null;
  sub.cancellation_details = { ...sub.cancellation_details, reason: value ? 'cancellation_requested' : null };
}

/** Only these may change on a canceled subscription, as in Stripe. */
const CANCELED_UPDATABLE = new Set(['metadata', 'cancellation_details', 'expand']);

/** @param {Store} S @param {Call} call */
export function updateSubscription(S, call) {
  const { params } = call;
  const sub = get(S, 'subscription', 'subscription', call.ids[0]);
  if (sub.status === 'canceled' && Object.keys(params).some((key) => !CANCELED_UPDATABLE.has(key))) {
    throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const before = structuredClone(sub);
  const behavior = readProrationBehavior(params.proration_behavior, 'proration_behavior');
  const prorationDate = readInt(params.proration_date, 'proration_date') ?? now(S);
  const changes = readItemChanges(S, sub, params.items, 'items');
  const cancelAtPeriodEnd = readBool(params.cancel_at_period_end, 'cancel_at_period_end');
  const invoice = changes.length > 0 ? applyItemChanges(S, sub, changes, behavior, prorationDate) : null;
  if (cancelAtPeriodEnd !== undefined) setCancelAtPeriodEnd(S, sub, cancelAtPeriodEnd);
  sub.metadata = applyMetadata(sub.metadata, params.metadata);
  const previous = changedAttributes(before, sub);
  if (Object.keys(previous).length > 0) emit(S, call, 'customer.subscription.updated', sub, previous);
  if (invoice) emitPaid(S, call, invoice);
  return sub;
}

/** The portal's cancel/resume buttons: the same change as an API update. @param {Store} S @param {Call} call
 *  @param {Obj} sub @param {boolean} value */
export function changeCancelAtPeriodEnd(S, call, sub, value) {
  const before = structuredClone(sub);
  setCancelAtPeriodEnd(S, sub, value);
  const previous = changedAttributes(before, sub);
  if (Object.keys(previous).length > 0) emit(S, call, 'customer.subscription.updated', sub, previous);
}

/**
 * `POST /v1/invoices/create_preview`: with item changes, the invoice those changes would raise (proration lines
 * only, or a restarted cycle); without, the next renewal (pending prorations plus the next period).
 * @param {Store} S @param {Call} call
 */
export function previewInvoice(S, { params }) {
  const sub = get(
    S,
    'subscription',
    'subscription',
    required(readString(params.subscription, 'subscription'), 'subscription'),
    'subscription',
  );
  if (params.customer !== undefined && params.customer !== sub.customer) {
    throw invalid('The subscription does not belong to this customer.', 'customer');
  }
  if (sub.status === 'canceled')
    throw invalid('No upcoming invoices for a canceled subscription.', 'subscription');
  const details = params.subscription_details ?? {};
  const at = 'subscription_details';
  const behavior = readProrationBehavior(details.proration_behavior, `${at}[proration_behavior]`);
  const prorationDate = readInt(details.proration_date, `${at}[proration_date]`) ?? now(S);
  const changes = readItemChanges(S, sub, details.items, `${at}[items]`);
  const cycle = cycleOf(S, sub);
  const id = newId('upcoming_in', 24);
  if (changes.length === 0) {
    const next = periodAt(cycle, cycle.cycles + 1);
    const lines = [...cycle.pending, ...cycleLines(S, sub.items.data, next)];
    return buildInvoice(S, sub, { id, reason: 'upcoming', lines, paid: false, period: currentPeriod(sub) });
  }
  const plan = planChange(S, sub, changes, behavior, prorationDate);
  const lines = plan.reset ? [...plan.lines, ...cycleLines(S, plan.items, plan.period)] : plan.lines;
  const today = { start: now(S), end: now(S) };
  return buildInvoice(S, sub, {
    id,
    reason: 'subscription_update',
    lines,
    paid: false,
    period: today,
    prorationDate: plan.from,
  });
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
