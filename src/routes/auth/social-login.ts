// Google and GitHub sign-in: GET /{provider}/login redirects to the provider; the provider sends the
// browser back to /auth/social/callback/{provider}, which signs in and redirects to the front end
// (or answers like /login when no FRONTEND_URL is configured).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env';
import { clearOAuthCookie, readOAuthCookie, setOAuthCookie } from '../../lib/cookies';
import type { ProviderName } from '../../services/oauth/providers';
import { completeOAuth, OAUTH_COOKIE_TTL_SECONDS, startOAuth } from '../../services/oauth/social-login';
import { jsonResponse, noAuthRequired } from '../openapi/helpers';
import { problemResponses } from '../openapi/problem-schema';
import { SignInResultSchema } from './schemas';
import { clientInfo, signInBody } from './session-response';

const PROVIDERS: { name: ProviderName; label: string }[] = [
  { name: 'google', label: 'Google' },
  { name: 'github', label: 'GitHub' },
];

const loginRoute = (name: ProviderName, label: string) =>
  createRoute({
    method: 'get',
    path: `/${name}/login`,
    tags: ['Social sign-in'],
    summary: `Start signing in with ${label}`,
    security: noAuthRequired,
    description:
      `Redirects to ${label}. The flow state${name === 'google' ? ', PKCE verifier and nonce' : ''} ` +
      'travel in a sealed, httpOnly cookie that lives 10 minutes. `redirect_to` must point to the front end.',
    request: { query: z.object({ redirect_to: z.string().max(2048).optional() }) },
    responses: {
      302: { description: `Redirect to ${label}` },
      ...problemResponses('INVALID_REDIRECT', 'VALIDATION_FAILED', 'FEATURE_NOT_CONFIGURED'),
    },
  });

const callbackRoute = (name: ProviderName, label: string) =>
  createRoute({
    method: 'get',
    path: `/auth/social/callback/${name}`,
    tags: ['Social sign-in'],
    summary: `${label} sends the browser back here`,
    security: noAuthRequired,
    description:
      'Checks the state (once), exchanges the code, and signs in, creating the account if needed. ' +
      'An existing account with the same email is linked when the provider verified the email; if the ' +
      "account's own email was unverified, its earlier sessions end and its password is dropped. " +
      'With FRONTEND_URL configured the answer is a redirect there (the refresh cookie is set; call ' +
      '/refresh-token for an access token); otherwise the body is the same as /login. For an account with ' +
      'TOTP on, no session starts: the redirect carries `#mfa_token=…` in its fragment (never sent to a ' +
      'server) for POST /login/mfa, or the body is the second-factor challenge.',
    request: {
      query: z.object({
        code: z.string().max(2048).optional(),
        state: z.string().max(512).optional(),
        error: z.string().max(256).optional(),
        error_description: z.string().max(2048).optional(),
      }),
    },
    responses: {
      200: jsonResponse(
        SignInResultSchema,
        'Signed in, or the second-factor challenge (no FRONTEND_URL configured)',
      ),
      302: { description: 'Signed in; redirect to the front end' },
      ...problemResponses(
        'OAUTH_CALLBACK_INVALID',
        'OAUTH_DENIED',
        'OAUTH_EXCHANGE_FAILED',
        'OAUTH_EMAIL_NOT_VERIFIED',
        'ACCOUNT_DISABLED',
        'OAUTH_ACCOUNT_EXISTS',
        'VALIDATION_FAILED',
        'PROVIDER_ERROR',
        'DEPENDENCY_UNAVAILABLE',
        'FEATURE_NOT_CONFIGURED',
      ),
    },
  });

async function callback(c: Context<AppEnv>, name: ProviderName, query: Record<string, string | undefined>) {
  const { config } = c.var.services;
  const cookie = readOAuthCookie(c);
  // The flow cookie is single use whatever the outcome.
  clearOAuthCookie(c, config);
  const { grant, redirectTo } = await completeOAuth(c.var.services, name, query, cookie, clientInfo(c));
  const body = signInBody(c, grant);
  const target = redirectTo ?? config.FRONTEND_URL;
  if (!target) return c.json(body, 200);
  if (!('mfa_token' in body)) return c.redirect(target, 302);
  const next = new URL(target);
  next.hash = new URLSearchParams({ mfa_token: body.mfa_token, methods: body.methods.join(',') }).toString();
  return c.redirect(next.toString(), 302);
}

export const socialLoginRoutes = PROVIDERS.reduce(
  (app, { name, label }) =>
    app
      .openapi(loginRoute(name, label), async (c) => {
        const { url, cookie } = await startOAuth(c.var.services, name, c.req.valid('query').redirect_to);
        setOAuthCookie(c, c.var.services.config, cookie, OAUTH_COOKIE_TTL_SECONDS);
        return c.redirect(url, 302);
      })
      .openapi(callbackRoute(name, label), (c) => callback(c, name, c.req.valid('query'))),
  new OpenAPIHono<AppEnv>(),
);
