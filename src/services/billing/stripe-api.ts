// A thin Stripe API client over fetch, for the calls edgeauth makes: requests encoded as the official SDK
// encodes them (form bodies with bracketed keys, the SDK's pinned API version), the SDK's retry rules (one
// retry, an idempotency key on every POST) and its error shapes, in a few KiB instead of the SDK's 250.
// Types come from the `stripe` package (a devDependency: type imports add nothing to the bundle), and
// `test/unit/stripe-api.test.ts` checks this client against the SDK itself.
import type Stripe from 'stripe';
import { constantTimeEqual, hmacSha256Hex } from '../../lib/crypto';

/** The API version stripe@23.1.0 pins; Stripe answers every request in the shape of this version. */
export const STRIPE_API_VERSION = '2026-10-28.endive';
const RETRY_DELAY_MS = 500;

/** Stripe answered with an error: `type` is e.g. `invalid_request_error`, `code` e.g. `resource_missing`. */
export class StripeApiError extends Error {
  override readonly name = 'StripeApiError';
  constructor(
    message: string,
    readonly statusCode: number,
    readonly type: string,
    readonly code: string | undefined,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

/** Stripe could not be reached, or did not answer in time. */
export class StripeConnectionError extends Error {
  override readonly name = 'StripeConnectionError';
}

/** True for Stripe's `invalid_request_error` (optionally with this `code`): it refused what was asked. */
export function isInvalidRequest(error: unknown, code?: string): error is StripeApiError {
  return (
    error instanceof StripeApiError &&
    error.type === 'invalid_request_error' &&
    (code === undefined || error.code === code)
  );
}

interface RequestOptions {
  idempotencyKey?: string;
}

/**
 * `a[b][0][c]=v` pairs, as the SDK writes them: undefined is left out, null sends an empty value (which
 * unsets a field), a Date is sent as Unix seconds.
 */
export function formEncode(params: object): string {
  const pairs: string[] = [];
  const encode = (value: string) =>
    encodeURIComponent(value)
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%5B/g, '[')
      .replace(/%5D/g, ']');
  const add = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (value instanceof Date) {
      pairs.push(`${encode(key)}=${Math.floor(value.getTime() / 1000)}`);
    } else if (value === null || typeof value !== 'object') {
      pairs.push(`${encode(key)}=${encode(value === null ? '' : String(value))}`);
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) add(`${key}[${i}]`, item);
    } else {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    }
  };
  for (const [key, value] of Object.entries(params)) add(key, value);
  return pairs.join('&');
}

export interface StripeApiOptions {
  secretKey: string;
  /** `https://api.stripe.com` unless pointed at a stand-in. */
  apiBase?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** The global fetch unless given (the unit tests compare what this client sends with the SDK). */
  fetch?: typeof fetch;
}

/** The SDK's rule: retry on no answer, a 409, a 5xx, or when Stripe says so (and never when it says not). */
function shouldRetry(response: Response | null): boolean {
  if (!response) return true;
  const advice = response.headers.get('stripe-should-retry');
  if (advice === 'false') return false;
  if (advice === 'true') return true;
  return response.status === 409 || response.status >= 500;
}

async function errorFrom(response: Response): Promise<StripeApiError> {
  const requestId = response.headers.get('request-id') ?? undefined;
  let body: { error?: { message?: string; type?: string; code?: string } } | undefined;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = body?.error;
  return new StripeApiError(
    error?.message ?? `Stripe answered HTTP ${response.status}`,
    response.status,
    error?.type ?? 'api_error',
    error?.code,
    requestId,
  );
}

export function createStripeApi({
  secretKey,
  apiBase = 'https://api.stripe.com',
  timeoutMs = 10_000,
  maxRetries = 1,
  fetch: send = (input, init) => fetch(input, init),
}: StripeApiOptions) {
  const base = apiBase.replace(/\/+$/, '');

  async function attempt(method: string, url: string, body: string | undefined, key: string | undefined) {
    try {
      return await send(url, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${secretKey}`,
          'stripe-version': STRIPE_API_VERSION,
          'user-agent': 'edgeauth (fetch)',
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      return null;
    }
  }

  async function request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: object = {},
    options: RequestOptions = {},
  ): Promise<T> {
    const form = formEncode(params);
    const inQuery = method !== 'POST';
    const url = `${base}${path}${inQuery && form ? `?${form}` : ''}`;
    const body = inQuery ? undefined : form;
    // Every POST carries a key, so the retry of a write that did land is answered, not repeated.
    const key =
      options.idempotencyKey ?? (method === 'POST' ? `edgeauth-retry-${crypto.randomUUID()}` : undefined);
    for (let retries = 0; ; retries++) {
      const response = await attempt(method, url, body, key);
      if (response?.ok) return (await response.json()) as T;
      if (retries < maxRetries && shouldRetry(response)) {
        await response?.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        continue;
      }
      if (!response) throw new StripeConnectionError(`Stripe could not be reached (${method} ${path})`);
      throw await errorFrom(response);
    }
  }

  const id = (value: string) => encodeURIComponent(value);
  return {
    customers: {
      create: (params: Stripe.CustomerCreateParams, options?: RequestOptions) =>
        request<Stripe.Customer>('POST', '/v1/customers', params, options),
    },
    checkout: {
      sessions: {
        create: (params: Stripe.Checkout.SessionCreateParams, options?: RequestOptions) =>
          request<Stripe.Checkout.Session>('POST', '/v1/checkout/sessions', params, options),
        retrieve: (sessionId: string) =>
          request<Stripe.Checkout.Session>('GET', `/v1/checkout/sessions/${id(sessionId)}`),
        expire: (sessionId: string) =>
          request<Stripe.Checkout.Session>('POST', `/v1/checkout/sessions/${id(sessionId)}/expire`),
      },
    },
    billingPortal: {
      sessions: {
        create: (params: Stripe.BillingPortal.SessionCreateParams) =>
          request<Stripe.BillingPortal.Session>('POST', '/v1/billing_portal/sessions', params),
      },
    },
    subscriptions: {
      retrieve: (subscriptionId: string) =>
        request<Stripe.Subscription>('GET', `/v1/subscriptions/${id(subscriptionId)}`),
      update: (subscriptionId: string, params: Stripe.SubscriptionUpdateParams, options?: RequestOptions) =>
        request<Stripe.Subscription>('POST', `/v1/subscriptions/${id(subscriptionId)}`, params, options),
      cancel: (subscriptionId: string, params: Stripe.SubscriptionCancelParams, options?: RequestOptions) =>
        request<Stripe.Subscription>('DELETE', `/v1/subscriptions/${id(subscriptionId)}`, params, options),
    },
    invoices: {
      retrieve: (invoiceId: string) => request<Stripe.Invoice>('GET', `/v1/invoices/${id(invoiceId)}`),
      createPreview: (params: Stripe.InvoiceCreatePreviewParams) =>
        request<Stripe.Invoice>('POST', '/v1/invoices/create_preview', params),
    },
    invoicePayments: {
      list: (params: Stripe.InvoicePaymentListParams) =>
        request<Stripe.ApiList<Stripe.InvoicePayment>>('GET', '/v1/invoice_payments', params),
    },
    refunds: {
      create: (params: Stripe.RefundCreateParams, options?: RequestOptions) =>
        request<Stripe.Refund>('POST', '/v1/refunds', params, options),
    },
    prices: {
      create: (params: Stripe.PriceCreateParams, options?: RequestOptions) =>
        request<Stripe.Price>('POST', '/v1/prices', params, options),
      update: (priceId: string, params: Stripe.PriceUpdateParams, options?: RequestOptions) =>
        request<Stripe.Price>('POST', `/v1/prices/${id(priceId)}`, params, options),
    },
    products: {
      create: (params: Stripe.ProductCreateParams, options?: RequestOptions) =>
        request<Stripe.Product>('POST', '/v1/products', params, options),
      update: (productId: string, params: Stripe.ProductUpdateParams, options?: RequestOptions) =>
        request<Stripe.Product>('POST', `/v1/products/${id(productId)}`, params, options),
    },
  };
}

export type StripeApi = ReturnType<typeof createStripeApi>;

const encoder = new TextEncoder();

/**
 * The event in a webhook delivery whose `Stripe-Signature` (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`,
 * several v1 while a secret is being rolled) checks out and is at most `toleranceSeconds` old, as the SDK's
 * `constructEventAsync` decides; throws otherwise.
 */
export async function verifyStripeSignature(
  rawBody: string,
  header: string,
  secret: string,
  { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) } = {},
): Promise<unknown> {
  let timestamp = Number.NaN;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim());
    if (name === 't') timestamp = Number(value);
    if (name === 'v1' && value) signatures.push(value);
  }
  if (!Number.isInteger(timestamp) || signatures.length === 0) throw new Error('malformed Stripe-Signature');
  const expected = encoder.encode(await hmacSha256Hex(secret, `${timestamp}.${rawBody}`));
  if (!signatures.some((signature) => constantTimeEqual(encoder.encode(signature), expected))) {
    throw new Error('no matching signature');
  }
  if (toleranceSeconds > 0 && nowSeconds - timestamp > toleranceSeconds) throw new Error('timestamp too old');
  return JSON.parse(rawBody);
}
