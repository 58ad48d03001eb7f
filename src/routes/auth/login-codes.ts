// Passwordless sign-in: POST /request/login-code emails a 6-digit code; POST /login/code signs in with it.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { runAfterResponse } from '../../lib/background';
import { emailInBody, rateLimit } from '../../middleware/rate-limit';
import { loginWithCode, requestLoginCode } from '../../services/auth/login-codes';
import { jsonBody, jsonResponse, MessageSchema, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';
import { EmailOnlySchema, EmailSchema, SignInResultSchema } from './schemas';
import { clientInfo, signInBody } from './session-response';

export const CODE_REQUESTED = 'If an account with this email exists, a login code has been sent.';

const request = createRoute({
  method: 'post',
  path: '/request/login-code',
  tags: ['Passwordless'],
  summary: 'Email a 6-digit sign-in code',
  security: noAuthRequired,
  description:
    'Always answers 202 with the same body. The code is valid 15 minutes, works once and allows 5 tries. ' +
    'A new code is sent at most once a minute and 5 times an hour per email.',
  middleware: [rateLimit('request-login-code', emailInBody)] as const,
  request: { body: jsonBody(EmailOnlySchema) },
  responses: {
    202: jsonResponse(MessageSchema, 'Accepted'),
    ...problemResponses('MALFORMED_REQUEST', 'VALIDATION_FAILED', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const login = createRoute({
  method: 'post',
  path: '/login/code',
  tags: ['Passwordless'],
  summary: 'Sign in with an emailed code',
  security: noAuthRequired,
  description: 'Answers exactly like /login. Signing in this way also marks the email verified.',
  middleware: [rateLimit('login-code', emailInBody)] as const,
  request: {
    body: jsonBody(
      z
        .object({ email: EmailSchema, code: z.string().regex(/^\d{6}$/, 'The code is 6 digits') })
        .openapi('LoginCodeRequest'),
    ),
  },
  responses: {
    200: jsonResponse(SignInResultSchema, 'Signed in (refresh cookie set), or the second-factor challenge'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'INVALID_LOGIN_CODE',
      'ACCOUNT_DISABLED',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const loginCodeRoutes = new OpenAPIHono<AppEnv>()
  .openapi(request, (c) => {
    const { email } = c.req.valid('json');
    runAfterResponse(c.var.services.ctx, 'login code email', () => requestLoginCode(c.var.services, email));
    return c.json({ message: CODE_REQUESTED }, 202);
  })
  .openapi(login, async (c) => {
    const grant = await loginWithCode(c.var.services, c.req.valid('json'), clientInfo(c));
    return c.json(signInBody(c, grant), 200);
  });
