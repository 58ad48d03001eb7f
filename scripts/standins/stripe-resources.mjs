// Catalogue and session resources of the Stripe stand-in: customers, products, prices, Checkout Sessions and
// customer-portal sessions, laid out as the API version the SDK pins lays them out.
import { randomBytes } from 'node:crypto';
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

/** @param {Store} S @param {Call} call */
export function createCustomer(S, { params }) {
  const created = now(S);
  return put(S, {
    id: newId('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: readString(params.description, 'description') ?? null,
    discount: null,
    email: readString(params.email, 'email') ?? null,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: applyMetadata({}, params.metadata),
    name: readString(params.name, 'name') ?? null,
    next_invoice_sequence: 1,
    phone: readString(params.phone, 'phone') ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  });
}

/** @param {Store} S @param {Call} call */
export function updateCustomer(S, { params, ids }) {
  const customer = get(S, 'customer', 'customer', ids[0]);
  for (const field of ['email', 'name', 'description', 'phone']) {
    const value = readString(params[field], field);
    if (value !== undefined) customer[field] = value === '' ? null : value;
  }
  customer.metadata = applyMetadata(customer.metadata, params.metadata);
  return customer;
}

/** @param {Store} S @param {Call} call */
export function createProduct(S, { params }) {
  const created = now(S);
  return put(S, {
    id: readString(params.id, 'id') || newId('prod', 14),
    object: 'product',
    active: readBool(params.active, 'active') ?? true,
    created,
    default_price: null,
    description: readString(params.description, 'description') || null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: applyMetadata({}, params.metadata),
    name: required(readString(params.name, 'name'), 'name'),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: created,
    url: null,
  });
}

/** @param {Store} S @param {Call} call */
export function updateProduct(S, { params, ids }) {
  const product = get(S, 'product', 'product', ids[0]);
  const name = readString(params.name, 'name');
  if (name === '') throw invalid('You cannot set name to an empty string.', 'name');
  if (name !== undefined) product.name = name;
  const description = readString(params.description, 'description');
  if (description !== undefined) product.description = description || null;
  product.active = readBool(params.active, 'active') ?? product.active;
  product.metadata = applyMetadata(product.metadata, params.metadata);
  product.updated = now(S);
  return product;
}

/** Stripe refuses to delete a product that has prices; archiving (active=false) is the way out. */
export function deleteProduct(/** @type {Store} */ S, /** @type {Call} */ { ids }) {
  const product = get(S, 'product', 'product', ids[0]);
  const hasPrices = [...S.byId.values()].some((o) => o.object === 'price' && o.product === product.id);
  if (hasPrices)
    throw invalid('This product cannot be deleted because it has one or more user-created prices.');
  S.byId.delete(product.id);
  return { id: product.id, object: 'product', deleted: true };
}

const INTERVALS = ['day', 'week', 'month', 'year'];

/** @param {Store} S @param {Call} call */
export function createPrice(S, { params }) {
  const product = get(
    S,
    'product',
    'product',
    required(readString(params.product, 'product'), 'product'),
    'product',
  );
  const currency = required(readString(params.currency, 'currency'), 'currency').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}.`, 'currency');
  const unitAmount = required(readInt(params.unit_amount, 'unit_amount'), 'unit_amount');
  if (unitAmount < 0) throw invalid('This value must be greater than or equal to 0.', 'unit_amount');
  const recurring = readRecurring(params.recurring);
  return put(S, {
    id: newId('price', 24),
    object: 'price',
    active: readBool(params.active, 'active') ?? true,
    billing_scheme: 'per_unit',
    created: now(S),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: readString(params.lookup_key, 'lookup_key') ?? null,
    metadata: applyMetadata({}, params.metadata),
    nickname: readString(params.nickname, 'nickname') ?? null,
    product: product.id,
    recurring,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
  });
}

/** @param {unknown} value */
function readRecurring(value) {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) throw invalid('Invalid object', 'recurring');
  const spec = /** @type {Obj} */ (value);
  const interval = required(readString(spec.interval, 'recurring[interval]'), 'recurring[interval]');
  if (!INTERVALS.includes(interval)) {
    throw invalid(
      `Invalid recurring[interval]: must be one of ${INTERVALS.join(', ')}`,
      'recurring[interval]',
    );
  }
  const count = readInt(spec.interval_count, 'recurring[interval_count]') ?? 1;
  if (count < 1) throw invalid('Invalid recurring[interval_count]', 'recurring[interval_count]');
  return { interval, interval_count: count, meter: null, trial_period_days: null, usage_type: 'licensed' };
}

/** Amount, currency and interval are immutable in Stripe: a price change is a new price. */
export function updatePrice(/** @type {Store} */ S, /** @type {Call} */ { params, ids }) {
  const price = get(S, 'price', 'price', ids[0]);
  for (const frozen of ['unit_amount', 'currency', 'recurring', 'product']) {
    if (params[frozen] !== undefined) throw invalid(`Received unknown parameter: ${frozen}`, frozen);
  }
  price.active = readBool(params.active, 'active') ?? price.active;
  price.nickname = readString(params.nickname, 'nickname') ?? price.nickname;
  const lookupKey = readString(params.lookup_key, 'lookup_key');
  if (lookupKey !== undefined) price.lookup_key = lookupKey || null;
  price.metadata = applyMetadata(price.metadata, params.metadata);
  return price;
}

/** @param {Store} S @param {Call} call */
export function listPrices(S, { params }) {
  const active = readBool(params.active, 'active');
  const interval = params.recurring?.interval;
  return list(S, 'price', '/v1/prices', params, (price) => {
    return (
      matches(params.product, price.product) &&
      matches(active, price.active) &&
      matches(params.currency, price.currency) &&
      matches(params.type, price.type) &&
      matches(interval, price.recurring?.interval)
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checkout Sessions (mode=subscription) and customer-portal sessions.

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

/** @param {Store} S @param {Call} call */
export function listCustomers(S, { params }) {
  return list(S, 'customer', '/v1/customers', params, (customer) => matches(params.email, customer.email));
}

/** @param {Store} S @param {Call} call */
export function listProducts(S, { params }) {
  const active = readBool(params.active, 'active');
  return list(S, 'product', '/v1/products', params, (product) => matches(active, product.active));
}

/** `type` filters on one type, `types[]` on any of several, as in Stripe. @param {Store} S @param {Call} call */
export function listEvents(S, { params }) {
  const types = params.types === undefined ? null : [params.types].flat();
  return list(S, 'event', '/v1/events', params, (event) => {
    return matches(params.type, event.type) && (types === null || types.includes(event.type));
  });
}
