// The billing half of the API under /billing.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { planRoutes } from './plans';
import { subscriptionRoutes } from './subscriptions';
import { webhookRoutes } from './webhook';

export const billingRoutes = new OpenAPIHono<AppEnv>()
  .route('/', planRoutes)
  .route('/', subscriptionRoutes)
  .route('/', webhookRoutes);
