// The signed-in user's account: who am I, change password, deactivate.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { clearRefreshCookie } from '../../lib/cookies';
import { authOf, requireAuth } from '../../middleware/auth';
import { rateLimit, signedInUser } from '../../middleware/rate-limit';
import { deactivateAccount } from '../../services/auth/deactivation';
import { changePassword } from '../../services/auth/passwords';
import { toPublicUser } from '../../services/auth/users';
import { bearerSecurity, jsonBody, jsonResponse, MessageSchema } from '../openapi-helpers';
import { AUTH_ERRORS, problemResponses } from '../problem-schema';
import { ChangePasswordSchema, UserEnvelopeSchema } from './schemas';

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['Account'],
  summary: 'The current user',
  security: bearerSecurity,
  middleware: [requireAuth()] as const,
  responses: {
    200: jsonResponse(UserEnvelopeSchema, 'The signed-in user'),
    ...problemResponses(...AUTH_ERRORS),
  },
});

const change = createRoute({
  method: 'post',
  path: '/change-password',
  tags: ['Account'],
  summary: 'Change the password (signs out your other sessions)',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true }), rateLimit('change-password', signedInUser)] as const,
  request: { body: jsonBody(ChangePasswordSchema) },
  responses: {
    200: jsonResponse(MessageSchema, 'Password changed; other sessions revoked; notice emailed'),
    ...problemResponses(
      ...AUTH_ERRORS,
      'EMAIL_NOT_VERIFIED',
      'INCORRECT_PASSWORD',
      'CONFLICT',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

const deactivate = createRoute({
  method: 'post',
  path: '/deactivate',
  tags: ['Account'],
  summary: 'Deactivate the account (signs out everywhere)',
  description: 'Unverified accounts may close themselves too.',
  security: bearerSecurity,
  middleware: [requireAuth()] as const,
  responses: {
    200: jsonResponse(MessageSchema, 'Account deactivated; every session revoked; notice emailed'),
    ...problemResponses(...AUTH_ERRORS),
  },
});

export const accountRoutes = new OpenAPIHono<AppEnv>()
  .openapi(me, (c) => c.json({ user: toPublicUser(authOf(c).user, c.var.services.config.ADMIN_EMAILS) }, 200))
  .openapi(change, async (c) => {
    const { user, sessionId } = authOf(c);
    const body = c.req.valid('json');
    await changePassword(c.var.services, {
      user,
      sessionId,
      oldPassword: body.old_password,
      newPassword: body.new_password,
    });
    return c.json({ message: 'Password has been changed successfully' }, 200);
  })
  .openapi(deactivate, async (c) => {
    await deactivateAccount(c.var.services, authOf(c).user);
    clearRefreshCookie(c, c.var.services.config);
    return c.json({ message: 'User deactivated.' }, 200);
  });
