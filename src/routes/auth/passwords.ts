// Passwords: POST /forget-password (email a reset link), POST /new-password (set one with it) and
// POST /change-password (signed in). The work is in services/auth/passwords.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { runAfterResponse } from '../../lib/background';
import { authOf, requireAuth } from '../../middleware/auth';
import { emailInBody, rateLimit, signedInUser } from '../../middleware/rate-limit';
import { changePassword, requestPasswordReset, resetPassword } from '../../services/auth/passwords';
import { bearerSecurity, jsonBody, jsonResponse, MessageSchema, noAuthRequired } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses } from '../openapi/problem-schema';
import { ChangePasswordSchema, EmailOnlySchema, NewPasswordSchema } from './schemas';

export const RESET_REQUESTED = 'If an account with this email exists, a password reset link has been sent.';

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

const change = createRoute({
  method: 'post',
  path: '/change-password',
  tags: ['Account'],
  summary: 'Change the password (signs out your other sessions)',
  security: bearerSecurity,
  middleware: [
    requireAuth({ verified: true, recent: true }),
    rateLimit('change-password', signedInUser),
  ] as const,
  request: { body: jsonBody(ChangePasswordSchema) },
  responses: {
    200: jsonResponse(MessageSchema, 'Password changed; other sessions revoked; notice emailed'),
    ...problemResponses(
      ...AUTH_ERRORS,
      'EMAIL_NOT_VERIFIED',
      'REAUTHENTICATION_REQUIRED',
      'INCORRECT_PASSWORD',
      'CONFLICT',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const passwordRoutes = new OpenAPIHono<AppEnv>()
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
  })
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
  });
