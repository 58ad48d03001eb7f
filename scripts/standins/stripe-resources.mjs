// Catalogue resources of the Stripe stand-in: customers, products and prices, laid out as the API version the
// SDK pins lays them out.
import { randomBytes } from 'node:crypto';
import {
  applyMetadata,
  get,
  invalid,
  list,
  matches,
  newId,
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

/** @param {Store} S @param {Call} call */
export function listCustomers(S, { params }) {
  return list(S, 'customer', '/v1/customers', params, (customer) => matches(params.email, customer.email));
}
