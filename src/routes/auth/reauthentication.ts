// POST /reauthenticate: step-up for the current session. The work is in services/auth/reauthentication.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { authOf, requireAuth } from '../../middleware/auth';
import { rateLimit, signedInUser } from '../../middleware/rate-limit';
import { reauthenticateWithPasskey } from '../../services/auth/passkeys';
import { reauthenticate } from '../../services/auth/reauthentication';
import { bearerSecurity, jsonBody, jsonResponse } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses } from '../openapi/problem-schema';
import { ReauthenticatedSchema, ReauthenticateSchema } from './schemas';

const reauthenticateRoute = createRoute({
  method: 'post',
  path: '/reauthenticate',
  tags: ['Account'],
  summary: 'Confirm it is you, for the sensitive actions that need a recent authentication',
  description:
    'With the password, a code from POST /request/login-code, or a passkey assertion (`response`, over ' +
    'options from POST /reauthenticate/options). Marks this session freshly authenticated: ' +
    'second-factor changes, password change and deactivation answer 403 REAUTHENTICATION_REQUIRED when ' +
    'the last sign-in or reauthentication is older than REAUTH_MAX_AGE_SECONDS (600 by default).',
  security: bearerSecurity,
  middleware: [requireAuth(), rateLimit('reauthenticate', signedInUser)] as const,
  request: { body: jsonBody(ReauthenticateSchema) },
  responses: {
    200: jsonResponse(ReauthenticatedSchema, 'This session is freshly authenticated'),
    ...problemResponses(
      ...AUTH_ERRORS,
      'INCORRECT_PASSWORD',
      'INVALID_LOGIN_CODE',
      'PASSKEY_REJECTED',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const reauthenticationRoutes = new OpenAPIHono<AppEnv>().openapi(reauthenticateRoute, async (c) => {
  const body = c.req.valid('json');
  const s = c.var.services;
  const at = body.response
    ? await reauthenticateWithPasskey(s, authOf(c), body.response)
    : await reauthenticate(
        s,
        authOf(c),
        body.code === undefined ? { password: body.password ?? '' } : { code: body.code },
      );
  return c.json(
    { authenticated_at: at.toISOString(), valid_for_seconds: c.var.services.config.REAUTH_MAX_AGE_SECONDS },
    200,
  );
});
