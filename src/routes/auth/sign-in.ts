// POST /register, POST /login: creating an account and signing in with a password.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { emailInBody, rateLimit } from '../../middleware/rate-limit';
import { registerAccount } from '../../services/auth/registration';
import { loginWithPassword } from '../../services/auth/sign-in';
import { jsonBody, jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';
import { LoginSchema, RegisterSchema, SessionGrantSchema, UserEnvelopeSchema } from './schemas';
import { clientInfo, sessionGrantBody, TRANSPORT_HEADER } from './session-response';

const register = createRoute({
  method: 'post',
  path: '/register',
  tags: ['Auth'],
  summary: 'Create an account',
  security: noAuthRequired,
  description:
    'Creates the account and emails a verification link. If the email is already registered the answer is ' +
    'the same (its owner gets a notice instead), so the response never reveals which emails have accounts.',
  middleware: [rateLimit('register', emailInBody)] as const,
  request: { body: jsonBody(RegisterSchema) },
  responses: {
    201: jsonResponse(UserEnvelopeSchema, 'Account created (or the email owner notified)'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'USERNAME_TAKEN',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

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
    200: jsonResponse(SessionGrantSchema, 'Signed in; refresh cookie set'),
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

export const signInRoutes = new OpenAPIHono<AppEnv>()
  .openapi(register, async (c) => {
    const user = await registerAccount(c.var.services, c.req.valid('json'));
    return c.json({ user }, 201);
  })
  .openapi(login, async (c) => {
    const grant = await loginWithPassword(c.var.services, c.req.valid('json'), clientInfo(c));
    return c.json(sessionGrantBody(c, grant), 200);
  });
