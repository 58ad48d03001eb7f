// POST /billing/stripe/webhook: signature checked on the raw body before anything else; 2xx for
// anything applied, duplicated or ignored, 5xx only when a retry by Stripe can help.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { log } from '../../lib/log';
import { handleWebhookEvent, verifyWebhook } from '../../services/billing/webhooks';
import { jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';

/** Under the /billing mount: the full path is BILLING_PREFIX + this. */
export const WEBHOOK_ROUTE = '/stripe/webhook';

const route = createRoute({
  method: 'post',
  path: WEBHOOK_ROUTE,
  tags: ['Webhooks'],
  summary: 'Stripe webhook endpoint',
  // Authenticated by Stripe-Signature over the raw body, not by a scheme an API client could use.
  security: noAuthRequired,
  description:
    'Verifies Stripe-Signature on the raw body (400 if invalid or older than 5 minutes), refuses a signed ' +
    'but malformed event (400 INVALID_WEBHOOK_EVENT), records the event id so a repeated delivery changes ' +
    "nothing, and applies subscription and invoice events from the subscription's current state at " +
    'Stripe, so arrival order does not matter; an event for a subscription Stripe does not have is ignored.',
  // No request schema on purpose: the raw bytes are what Stripe signed, so nothing may parse them first.
  responses: {
    200: jsonResponse(
      z.object({ received: z.literal(true), outcome: z.enum(['applied', 'duplicate', 'ignored']) }),
      'Event handled',
    ),
    ...problemResponses(
      'INVALID_SIGNATURE',
      'INVALID_WEBHOOK_EVENT',
      'PROVIDER_ERROR',
      'DEPENDENCY_UNAVAILABLE',
      'FEATURE_NOT_CONFIGURED',
    ),
  },
});

export const webhookRoutes = new OpenAPIHono<AppEnv>().openapi(route, async (c) => {
  const raw = await c.req.text();
  const event = await verifyWebhook(c.var.services, raw, c.req.header('stripe-signature'));
  const outcome = await handleWebhookEvent(c.var.services, event);
  log('info', 'stripe event', {
    event_id: event.id,
    type: event.type,
    outcome,
    request_id: c.get('requestId'),
  });
  return c.json({ received: true as const, outcome }, 200);
});
