// The billing half of the API, mounted at BILLING_PREFIX by app.ts: plans, subscriptions, the webhook.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { planRoutes } from './plans';
import { subscriptionRoutes } from './subscriptions';
import { WEBHOOK_ROUTE, webhookRoutes } from './webhook';

export const BILLING_PREFIX = '/billing';
export const WEBHOOK_PATH = BILLING_PREFIX + WEBHOOK_ROUTE;

export const billingRoutes = new OpenAPIHono<AppEnv>()
  .route('/', planRoutes)
  .route('/', subscriptionRoutes)
  .route('/', webhookRoutes);
