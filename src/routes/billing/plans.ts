// The plan catalogue: public reads, admin-only writes that keep Stripe and the database in step.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { requireAuth } from '../../middleware/auth';
import { requireAdmin } from '../../middleware/billing';
import { getPlan, listActivePlans, toPublicPlan } from '../../services/billing/plan-catalog';
import { createPlan, retirePlan, updatePlan } from '../../services/billing/plans';
import { bearerSecurity, jsonBody, jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses, STRIPE_ERRORS, VERIFIED_AUTH_ERRORS } from '../openapi/problem-schema';
import { PlanCreateSchema, PlanPatchSchema, PlanSchema } from './schemas';

const ADMIN_ERRORS = [...VERIFIED_AUTH_ERRORS, 'ADMIN_REQUIRED'] as const;
const adminOnly = () => [requireAuth({ verified: true }), requireAdmin()];
const PlanIdParams = z.object({ id: z.uuid() });

const list = createRoute({
  method: 'get',
  path: '/plans',
  tags: ['Plans'],
  summary: 'Active plans, cheapest first',
  security: noAuthRequired,
  responses: { 200: jsonResponse(z.array(PlanSchema), 'The plan catalogue') },
});

const getOne = createRoute({
  method: 'get',
  path: '/plans/{id}',
  tags: ['Plans'],
  summary: 'One active plan',
  security: noAuthRequired,
  request: { params: PlanIdParams },
  responses: {
    200: jsonResponse(PlanSchema, 'The plan'),
    ...problemResponses('NOT_FOUND', 'VALIDATION_FAILED'),
  },
});

const create = createRoute({
  method: 'post',
  path: '/plans',
  tags: ['Plans'],
  summary: 'Create a plan (admin)',
  description:
    'Creates the Stripe product and a recurring price (monthly or yearly), then the plan. Codes are never reused.',
  security: bearerSecurity,
  middleware: adminOnly(),
  request: { body: jsonBody(PlanCreateSchema) },
  responses: {
    201: jsonResponse(PlanSchema, 'Plan created'),
    ...problemResponses(
      ...ADMIN_ERRORS,
      'MALFORMED_REQUEST',
      'PLAN_CODE_TAKEN',
      'VALIDATION_FAILED',
      ...STRIPE_ERRORS,
    ),
  },
});

const patch = createRoute({
  method: 'patch',
  path: '/plans/{id}',
  tags: ['Plans'],
  summary: 'Change a plan (admin)',
  description:
    'A price, currency or period change creates a new Stripe price and archives the old one; existing ' +
    'subscribers keep their price until they change plan.',
  security: bearerSecurity,
  middleware: adminOnly(),
  request: { params: PlanIdParams, body: jsonBody(PlanPatchSchema) },
  responses: {
    200: jsonResponse(PlanSchema, 'Plan updated'),
    ...problemResponses(
      ...ADMIN_ERRORS,
      'MALFORMED_REQUEST',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
      ...STRIPE_ERRORS,
    ),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/plans/{id}',
  tags: ['Plans'],
  summary: 'Retire a plan (admin)',
  description: 'Soft delete: hidden from the catalogue, its Stripe product and price archived.',
  security: bearerSecurity,
  middleware: adminOnly(),
  request: { params: PlanIdParams },
  responses: {
    204: { description: 'Plan retired' },
    ...problemResponses(...ADMIN_ERRORS, 'NOT_FOUND', 'CONFLICT', 'VALIDATION_FAILED', ...STRIPE_ERRORS),
  },
});

export const planRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => c.json((await listActivePlans(c.var.services)).map(toPublicPlan), 200))
  .openapi(getOne, async (c) =>
    c.json(toPublicPlan(await getPlan(c.var.services, c.req.valid('param').id)), 200),
  )
  .openapi(create, async (c) =>
    c.json(toPublicPlan(await createPlan(c.var.services, c.req.valid('json'))), 201),
  )
  .openapi(patch, async (c) =>
    c.json(toPublicPlan(await updatePlan(c.var.services, c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(remove, async (c) => {
    await retirePlan(c.var.services, c.req.valid('param').id);
    return c.body(null, 204);
  });
