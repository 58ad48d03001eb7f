// The signed-in user's billing: subscribe, change plan (with a proration preview), cancel, resume,
// the customer portal, the current subscription, payments, and the entitlements guarded by the access rule.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';
import { authOf, definePreload, requireAuth } from '../../middleware/auth';
import { preloadSubscription, requireSubscription } from '../../middleware/billing';
import { accessOf } from '../../services/billing/access';
import { subscribe } from '../../services/billing/checkouts';
import {
  changePlan,
  paymentsPageQuery,
  portalUrl,
  previewUpgrade,
  setCancelAtPeriodEnd,
  toPaymentsPage,
  toPublicSubscription,
} from '../../services/billing/subscriptions';
import { bearerSecurity, jsonBody, jsonResponse } from '../openapi/helpers';
import { problemResponses, STRIPE_ERRORS, VERIFIED_AUTH_ERRORS } from '../openapi/problem-schema';
import {
  CheckoutSchema,
  EntitlementsSchema,
  PageQuerySchema,
  PaymentsPageSchema,
  PlanCodeBodySchema,
  PreviewSchema,
  SubscriptionSchema,
} from './schemas';

const USER_ERRORS = VERIFIED_AUTH_ERRORS;
const signedIn = () => [requireAuth({ verified: true })];

/** The page is read with the session check; an invalid query reads nothing and the validator answers 422. */
const preloadPaymentsPage = definePreload((c, userId) => {
  const page = PageQuerySchema.safeParse(c.req.query());
  return page.success ? paymentsPageQuery(c.var.services.db, userId, page.data) : undefined;
});

const me = createRoute({
  method: 'get',
  path: '/subscriptions/me',
  tags: ['Subscriptions'],
  summary: 'The current subscription, with has_access and access_until',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, preload: preloadSubscription })],
  responses: {
    200: jsonResponse(SubscriptionSchema, 'The subscription'),
    ...problemResponses(...USER_ERRORS, 'NOT_FOUND'),
  },
});

const subscribeRoute = createRoute({
  method: 'post',
  path: '/subscriptions/subscribe',
  tags: ['Subscriptions'],
  summary: 'Start a Stripe Checkout for a plan',
  security: bearerSecurity,
  middleware: signedIn(),
  request: { body: jsonBody(PlanCodeBodySchema) },
  responses: {
    201: jsonResponse(CheckoutSchema, 'Open checkout_url in the browser to pay'),
    ...problemResponses(
      ...USER_ERRORS,
      'MALFORMED_REQUEST',
      'NOT_FOUND',
      'SUBSCRIPTION_EXISTS',
      'VALIDATION_FAILED',
      ...STRIPE_ERRORS,
    ),
  },
});

const preview = createRoute({
  method: 'get',
  path: '/subscriptions/upgrade/preview',
  tags: ['Subscriptions'],
  summary: 'What a plan change would cost now (prorated)',
  security: bearerSecurity,
  middleware: signedIn(),
  request: { query: PlanCodeBodySchema },
  responses: {
    200: jsonResponse(PreviewSchema, 'The prorated amount due'),
    ...problemResponses(
      ...USER_ERRORS,
      'NOT_FOUND',
      'SUBSCRIPTION_STATE',
      'VALIDATION_FAILED',
      ...STRIPE_ERRORS,
    ),
  },
});

const upgrade = createRoute({
  method: 'post',
  path: '/subscriptions/upgrade',
  tags: ['Subscriptions'],
  summary: 'Change the plan of the live subscription in place, with proration',
  security: bearerSecurity,
  middleware: signedIn(),
  request: { body: jsonBody(PlanCodeBodySchema) },
  responses: {
    200: jsonResponse(SubscriptionSchema, 'The subscription on its new plan'),
    ...problemResponses(
      ...USER_ERRORS,
      'MALFORMED_REQUEST',
      'NOT_FOUND',
      'SUBSCRIPTION_STATE',
      'VALIDATION_FAILED',
      ...STRIPE_ERRORS,
    ),
  },
});

const cancel = createRoute({
  method: 'post',
  path: '/subscriptions/cancel',
  tags: ['Subscriptions'],
  summary: 'Cancel at the end of the paid period (access continues until then)',
  security: bearerSecurity,
  middleware: signedIn(),
  responses: {
    200: jsonResponse(SubscriptionSchema, 'Set to cancel at period end'),
    ...problemResponses(...USER_ERRORS, 'NOT_FOUND', 'SUBSCRIPTION_STATE', ...STRIPE_ERRORS),
  },
});

const resume = createRoute({
  method: 'post',
  path: '/subscriptions/resume',
  tags: ['Subscriptions'],
  summary: 'Undo a scheduled cancellation before the period ends',
  security: bearerSecurity,
  middleware: signedIn(),
  responses: {
    200: jsonResponse(SubscriptionSchema, 'Renewing again'),
    ...problemResponses(...USER_ERRORS, 'NOT_FOUND', 'SUBSCRIPTION_STATE', ...STRIPE_ERRORS),
  },
});

const portal = createRoute({
  method: 'post',
  path: '/portal',
  tags: ['Subscriptions'],
  summary: 'A Stripe customer-portal session',
  security: bearerSecurity,
  middleware: signedIn(),
  responses: {
    200: jsonResponse(z.object({ url: z.url() }).openapi('PortalSession'), 'Open url in the browser'),
    ...problemResponses(...USER_ERRORS, 'NOT_FOUND', ...STRIPE_ERRORS),
  },
});

const paymentsRoute = createRoute({
  method: 'get',
  path: '/payments/me',
  tags: ['Subscriptions'],
  summary: 'Your payments, newest first',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, preload: preloadPaymentsPage })],
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(PaymentsPageSchema, 'A page of payments'),
    ...problemResponses(...USER_ERRORS, 'VALIDATION_FAILED'),
  },
});

const entitlements = createRoute({
  method: 'get',
  path: '/entitlements',
  tags: ['Subscriptions'],
  summary: 'What the current subscription unlocks (guarded by requireSubscription)',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, preload: preloadSubscription }), requireSubscription()],
  responses: {
    200: jsonResponse(EntitlementsSchema, 'The entitlements'),
    ...problemResponses(...USER_ERRORS, 'SUBSCRIPTION_REQUIRED'),
  },
});

export const subscriptionRoutes = new OpenAPIHono<AppEnv>()
  .openapi(me, async (c) => {
    const { services } = c.var;
    const [current] = preloadSubscription.rowsOf(c);
    if (!current) throw new AppError('NOT_FOUND', 'No subscription found for this user.');
    const access = accessOf(current.subscription, services.clock.now(), services.config.PAST_DUE_GRACE_DAYS);
    return c.json(toPublicSubscription(current.subscription, current.plan, access), 200);
  })
  .openapi(subscribeRoute, async (c) => {
    const checkoutUrl = await subscribe(c.var.services, authOf(c).user, c.req.valid('json').plan_code);
    return c.json({ checkout_url: checkoutUrl }, 201);
  })
  .openapi(preview, async (c) =>
    c.json(await previewUpgrade(c.var.services, authOf(c).user, c.req.valid('query').plan_code), 200),
  )
  .openapi(upgrade, async (c) =>
    c.json(await changePlan(c.var.services, authOf(c).user, c.req.valid('json').plan_code), 200),
  )
  .openapi(cancel, async (c) => c.json(await setCancelAtPeriodEnd(c.var.services, authOf(c).user, true), 200))
  .openapi(resume, async (c) =>
    c.json(await setCancelAtPeriodEnd(c.var.services, authOf(c).user, false), 200),
  )
  .openapi(portal, async (c) => c.json({ url: await portalUrl(c.var.services, authOf(c).user) }, 200))
  .openapi(paymentsRoute, (c) => {
    const page = c.req.valid('query');
    return c.json(toPaymentsPage(preloadPaymentsPage.rowsOf(c).rows, page), 200);
  })
  .openapi(entitlements, (c) => c.json(c.get('entitlement')!, 200));
