// Flows that go through the user's mailbox: email verification and password reset.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';
import { runAfterResponse } from '../../lib/background';
import { escapeHtml } from '../../lib/html';
import { authOf, requireAuth } from '../../middleware/auth';
import { emailInBody, rateLimit, signedInUser } from '../../middleware/rate-limit';
import { requestPasswordReset, resetPassword } from '../../services/auth/passwords';
import { sendVerificationEmail, verifyEmail } from '../../services/auth/registration';
import { bearerSecurity, jsonBody, jsonResponse, MessageSchema, noAuthRequired } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponse, problemResponses } from '../openapi/problem-schema';
import { htmlPage, wantsHtml } from '../pages';
import { EmailOnlySchema, NewPasswordSchema, TokenQuerySchema } from './schemas';

export const RESET_REQUESTED = 'If an account with this email exists, a password reset link has been sent.';

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

const forget = createRoute({
  method: 'post',
  path: '/forget-password',
  tags: ['Password reset'],
  summary: 'Email a password reset link',
  security: noAuthRequired,
  description:
    'Always answers 202 with the same body, whether or not an account exists; the lookup and the email ' +
    'happen after the response, so its timing does not tell either.',
  middleware: [rateLimit('forget-password', emailInBody)] as const,
  request: { body: jsonBody(EmailOnlySchema) },
  responses: {
    202: jsonResponse(MessageSchema, 'Accepted'),
    ...problemResponses('MALFORMED_REQUEST', 'VALIDATION_FAILED', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const newPassword = createRoute({
  method: 'post',
  path: '/new-password',
  tags: ['Password reset'],
  summary: 'Set a new password with the emailed reset token',
  security: noAuthRequired,
  description:
    'The token works once. The email counts as verified afterwards, and every session is signed out.',
  middleware: [rateLimit('new-password')] as const,
  request: { body: jsonBody(NewPasswordSchema) },
  responses: {
    200: jsonResponse(MessageSchema, 'Password set; every session revoked; notice emailed'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'INVALID_EMAIL_TOKEN',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const emailFlowRoutes = new OpenAPIHono<AppEnv>()
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
  })
  .openapi(forget, (c) => {
    const { email } = c.req.valid('json');
    runAfterResponse(c.var.services.ctx, 'password reset email', () =>
      requestPasswordReset(c.var.services, email),
    );
    return c.json({ message: RESET_REQUESTED }, 202);
  })
  .openapi(newPassword, async (c) => {
    await resetPassword(c.var.services, c.req.valid('json'));
    return c.json({ message: 'Password has been changed successfully' }, 200);
  });
