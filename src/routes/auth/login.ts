// POST /login: signing in with a password. The work is in services/auth/login.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { emailInBody, rateLimit } from '../../middleware/rate-limit';
import { loginWithPassword } from '../../services/auth/login';
import { jsonBody, jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';
import { LoginSchema, SignInResultSchema } from './schemas';
import { clientInfo, signInBody, TRANSPORT_HEADER } from './session-response';

const login = createRoute({
  method: 'post',
  path: '/login',
  tags: ['Auth'],
  summary: 'Sign in with email and password',
  security: noAuthRequired,
  description:
    'Returns an access token and sets the refresh cookie. Native clients that send ' +
    `\`${TRANSPORT_HEADER}: body\` get the refresh token in the body instead of a cookie.`,
  middleware: [rateLimit('login', emailInBody)] as const,
  request: { body: jsonBody(LoginSchema) },
  responses: {
    200: jsonResponse(SignInResultSchema, 'Signed in (refresh cookie set), or the second-factor challenge'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'INVALID_CREDENTIALS',
      'ACCOUNT_DISABLED',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const loginRoutes = new OpenAPIHono<AppEnv>().openapi(login, async (c) => {
  const grant = await loginWithPassword(c.var.services, c.req.valid('json'), clientInfo(c));
  return c.json(signInBody(c, grant), 200);
});
