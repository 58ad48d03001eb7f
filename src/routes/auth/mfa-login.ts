// POST /login/mfa: the second step of signing in to an account with TOTP on. The work is in
// services/auth/mfa-login.ts.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { sha256Hex } from '../../lib/crypto';
import { type Identify, rateLimit } from '../../middleware/rate-limit';
import { completeSecondFactor } from '../../services/auth/mfa-login';
import { jsonBody, jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';
import { SecondFactorLoginSchema, SessionGrantSchema } from './schemas';
import { clientInfo, sessionGrantBody, TRANSPORT_HEADER } from './session-response';

/** Limited per (IP, challenge) like /login per (IP, email); the challenge is named by a digest, not itself. */
const challengeInBody: Identify = async (c) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const token = (body as { mfa_token?: unknown } | undefined)?.mfa_token;
  if (typeof token !== 'string' || token.length > 128) return undefined;
  return `mfa:${(await sha256Hex(token)).slice(0, 24)}`;
};

const loginMfa = createRoute({
  method: 'post',
  path: '/login/mfa',
  tags: ['Auth'],
  summary: 'Complete a sign-in with a TOTP code or a recovery code',
  security: noAuthRequired,
  description:
    'Takes the mfa_token a sign-in answered with and a code from the authenticator app (or one recovery ' +
    'code). Answers like /login: tokens, the refresh cookie, or with ' +
    `\`${TRANSPORT_HEADER}: body\` the refresh token in the body. A TOTP code works once; the token dies ` +
    'after 5 minutes, 5 tries or one success.',
  middleware: [rateLimit('login-mfa', challengeInBody)] as const,
  request: { body: jsonBody(SecondFactorLoginSchema) },
  responses: {
    200: jsonResponse(SessionGrantSchema, 'Signed in; refresh cookie set'),
    ...problemResponses(
      'MALFORMED_REQUEST',
      'INVALID_MFA_TOKEN',
      'INVALID_MFA_CODE',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

export const mfaLoginRoutes = new OpenAPIHono<AppEnv>().openapi(loginMfa, async (c) => {
  const body = c.req.valid('json');
  const proof = body.code === undefined ? { recoveryCode: body.recovery_code ?? '' } : { code: body.code };
  const grant = await completeSecondFactor(c.var.services, body.mfa_token, proof, clientInfo(c));
  return c.json(sessionGrantBody(c, grant), 200);
});
