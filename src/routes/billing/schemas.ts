// Request and response shapes of the billing routes, as documented in the OpenAPI output.
import { z } from '@hono/zod-openapi';
import { safeText } from '../openapi/helpers';

const PlanCode = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'Use lower-case letters, digits, "_" and "-"')
  .openapi({ example: 'pro-monthly' });
const Tier = z.enum(['free', 'pro', 'vip']);
const Period = z.enum(['monthly', 'yearly']);

const EXAMPLE_PLAN = {
  id: '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
  code: 'pro-monthly',
  name: 'Pro',
  description: 'For growing teams',
  price_cents: 1900,
  currency: 'usd',
  billing_period: 'monthly',
  tier: 'pro',
  features: ['api', 'exports'],
  is_active: true,
};

export const PlanSchema = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price_cents: z.number().int(),
    currency: z.string(),
    billing_period: Period,
    tier: Tier,
    features: z.array(z.string()),
    is_active: z.boolean(),
  })
  .openapi('Plan', { example: EXAMPLE_PLAN });

export const PlanCreateSchema = z
  .object({
    code: PlanCode,
    name: safeText(z.string().trim().min(1).max(100)),
    description: safeText(z.string().max(500)).nullish(),
    price_cents: z.number().int().min(0).max(100_000_000),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'A 3-letter ISO currency code')
      .transform((c) => c.toLowerCase())
      .default('usd'),
    billing_period: Period,
    tier: Tier.default('free'),
    features: z
      .array(safeText(z.string().min(1).max(100)))
      .max(50)
      .default([]),
  })
  .strict()
  .openapi('PlanCreate', {
    example: {
      code: 'pro-monthly',
      name: 'Pro',
      price_cents: 1900,
      currency: 'usd',
      billing_period: 'monthly',
      tier: 'pro',
      features: ['api', 'exports'],
    },
  });

export const PlanPatchSchema = z
  .object({
    name: safeText(z.string().trim().min(1).max(100)),
    description: safeText(z.string().max(500)).nullable(),
    price_cents: z.number().int().min(0).max(100_000_000),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'A 3-letter ISO currency code')
      .transform((c) => c.toLowerCase()),
    billing_period: Period,
    tier: Tier,
    features: z.array(safeText(z.string().min(1).max(100))).max(50),
    is_active: z.boolean(),
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'Change at least one field')
  .openapi('PlanPatch');

export const PlanCodeBodySchema = z
  .object({ plan_code: PlanCode })
  .openapi('PlanCodeRequest', { example: { plan_code: 'pro-monthly' } });

export const SubscriptionSchema = z
  .object({
    id: z.uuid(),
    status: z.string(),
    plan: PlanSchema,
    current_period_start: z.string().nullable(),
    current_period_end: z.string().nullable(),
    cancel_at_period_end: z.boolean(),
    canceled_at: z.string().nullable(),
    has_access: z.boolean(),
    access_until: z.string().nullable(),
  })
  .openapi('Subscription', {
    example: {
      id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
      status: 'active',
      plan: EXAMPLE_PLAN,
      current_period_start: '2026-11-24T12:00:00.000Z',
      current_period_end: '2026-12-24T12:00:00.000Z',
      cancel_at_period_end: false,
      canceled_at: null,
      has_access: true,
      access_until: '2026-12-24T12:00:00.000Z',
    },
  });

export const CheckoutSchema = z
  .object({ checkout_url: z.url() })
  .openapi('Checkout', { example: { checkout_url: 'https://checkout.stripe.com/c/pay/cs_test_a1b2c3' } });

export const PreviewSchema = z
  .object({
    plan: PlanSchema,
    amount_due_cents: z.number().int(),
    currency: z.string(),
    proration_date: z.string(),
    lines: z.array(z.object({ description: z.string().nullable(), amount_cents: z.number().int() })),
  })
  .openapi('UpgradePreview');

export const PaymentsPageSchema = z
  .object({
    data: z.array(
      z.object({
        id: z.uuid(),
        amount_cents: z.number().int(),
        currency: z.string(),
        status: z.enum(['succeeded', 'failed', 'pending', 'refunded']),
        invoice_id: z.string(),
        subscription_id: z.uuid().nullable(),
        created_at: z.string(),
      }),
    ),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    has_more: z.boolean(),
  })
  .openapi('PaymentsPage');

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const EntitlementsSchema = z
  .object({
    plan_code: z.string(),
    tier: Tier,
    features: z.array(z.string()),
    access_until: z.string().nullable(),
  })
  .openapi('Entitlements', {
    example: {
      plan_code: 'pro-monthly',
      tier: 'pro',
      features: ['api', 'exports'],
      access_until: '2026-12-24T12:00:00.000Z',
    },
  });
