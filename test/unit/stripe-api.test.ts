// The Worker's thin Stripe client (src/services/billing/stripe-api.ts) against the official SDK it replaced:
// for every call edgeauth makes, both send the same method, URL, form body, API version and idempotency key
// (captured at the fetch boundary); both retry the same failures once; and the webhook check agrees with the
// SDK's constructEventAsync on signatures the SDK made.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  createStripeApi,
  isInvalidRequest,
  STRIPE_API_VERSION,
  StripeApiError,
  StripeConnectionError,
  verifyStripeSignature,
} from '../../src/services/billing/stripe-api';

interface Sent {
  method: string;
  url: string;
  body: string | undefined;
  version: string | null;
  idempotencyKey: string | null;
  authorization: string | null;
}

type Answer = () => Response | Promise<Response>;
const ok: Answer = () => Response.json({ id: 'obj_1', object: 'thing', data: [], has_more: false });

/** A fetch that records each request and answers with the next of `answers` (the last one repeats). */
function recorder(answers: Answer[] = [ok]) {
  const sent: Sent[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const headers = request.headers;
    sent.push({
      method: request.method,
      url: request.url,
      body:
        request.method === 'GET' || request.method === 'DELETE'
          ? undefined
          : new TextDecoder().decode(await request.arrayBuffer()),
      version: headers.get('stripe-version'),
      idempotencyKey: headers.get('idempotency-key'),
      authorization: headers.get('authorization'),
    });
    const answer = answers[Math.min(sent.length - 1, answers.length - 1)]!;
    return answer();
  };
  return { sent, fetcher };
}

const KEY = 'sk_test_123';

function both(answers?: Answer[]) {
  const ours = recorder(answers);
  const theirs = recorder(answers);
  return {
    ours: { sent: ours.sent, api: createStripeApi({ secretKey: KEY, fetch: ours.fetcher }) },
    sdk: {
      sent: theirs.sent,
      api: new Stripe(KEY, {
        httpClient: Stripe.createFetchHttpClient(theirs.fetcher),
        maxNetworkRetries: 1,
      }),
    },
  };
}

const metadata = { user_id: 'u_1', plan_id: 'p_1' };
/** Every call the Worker makes, with parameters of the shapes it sends (nested objects, arrays, null). */
const CALLS: [string, (api: ReturnType<typeof createStripeApi> | Stripe) => Promise<unknown>][] = [
  [
    'customers.create',
    (api) =>
      api.customers.create(
        { email: 'a+b@example.com', name: 'Ann & Bob', metadata: { user_id: 'u_1' } },
        { idempotencyKey: 'customer:1' },
      ),
  ],
  [
    'checkout.sessions.create',
    (api) =>
      api.checkout.sessions.create(
        {
          mode: 'subscription',
          customer: 'cus_1',
          client_reference_id: 'u_1',
          line_items: [{ price: 'price_1', quantity: 1 }],
          success_url: 'https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}',
          cancel_url: "https://app.example/billing/cancel?x=(1)*!'",
          metadata,
          subscription_data: { metadata },
        },
        { idempotencyKey: 'checkout:1' },
      ),
  ],
  ['checkout.sessions.retrieve', (api) => api.checkout.sessions.retrieve('cs_test_1')],
  ['checkout.sessions.expire', (api) => api.checkout.sessions.expire('cs_test_1')],
  [
    'billingPortal.sessions.create',
    (api) => api.billingPortal.sessions.create({ customer: 'cus_1', return_url: 'https://app.example/' }),
  ],
  ['subscriptions.retrieve', (api) => api.subscriptions.retrieve('sub_1')],
  [
    'subscriptions.update (plan change)',
    (api) =>
      api.subscriptions.update(
        'sub_1',
        {
          items: [{ id: 'si_1', price: 'price_2' }],
          proration_behavior: 'always_invoice',
          payment_behavior: 'pending_if_incomplete',
          metadata,
        },
        { idempotencyKey: 'upgrade:1' },
      ),
  ],
  [
    'subscriptions.update (cancel at period end)',
    (api) => api.subscriptions.update('sub_1', { cancel_at_period_end: true }, { idempotencyKey: 'k' }),
  ],
  [
    'subscriptions.cancel',
    (api) => api.subscriptions.cancel('sub_1', { prorate: false }, { idempotencyKey: 'cancel-now:sub_1' }),
  ],
  ['invoices.retrieve', (api) => api.invoices.retrieve('in_1')],
  [
    'invoices.createPreview',
    (api) =>
      api.invoices.createPreview({
        customer: 'cus_1',
        subscription: 'sub_1',
        subscription_details: {
          items: [{ id: 'si_1', price: 'price_2' }],
          proration_behavior: 'always_invoice',
          proration_date: 1_790_000_000,
        },
      }),
  ],
  ['invoicePayments.list', (api) => api.invoicePayments.list({ invoice: 'in_1', limit: 10 })],
  [
    'refunds.create',
    (api) =>
      api.refunds.create(
        { payment_intent: 'pi_1', metadata: { subscription: 'sub_1' } },
        { idempotencyKey: 'refund:pi_1' },
      ),
  ],
  [
    'prices.create',
    (api) =>
      api.prices.create(
        { product: 'prod_1', unit_amount: 1999, currency: 'usd', recurring: { interval: 'month' } },
        { idempotencyKey: 'price:1' },
      ),
  ],
  [
    'prices.update',
    (api) => api.prices.update('price/1 ?', { active: false }, { idempotencyKey: 'archive:1' }),
  ],
  [
    'products.create',
    (api) =>
      api.products.create(
        { name: 'Pro — “monthly”', description: 'ü ✓', metadata: { plan_id: 'p_1' } },
        { idempotencyKey: 'product:1' },
      ),
  ],
  [
    'products.update',
    (api) =>
      api.products.update(
        'prod_1',
        { name: 'Pro', description: null as unknown as string },
        { idempotencyKey: 'x' },
      ),
  ],
];

describe('requests: what the SDK would send', () => {
  it.each(CALLS)('%s', async (_name, call) => {
    const { ours, sdk } = both();
    await call(ours.api);
    await call(sdk.api);
    expect(ours.sent).toHaveLength(1);
    expect(sdk.sent).toHaveLength(1);
    const [mine] = ours.sent;
    const [reference] = sdk.sent;
    expect(mine!.method).toBe(reference!.method);
    expect(mine!.url).toBe(reference!.url);
    expect(mine!.body).toBe(reference!.body);
    expect(mine!.version).toBe(reference!.version);
    expect(mine!.version).toBe(STRIPE_API_VERSION);
    expect(mine!.authorization).toBe(`Bearer ${KEY}`);
    // The caller's key is sent as given; a POST without one gets a fresh key (the SDK does the same).
    if (reference!.idempotencyKey?.startsWith('stripe-node-retry-')) {
      expect(mine!.idempotencyKey).toMatch(/^edgeauth-retry-[0-9a-f-]{36}$/);
    } else {
      expect(mine!.idempotencyKey).toBe(reference!.idempotencyKey);
    }
  });
});

const failure =
  (status: number, error: object, headers: Record<string, string> = {}) =>
  () =>
    Response.json({ error }, { status, headers });

describe('retries and failures, as the SDK', () => {
  it.each([
    ['a 500', [failure(500, { type: 'api_error', message: 'boom' }), ok], 2],
    ['a 409 lock timeout', [failure(409, { type: 'invalid_request_error', code: 'lock_timeout' }), ok], 2],
    [
      'Stripe-Should-Retry: true on a 400',
      [failure(400, { type: 'x' }, { 'stripe-should-retry': 'true' }), ok],
      2,
    ],
    [
      'Stripe-Should-Retry: false on a 500',
      [failure(500, { type: 'api_error' }, { 'stripe-should-retry': 'false' }), ok],
      1,
    ],
    ['a 400', [failure(400, { type: 'invalid_request_error', code: 'parameter_invalid' }), ok], 1],
  ] as const)(
    '%s: the same number of attempts, with the same idempotency key',
    async (_name, answers, attempts) => {
      const { ours, sdk } = both([...answers]);
      const call = (api: ReturnType<typeof createStripeApi> | Stripe) =>
        api.subscriptions.update('sub_1', { cancel_at_period_end: true }, { idempotencyKey: 'key-1' });
      const outcome = async (run: () => Promise<unknown>) =>
        run().then(
          () => 'resolved',
          () => 'rejected',
        );
      const [mine, reference] = [await outcome(() => call(ours.api)), await outcome(() => call(sdk.api))];
      expect(mine).toBe(reference);
      expect(ours.sent).toHaveLength(attempts);
      expect(sdk.sent).toHaveLength(attempts);
      expect(new Set(ours.sent.map((s) => s.idempotencyKey))).toEqual(new Set(['key-1']));
    },
  );

  it('turns an error answer into a StripeApiError with its type, code and status', async () => {
    const { ours } = both([
      failure(404, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: 'No such subscription',
      }),
    ]);
    const error = await ours.api.subscriptions.retrieve('sub_gone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StripeApiError);
    expect(error).toMatchObject({
      statusCode: 404,
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: 'No such subscription',
    });
    expect(isInvalidRequest(error, 'resource_missing')).toBe(true);
    expect(isInvalidRequest(error, 'charge_already_refunded')).toBe(false);
  });

  it('an unreadable error body is still a StripeApiError (api_error), not a crash', async () => {
    const { ours } = both([() => new Response('<html>bad gateway</html>', { status: 502 })]);
    const error = await ours.api.invoices.retrieve('in_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StripeApiError);
    expect(error).toMatchObject({ statusCode: 502, type: 'api_error' });
  });

  it('no answer at all: retried once, then a StripeConnectionError', async () => {
    const { ours } = both([
      () => {
        throw new TypeError('Network connection lost.');
      },
    ]);
    const error = await ours.api.checkout.sessions.expire('cs_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StripeConnectionError);
    expect(ours.sent).toHaveLength(2);
    expect(ours.sent[0]!.idempotencyKey).toBe(ours.sent[1]!.idempotencyKey);
  });
});

describe('webhook signatures: the same decisions as the SDK', () => {
  const sdk = new Stripe(KEY, { httpClient: Stripe.createFetchHttpClient() });
  const crypto = Stripe.createSubtleCryptoProvider();
  const secret = 'whsec_test_secret';
  const payload = JSON.stringify({
    id: 'evt_1',
    object: 'event',
    type: 'invoice.paid',
    data: { object: {} },
  });
  const now = Math.floor(Date.now() / 1000);
  const sign = (options: { payload?: string; secret?: string; timestamp?: number }) =>
    sdk.webhooks.generateTestHeaderStringAsync({
      payload: options.payload ?? payload,
      secret: options.secret ?? secret,
      timestamp: options.timestamp ?? now,
      cryptoProvider: crypto,
    });

  const cases: [string, () => Promise<{ body: string; header: string }>][] = [
    ['a fresh signature', async () => ({ body: payload, header: await sign({}) })],
    ['four minutes old', async () => ({ body: payload, header: await sign({ timestamp: now - 240 }) })],
    ['ten minutes old', async () => ({ body: payload, header: await sign({ timestamp: now - 600 }) })],
    ['an hour ahead', async () => ({ body: payload, header: await sign({ timestamp: now + 3600 }) })],
    ['another secret', async () => ({ body: payload, header: await sign({ secret: 'whsec_other' }) })],
    [
      'a changed body',
      async () => ({ body: payload.replace('invoice.paid', 'invoice.void'), header: await sign({}) }),
    ],
    [
      'two v1 while rolling the secret, one valid',
      async () => {
        const good = await sign({});
        const bad = await sign({ secret: 'whsec_old' });
        return { body: payload, header: `${bad},${good.split(',')[1]}` };
      },
    ],
    ['only a v0 signature', async () => ({ body: payload, header: (await sign({})).replace('v1=', 'v0=') })],
    ['no timestamp', async () => ({ body: payload, header: (await sign({})).split(',')[1]! })],
    ['garbage', async () => ({ body: payload, header: 'not a signature' })],
  ];

  it.each(cases)('%s', async (_name, make) => {
    const { body, header } = await make();
    const decide = async (run: () => Promise<unknown>) =>
      run().then(
        (event) => ({ accepted: true, id: (event as { id: string }).id }),
        () => ({ accepted: false }),
      );
    const mine = await decide(() => verifyStripeSignature(body, header, secret));
    const reference = await decide(() =>
      sdk.webhooks.constructEventAsync(body, header, secret, undefined, crypto),
    );
    expect(mine).toEqual(reference);
  });

  it('accepts what the SDK signs and refuses what it refuses (sanity of the table above)', async () => {
    await expect(verifyStripeSignature(payload, await sign({}), secret)).resolves.toMatchObject({
      id: 'evt_1',
    });
    await expect(
      verifyStripeSignature(payload, await sign({ timestamp: now - 600 }), secret),
    ).rejects.toThrow();
  });
});
