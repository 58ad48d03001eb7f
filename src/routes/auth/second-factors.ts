// TOTP and recovery codes for the signed-in user: /mfa/totp/setup, /mfa/totp/confirm, DELETE /mfa/totp
// and /mfa/recovery-codes. The work is in services/auth/second-factors.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { authOf, requireAuth } from '../../middleware/auth';
import { rateLimit, signedInUser } from '../../middleware/rate-limit';
import {
  confirmTotp,
  disableTotp,
  regenerateRecoveryCodes,
  setupTotp,
} from '../../services/auth/second-factors';
import { bearerSecurity, jsonBody, jsonResponse } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses, VERIFIED_AUTH_ERRORS } from '../openapi/problem-schema';
import { RecoveryCodesSchema, TotpConfirmSchema, TotpSetupSchema } from './schemas';

const RECENT = 'REAUTHENTICATION_REQUIRED';
const limited = (name: string) => rateLimit(name, signedInUser);

const setup = createRoute({
  method: 'post',
  path: '/mfa/totp/setup',
  tags: ['Second factors'],
  summary: 'Start setting up a TOTP authenticator',
  description:
    'Needs a verified email and a recent authentication. Returns the secret to scan or type into an ' +
    'authenticator app; nothing changes at sign-in until POST /mfa/totp/confirm. A second setup replaces ' +
    'an unconfirmed one; with TOTP already on it is refused (turn it off first).',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, recent: true }), limited('mfa-setup')] as const,
  responses: {
    200: jsonResponse(TotpSetupSchema, 'The new secret, as text, otpauth:// URI and QR code'),
    ...problemResponses(
      ...VERIFIED_AUTH_ERRORS,
      RECENT,
      'MFA_STATE',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

const confirm = createRoute({
  method: 'post',
  path: '/mfa/totp/confirm',
  tags: ['Second factors'],
  summary: 'Turn TOTP on with a code from the new authenticator',
  description:
    'From now on signing in asks for a TOTP code. Every other session ends, a notice is emailed, and ten ' +
    'recovery codes are returned, once.',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true }), limited('mfa-confirm')] as const,
  request: { body: jsonBody(TotpConfirmSchema) },
  responses: {
    200: jsonResponse(RecoveryCodesSchema, 'TOTP is on; the recovery codes'),
    ...problemResponses(
      ...VERIFIED_AUTH_ERRORS,
      'INVALID_MFA_CODE',
      'MFA_STATE',
      'CONFLICT',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

const disable = createRoute({
  method: 'delete',
  path: '/mfa/totp',
  tags: ['Second factors'],
  summary: 'Turn TOTP off',
  description: 'Needs a recent authentication. The recovery codes stop working; a notice is emailed.',
  security: bearerSecurity,
  middleware: [requireAuth({ recent: true }), limited('mfa-disable')] as const,
  responses: {
    204: { description: 'TOTP is off' },
    ...problemResponses(...AUTH_ERRORS, RECENT, 'MFA_STATE', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const recoveryCodes = createRoute({
  method: 'post',
  path: '/mfa/recovery-codes',
  tags: ['Second factors'],
  summary: 'Replace the recovery codes',
  description: 'Needs TOTP on and a recent authentication. The old codes stop working; a notice is emailed.',
  security: bearerSecurity,
  middleware: [requireAuth({ recent: true }), limited('mfa-recovery-codes')] as const,
  responses: {
    200: jsonResponse(RecoveryCodesSchema, 'The new recovery codes'),
    ...problemResponses(...AUTH_ERRORS, RECENT, 'MFA_STATE', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

export const secondFactorRoutes = new OpenAPIHono<AppEnv>()
  .openapi(setup, async (c) => {
    const enrollment = await setupTotp(c.var.services, authOf(c).user);
    return c.json(
      { secret: enrollment.secret, otpauth_url: enrollment.otpauthUrl, qr_svg: enrollment.qrSvg },
      200,
    );
  })
  .openapi(confirm, async (c) => {
    const { user, sessionId } = authOf(c);
    const codes = await confirmTotp(c.var.services, user, sessionId, c.req.valid('json').code);
    return c.json({ recovery_codes: codes }, 200);
  })
  .openapi(disable, async (c) => {
    await disableTotp(c.var.services, authOf(c).user);
    return c.body(null, 204);
  })
  .openapi(recoveryCodes, async (c) => {
    const codes = await regenerateRecoveryCodes(c.var.services, authOf(c).user);
    return c.json({ recovery_codes: codes }, 200);
  });
