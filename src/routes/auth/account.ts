// The signed-in user's account: GET /me and POST /deactivate (services/auth/deactivation.ts).
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { clearRefreshCookie } from '../../lib/cookies';
import { authOf, definePreload, requireAuth } from '../../middleware/auth';
import { rateLimit, signedInUser } from '../../middleware/rate-limit';
import { deactivateAccount } from '../../services/auth/deactivation';
import { secondFactorsQuery } from '../../services/auth/second-factors';
import { toPublicUser } from '../../services/auth/users';
import { bearerSecurity, jsonBody, jsonResponse } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses, STRIPE_ERRORS } from '../openapi/problem-schema';
import { DeactivatedSchema, DeactivateSchema, MeSchema } from './schemas';

/** Read in the same round trip as the session check. */
const preloadSecondFactors = definePreload((c, userId) => secondFactorsQuery(c.var.services, userId), {
  cacheAs: 'second-factors',
});

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['Account'],
  summary: 'The current user',
  security: bearerSecurity,
  middleware: [requireAuth({ preload: preloadSecondFactors })] as const,
  responses: {
    200: jsonResponse(MeSchema, 'The signed-in user and their second factors'),
    ...problemResponses(...AUTH_ERRORS),
  },
});

const deactivate = createRoute({
  method: 'post',
  path: '/deactivate',
  tags: ['Account'],
  summary: 'Deactivate the account (signs out everywhere, ends billing)',
  description:
    'Needs the password, or for an account without one a code from POST /request/login-code. A live ' +
    'subscription is cancelled at once (no further charge; the current period is not refunded) and an open ' +
    'Checkout expired, before the account is disabled. Every session, pending link and code ends. An ' +
    'account whose email was never verified is deleted instead, so the address can sign up again. ' +
    'Accounts are restored or erased by support (see the README). Needs a recent authentication.',
  security: bearerSecurity,
  middleware: [requireAuth({ recent: true }), rateLimit('deactivate', signedInUser)] as const,
  request: { body: jsonBody(DeactivateSchema) },
  responses: {
    200: jsonResponse(DeactivatedSchema, 'Account deactivated; every session revoked; notice emailed'),
    ...problemResponses(
      ...AUTH_ERRORS,
      'REAUTHENTICATION_REQUIRED',
      'INCORRECT_PASSWORD',
      'INVALID_LOGIN_CODE',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      ...STRIPE_ERRORS,
    ),
  },
});

export const accountRoutes = new OpenAPIHono<AppEnv>()
  .openapi(me, (c) =>
    c.json(
      {
        user: toPublicUser(authOf(c).user, c.var.services.config.ADMIN_EMAILS),
        mfa: {
          totp: preloadSecondFactors.rowsOf(c)[0]?.totp ?? false,
          passkeys: preloadSecondFactors.rowsOf(c)[0]?.passkeys ?? 0,
        },
      },
      200,
    ),
  )
  .openapi(deactivate, async (c) => {
    const body = c.req.valid('json');
    const proof = body.code === undefined ? { password: body.password ?? '' } : { code: body.code };
    const outcome = await deactivateAccount(c.var.services, authOf(c).user, proof);
    clearRefreshCookie(c, c.var.services.config);
    return c.json(
      {
        message: outcome.deleted ? 'User deleted.' : 'User deactivated.',
        deleted: outcome.deleted,
        subscription_canceled: outcome.canceledPlan !== null,
      },
      200,
    );
  });
