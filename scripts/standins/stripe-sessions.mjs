// Sessions of the Stripe stand-in: Checkout Sessions (mode=subscription) and customer-portal sessions.
import {
  applyMetadata,
  baseUrl,
  emit,
  get,
  invalid,
  list,
  matches,
  missing,
  newId,
  now,
  put,
  readBool,
  readInt,
  readString,
  readUrl,
  required,
} from './stripe-wire.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */

const SESSION_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * Line items must name existing, active, recurring prices sharing one currency and one billing interval, which is
 * what Stripe requires of a subscription-mode session.
 * @param {Store} S @param {unknown} value
 */
function readLineItems(S, value) {
  if (!Array.isArray(value) || value.length === 0) throw missing('line_items');
  const items = value.map((item, index) => {
    const param = `line_items[${index}]`;
    if (item?.price_data !== undefined)
      throw invalid('The stand-in supports `price`, not `price_data`.', param);
    const price = get(
      S,
      'price',
      'price',
      required(readString(item?.price, `${param}[price]`), `${param}[price]`),
    );
    if (!price.active) {
      throw invalid(
        'The price specified is inactive. This field only accepts active prices.',
        `${param}[price]`,
      );
    }
    if (!price.recurring) {
      throw invalid(
        'You must provide at least one recurring price in `subscription` mode when using prices.',
        `${param}[price]`,
      );
    }
    const quantity = readInt(item.quantity, `${param}[quantity]`) ?? 1;
    if (quantity < 1) throw invalid('Quantity must be at least 1.', `${param}[quantity]`);
    return { id: newId('li', 24), price: price.id, quantity };
  });
  const prices = items.map((item) => /** @type {Obj} */ (S.byId.get(item.price)));
  const first = prices[0];
  const mixed = prices.some(
    (p) => p.currency !== first.currency || p.recurring.interval !== first.recurring.interval,
  );
  if (mixed)
    throw invalid('All prices on a subscription must share one currency and one interval.', 'line_items');
  return items;
}

/** @param {Store} S @param {Call} call */
export function createCheckoutSession(S, { params }) {
  const mode = required(readString(params.mode, 'mode'), 'mode');
  if (mode !== 'subscription') throw invalid('The Stripe stand-in supports mode=subscription only.', 'mode');
  const lineItems = readLineItems(S, params.line_items);
  const customer =
    params.customer === undefined ? null : get(S, 'customer', 'customer', params.customer, 'customer');
  const customerEmail = readString(params.customer_email, 'customer_email') ?? null;
  if (customer && customerEmail) {
    throw invalid(
      'You may only specify one of these parameters: customer, customer_email.',
      'customer_email',
    );
  }
  const prices = lineItems.map((item) => /** @type {Obj} */ (S.byId.get(item.price)));
  const total = lineItems.reduce((sum, item, i) => sum + prices[i].unit_amount * item.quantity, 0);
  const created = now(S);
  const id = newId('cs_test', 58);
  S.extra.set(id, {
    lineItems,
    subscriptionMetadata: applyMetadata(
      {},
      params.subscription_data?.metadata,
      'subscription_data[metadata]',
    ),
  });
  return put(S, {
    ...sessionDefaults(),
    id,
    object: 'checkout.session',
    allow_promotion_codes: readBool(params.allow_promotion_codes, 'allow_promotion_codes') ?? null,
    amount_subtotal: total,
    amount_total: total,
    cancel_url: readUrl(params.cancel_url, 'cancel_url') ?? null,
    client_reference_id: readString(params.client_reference_id, 'client_reference_id') ?? null,
    created,
    currency: prices[0].currency,
    customer: customer?.id ?? null,
    customer_creation: customer ? null : 'always',
    customer_email: customerEmail,
    expires_at: created + SESSION_LIFETIME_SECONDS,
    metadata: applyMetadata({}, params.metadata),
    mode,
    success_url: readUrl(params.success_url, 'success_url') ?? null,
    url: `${baseUrl(S)}/checkout/${id}`,
  });
}

/** Fields a hosted, card-only, tax-free session has that the stand-in never varies. */
function sessionDefaults() {
  return {
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer_account: null,
    customer_details: null,
    discounts: [],
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    wallet_options: null,
  };
}

/**
 * A session past `expires_at` (stand-in time) expires when next looked at, as Stripe expires it after 24 hours.
 * @param {Store} S @param {Call} call @param {string} id
 */
export function getSession(S, call, id) {
  const session = get(S, 'checkout.session', 'checkout.session', id);
  if (session.status === 'open' && now(S) >= session.expires_at) expireSession(S, call, session);
  return session;
}

/** @param {Store} S @param {Call} call @param {Obj} session */
function expireSession(S, call, session) {
  session.status = 'expired';
  session.url = null;
  emit(S, call, 'checkout.session.expired', session);
}

/** @param {Store} S @param {Call} call */
export function expireCheckoutSession(S, call) {
  const session = getSession(S, call, call.ids[0]);
  if (session.status !== 'open') {
    throw invalid(
      `Only Checkout Sessions with a status in ["open"] can be expired. This session is ${session.status}.`,
    );
  }
  expireSession(S, call, session);
  return session;
}

/** @param {Store} S @param {Call} call */
export function listCheckoutSessions(S, { params }) {
  return list(S, 'checkout.session', '/v1/checkout/sessions', params, (session) => {
    return (
      matches(params.customer, session.customer) &&
      matches(params.subscription, session.subscription) &&
      matches(params.status, session.status)
    );
  });
}

/** A session's line items, which Stripe includes only when expanded or listed. @param {Store} S @param {Obj} session */
export function sessionLineItems(S, session) {
  const { lineItems } = /** @type {Obj} */ (S.extra.get(session.id));
  const data = lineItems.map((/** @type {Obj} */ item) => {
    const price = /** @type {Obj} */ (S.byId.get(item.price));
    const amount = price.unit_amount * item.quantity;
    return {
      id: item.id,
      object: 'item',
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: S.byId.get(price.product)?.name ?? null,
      metadata: {},
      price,
      quantity: item.quantity,
    };
  });
  return { object: 'list', data, has_more: false, url: `/v1/checkout/sessions/${session.id}/line_items` };
}

/** @param {Store} S @param {Call} call */
export function createPortalSession(S, { params }) {
  const customer = get(
    S,
    'customer',
    'customer',
    required(readString(params.customer, 'customer'), 'customer'),
  );
  const id = newId('bps', 24);
  return put(S, {
    id,
    object: 'billing_portal.session',
    configuration: 'bpc_standin',
    created: now(S),
    customer: customer.id,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: readUrl(params.return_url, 'return_url') ?? null,
    url: `${baseUrl(S)}/portal/${id}`,
  });
}
