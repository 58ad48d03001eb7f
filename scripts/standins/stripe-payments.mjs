// Payments and refunds of the Stripe stand-in: each paid invoice gets an InvoicePayment for a PaymentIntent,
// and a Refund of that PaymentIntent returns at most what was paid (a second full refund is refused).
import {
  applyMetadata,
  emit,
  invalid,
  list,
  matches,
  newId,
  now,
  put,
  readInt,
  readString,
  required,
  StripeError,
} from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */

/** Records the payment of an invoice that was just paid. @param {Store} S @param {Obj} invoice */
export function recordInvoicePayment(S, invoice) {
  const created = now(S);
  return put(S, {
    id: newId('inpay', 24),
    object: 'invoice_payment',
    amount_paid: invoice.amount_paid,
    amount_requested: invoice.amount_paid,
    created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: 'payment_intent', payment_intent: newId('pi', 24) },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: created },
  });
}

/** @param {Store} S @param {Call} call */
export function listInvoicePayments(S, { params }) {
  return list(S, 'invoice_payment', '/v1/invoice_payments', params, (payment) =>
    matches(params.invoice, payment.invoice),
  );
}

/** @param {Store} S @param {Call} call */
export function createRefund(S, call) {
  const { params } = call;
  const paymentIntent = required(readString(params.payment_intent, 'payment_intent'), 'payment_intent');
  const payment = [...S.byId.values()].find(
    (o) => o.object === 'invoice_payment' && o.payment.payment_intent === paymentIntent,
  );
  if (!payment) throw invalid(`No such payment_intent: '${paymentIntent}'`, 'payment_intent');
  const refunded = [...S.byId.values()]
    .filter((o) => o.object === 'refund' && o.payment_intent === paymentIntent)
    .reduce((sum, refund) => sum + refund.amount, 0);
  const amount = readInt(params.amount, 'amount') ?? payment.amount_paid - refunded;
  if (amount <= 0 || refunded + amount > payment.amount_paid) {
    throw new StripeError(400, `Charge for payment_intent ${paymentIntent} has already been refunded.`, {
      code: 'charge_already_refunded',
    });
  }
  const refund = put(S, {
    id: newId('re', 24),
    object: 'refund',
    amount,
    created: now(S),
    currency: payment.currency,
    metadata: applyMetadata({}, params.metadata),
    payment_intent: paymentIntent,
    reason: readString(params.reason, 'reason') ?? null,
    status: 'succeeded',
  });
  emit(S, call, 'refund.created', refund);
  return refund;
}
