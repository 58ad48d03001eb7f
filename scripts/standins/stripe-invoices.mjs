// Invoices of the Stripe stand-in: the lines of a billing cycle or a plan change, paying and failing them.
/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ start: number, end: number }} Period */
/** @typedef {{ amount: number, price: Obj, quantity: number, description: string, period: Period,
 *   proration: boolean, item: string }} LineSpec */
/** @typedef {{ anchor: number, interval: string, count: number, cycles: number, pending: LineSpec[] }} Cycle */
import { currentPeriod, cycleOf, periodAt, RETRY_AFTER_SECONDS, setPeriod } from './stripe-billing.mjs';
import { formatAmount, formatInterval } from './stripe-pages.mjs';
import { recordInvoicePayment } from './stripe-payments.mjs';
import { emit, list, matches, newId, now, put } from './stripe-wire.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Invoices.

/** @param {Store} S @param {Obj} price */
export const productName = (S, price) => S.byId.get(price.product)?.name ?? price.product;

/**
 * One line per item for a whole period at the items' prices.
 * @param {Store} S @param {Obj[]} items @param {Period} period @returns {LineSpec[]}
 */
export function cycleLines(S, items, period) {
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
export function buildInvoice(S, sub, { reason, lines, paid, period, id = newId('in', 24), prorationDate }) {
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
export function raiseInvoice(S, sub, spec) {
  const invoice = put(S, buildInvoice(S, sub, spec));
  if (invoice.status === 'paid') recordInvoicePayment(S, invoice);
  cycleOf(S, sub).pending = [];
  sub.latest_invoice = invoice.id;
  return invoice;
}

/** Starts the next period and bills it, as Stripe does at a period end. @param {Store} S @param {Obj} sub
 *  @param {boolean} paid */
export function billNextPeriod(S, sub, paid) {
  const cycle = cycleOf(S, sub);
  const previous = currentPeriod(sub);
  setPeriod(sub, periodAt(cycle, ++cycle.cycles));
  const lines = [...cycle.pending, ...cycleLines(S, sub.items.data, currentPeriod(sub))];
  return raiseInvoice(S, sub, { reason: 'subscription_cycle', lines, paid, period: previous });
}

/** A retry of an open invoice that succeeds. @param {Store} S @param {Obj} invoice */
export function settleInvoice(S, invoice) {
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
export function emitPaid(S, call, invoice) {
  emit(S, call, 'invoice.paid', invoice);
  emit(S, call, 'invoice.payment_succeeded', invoice);
}
