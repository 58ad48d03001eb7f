// Plan changes of the Stripe stand-in: subscription updates, proration and the upcoming-invoice preview.
/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ start: number, end: number }} Period */
/** @typedef {{ amount: number, price: Obj, quantity: number, description: string, period: Period,
 *   proration: boolean, item: string }} LineSpec */
/** @typedef {{ anchor: number, interval: string, count: number, cycles: number, pending: LineSpec[] }} Cycle */
import { addInterval, currentPeriod, cycleOf, periodAt, planOf, setPeriod } from './stripe-billing.mjs';
import { buildInvoice, cycleLines, emitPaid, productName, raiseInvoice } from './stripe-invoices.mjs';
import { formatDate } from './stripe-pages.mjs';
import {
  applyMetadata,
  changedAttributes,
  emit,
  get,
  invalid,
  newId,
  noSuch,
  now,
  readBool,
  readInt,
  readString,
  required,
} from './stripe-wire.mjs';

const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'];

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
