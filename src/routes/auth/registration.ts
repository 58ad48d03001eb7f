// Creating an account and proving its mailbox: POST /register, GET /verify (the emailed link) and
// POST /request/verify (a new link). The work is in services/auth/registration.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';
import { escapeHtml } from '../../lib/html';
import { authOf, requireAuth } from '../../middleware/auth';
import { emailInBody, rateLimit, signedInUser } from '../../middleware/rate-limit';
import { registerAccount, sendVerificationEmail, verifyEmail } from '../../services/auth/registration';
import { bearerSecurity, jsonBody, jsonResponse, MessageSchema, noAuthRequired } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponse, problemResponses } from '../openapi/problem-schema';
import { htmlPage, wantsHtml } from '../pages';
import { RegisterSchema, TokenQuerySchema, UserEnvelopeSchema } from './schemas';

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

const invalidLink = problemResponse('INVALID_EMAIL_TOKEN');

const verify = createRoute({
  method: 'get',
  path: '/verify',
  tags: ['Email verification'],
  summary: 'Verify the email address with the emailed token',
  security: noAuthRequired,
  request: { query: TokenQuerySchema },
  description: 'Browsers (Accept: text/html) get a small result page instead of JSON.',
  responses: {
    200: {
      description: 'Email verified',
      content: { 'application/json': { schema: MessageSchema }, 'text/html': { schema: { type: 'string' } } },
    },
    ...problemResponses('VALIDATION_FAILED'),
    400: {
      ...invalidLink,
      description: 'INVALID_EMAIL_TOKEN: the link is invalid, used or expired (browsers get a page)',
      content: { ...invalidLink.content, 'text/html': { schema: { type: 'string' } } },
    },
  },
});

const resend = createRoute({
  method: 'post',
  path: '/request/verify',
  tags: ['Email verification'],
  summary: 'Send a new verification email',
  security: bearerSecurity,
  middleware: [requireAuth(), rateLimit('resend-verification', signedInUser)] as const,
  responses: {
    200: jsonResponse(MessageSchema, 'Already verified: nothing sent'),
    202: jsonResponse(MessageSchema, 'A new verification email is on its way'),
    ...problemResponses(...AUTH_ERRORS, 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

export const registrationRoutes = new OpenAPIHono<AppEnv>()
  .openapi(register, async (c) => {
    const user = await registerAccount(c.var.services, c.req.valid('json'));
    return c.json({ user }, 201);
  })
  .openapi(verify, async (c) => {
    try {
      await verifyEmail(c.var.services, c.req.valid('query').token);
    } catch (error) {
      if (!(error instanceof AppError) || !wantsHtml(c)) throw error;
      return htmlPage(
        c,
        400,
        'This link does not work',
        `<p>${escapeHtml(error.detail)}. Sign in and ask for a new one.</p>`,
      );
    }
    if (wantsHtml(c))
      return htmlPage(c, 200, 'Email verified', '<p>Thanks! Your email address is verified.</p>');
    return c.json({ message: 'Email is verified' }, 200);
  })
  .openapi(resend, async (c) => {
    const { user } = authOf(c);
    if (user.isVerified) return c.json({ message: 'Email is already verified' }, 200);
    await sendVerificationEmail(c.var.services, user);
    return c.json({ message: 'A new verification email has been sent' }, 202);
  });
