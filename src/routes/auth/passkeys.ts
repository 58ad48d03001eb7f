// Passkeys: registering them (/passkeys/register/options, /passkeys/register), listing and removing
// them, usernameless sign-in (/login/passkey/options, /login/passkey) and the options for a passkey
// reauthentication. The work is in services/auth/passkeys.ts, the WebAuthn checks in webauthn.ts.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { authOf, requireAuth } from '../../middleware/auth';
import { type Identify, PER_IP_FACTOR, rateLimit, signedInUser } from '../../middleware/rate-limit';
import {
  listPasskeys,
  loginOptions,
  loginWithPasskey,
  type PasskeyView,
  reauthenticationOptions,
  registerPasskey,
  registrationOptions,
  removePasskey,
} from '../../services/auth/passkeys';
import { bearerSecurity, jsonBody, jsonResponse, noAuthRequired } from '../openapi/helpers';
import { AUTH_ERRORS, problemResponses, VERIFIED_AUTH_ERRORS } from '../openapi/problem-schema';
import {
  CreationOptionsSchema,
  PasskeyListSchema,
  PasskeyLoginSchema,
  PasskeyRegisterSchema,
  PasskeySchema,
  RequestOptionsSchema,
} from './passkey-schemas';
import { SessionGrantSchema } from './schemas';
import { clientInfo, sessionGrantBody, TRANSPORT_HEADER } from './session-response';

const limited = (name: string) => rateLimit(name, signedInUser);
const BODY_ERRORS = [
  'MALFORMED_REQUEST',
  'VALIDATION_FAILED',
  'RATE_LIMITED',
  'DEPENDENCY_UNAVAILABLE',
] as const;

/** /login/passkey is limited per (IP, credential), as /login is per (IP, email). */
const credentialInBody: Identify = async (c) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const id = (body as { response?: { rawId?: unknown } } | undefined)?.response?.rawId;
  return typeof id === 'string' && id.length <= 1366 ? `passkey:${id.slice(0, 128)}` : undefined;
};

const registerOptions = createRoute({
  method: 'post',
  path: '/passkeys/register/options',
  tags: ['Passkeys'],
  summary: 'Start registering a passkey',
  description:
    'Needs a verified email and a recent authentication. Answers the creation options for ' +
    'navigator.credentials.create(): a discoverable credential with user verification, bound to the ' +
    'relying party PASSKEY_RP_ID (the front end’s host by default), excluding passkeys already registered.',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, recent: true }), limited('passkey-register-options')] as const,
  responses: {
    200: jsonResponse(CreationOptionsSchema, 'Creation options'),
    ...problemResponses(
      ...VERIFIED_AUTH_ERRORS,
      'REAUTHENTICATION_REQUIRED',
      'CONFLICT',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

const register = createRoute({
  method: 'post',
  path: '/passkeys/register',
  tags: ['Passkeys'],
  summary: 'Register the passkey the browser made',
  description:
    'Needs a recent authentication too. Checks the response against the challenge from POST ' +
    '/passkeys/register/options (5 minutes, once), the ' +
    'origin, the RP ID and user verification, then stores the public key. A notice is emailed. Attestation ' +
    'is not asked for and not judged.',
  security: bearerSecurity,
  middleware: [requireAuth({ verified: true, recent: true }), limited('passkey-register')] as const,
  request: { body: jsonBody(PasskeyRegisterSchema) },
  responses: {
    201: jsonResponse(PasskeySchema, 'The new passkey'),
    ...problemResponses(
      ...VERIFIED_AUTH_ERRORS,
      'REAUTHENTICATION_REQUIRED',
      'PASSKEY_REJECTED',
      'CONFLICT',
      ...BODY_ERRORS,
    ),
  },
});

const list = createRoute({
  method: 'get',
  path: '/passkeys',
  tags: ['Passkeys'],
  summary: 'Your passkeys',
  security: bearerSecurity,
  middleware: [requireAuth(), limited('passkey-list')] as const,
  responses: {
    200: jsonResponse(PasskeyListSchema, 'Passkeys, newest first'),
    ...problemResponses(...AUTH_ERRORS, 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/passkeys/{id}',
  tags: ['Passkeys'],
  summary: 'Remove a passkey',
  description:
    'Needs a recent authentication. The passkey stops working, every other session ends (it may be a lost ' +
    'device’s) and a notice is emailed.',
  security: bearerSecurity,
  middleware: [requireAuth({ recent: true }), limited('passkey-remove')] as const,
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    204: { description: 'Removed' },
    ...problemResponses(
      ...AUTH_ERRORS,
      'REAUTHENTICATION_REQUIRED',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'RATE_LIMITED',
      'DEPENDENCY_UNAVAILABLE',
    ),
  },
});

const signInOptions = createRoute({
  method: 'post',
  path: '/login/passkey/options',
  tags: ['Auth'],
  summary: 'Start a passkey sign-in',
  description:
    'No body: the browser offers the passkeys it holds for this site (usernameless), so the answer is the ' +
    'same for everyone and says nothing about any account.',
  security: noAuthRequired,
  middleware: [
    rateLimit('passkey-login-options', undefined, {
      perIp: (config) => config.RATE_LIMIT_MAX * PER_IP_FACTOR,
    }),
  ] as const,
  responses: {
    200: jsonResponse(RequestOptionsSchema, 'Request options'),
    ...problemResponses('RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const signIn = createRoute({
  method: 'post',
  path: '/login/passkey',
  tags: ['Auth'],
  summary: 'Sign in with a passkey',
  description:
    'Takes the assertion over options from POST /login/passkey/options. A passkey verifies the user, so it ' +
    'is a whole sign-in: no second factor is asked for. Answers like /login (tokens and the refresh cookie, ' +
    `or with \`${TRANSPORT_HEADER}: body\` the refresh token in the body). The challenge works once and the ` +
    'signature counter must move forward.',
  security: noAuthRequired,
  middleware: [rateLimit('login-passkey', credentialInBody)] as const,
  request: { body: jsonBody(PasskeyLoginSchema) },
  responses: {
    200: jsonResponse(SessionGrantSchema, 'Signed in; refresh cookie set'),
    ...problemResponses('PASSKEY_REJECTED', 'ACCOUNT_DISABLED', ...BODY_ERRORS),
  },
});

const reauthOptions = createRoute({
  method: 'post',
  path: '/reauthenticate/options',
  tags: ['Account'],
  summary: 'Request options for reauthenticating with a passkey',
  description:
    'Lists your passkeys in allowCredentials; send the assertion to POST /reauthenticate as response.',
  security: bearerSecurity,
  middleware: [requireAuth(), limited('reauthenticate-options')] as const,
  responses: {
    200: jsonResponse(RequestOptionsSchema, 'Request options'),
    ...problemResponses(...AUTH_ERRORS, 'MFA_STATE', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE'),
  },
});

const toJson = (passkey: PasskeyView) => ({
  id: passkey.id,
  name: passkey.name,
  created_at: passkey.createdAt.toISOString(),
  last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
  backed_up: passkey.backedUp,
  transports: passkey.transports,
});

export const passkeyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(registerOptions, async (c) =>
    c.json(await registrationOptions(c.var.services, authOf(c).user), 200),
  )
  .openapi(register, async (c) => {
    const { response, name } = c.req.valid('json');
    const passkey = await registerPasskey(c.var.services, authOf(c).user, response, name ?? 'Passkey');
    return c.json(toJson(passkey), 201);
  })
  .openapi(list, async (c) => {
    const passkeys = await listPasskeys(c.var.services, authOf(c).user.id);
    return c.json({ passkeys: passkeys.map(toJson) }, 200);
  })
  .openapi(remove, async (c) => {
    const { user, sessionId } = authOf(c);
    await removePasskey(c.var.services, user, sessionId, c.req.valid('param').id);
    return c.body(null, 204);
  })
  .openapi(signInOptions, async (c) => c.json(await loginOptions(c.var.services), 200))
  .openapi(signIn, async (c) => {
    const grant = await loginWithPasskey(c.var.services, c.req.valid('json').response, clientInfo(c));
    return c.json(sessionGrantBody(c, grant), 200);
  })
  .openapi(reauthOptions, async (c) => {
    const { user, sessionId } = authOf(c);
    return c.json(await reauthenticationOptions(c.var.services, user, sessionId), 200);
  });
