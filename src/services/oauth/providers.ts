// Google and GitHub sign-in behind one small interface. Arctic (deprecated upstream in 2026) is used only
// through its generic OAuth2Client, with every endpoint from config, so it can be swapped out here alone.
import {
  ArcticFetchError,
  CodeChallengeMethod,
  decodeIdToken,
  OAuth2Client,
  OAuth2RequestError,
} from 'arctic';
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { DeadlineExceededError, withDeadline } from '../../lib/deadline';
import { log } from '../../lib/log';
import { describeError } from '../../lib/log-error';

export type ProviderName = 'google' | 'github';

export interface ProviderProfile {
  providerUserId: string;
  /** Null when the provider has no verified address for the account. */
  email: string | null;
  emailVerified: boolean;
  usernameHint: string;
}

export interface AuthorizationRequest {
  state: string;
  codeVerifier: string;
  nonce: string;
}

export interface OAuthProvider {
  name: ProviderName;
  label: string;
  usesPkce: boolean;
  authorizationUrl(request: AuthorizationRequest): URL;
  /** Exchanges the code and reads the profile; provider failures become 4xx/5xx AppErrors. */
  signIn(code: string, request: AuthorizationRequest): Promise<ProviderProfile>;
}

type OAuthConfig = Pick<
  Config,
  | 'APP_URL'
  | 'OAUTH_PROVIDER_TIMEOUT_MS'
  | 'GOOGLE_CLIENT_ID'
  | 'GOOGLE_CLIENT_SECRET'
  | 'GOOGLE_REDIRECT_URI'
  | 'GOOGLE_AUTH_URL'
  | 'GOOGLE_TOKEN_URL'
  | 'GOOGLE_USERINFO_URL'
  | 'GITHUB_CLIENT_ID'
  | 'GITHUB_CLIENT_SECRET'
  | 'GITHUB_REDIRECT_URI'
  | 'GITHUB_AUTHORIZE_URL'
  | 'GITHUB_TOKEN_URL'
  | 'GITHUB_USER_API'
  | 'GITHUB_EMAILS'
>;

/** Runs a provider call with a deadline and turns every way it can fail into a clear problem. */
async function talkTo<T>(label: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(work(), timeoutMs);
  } catch (error) {
    if (error instanceof AppError) throw error;
    log('warn', 'oauth provider failed', {
      provider: label,
      error: describeError(error, { dependency: 'oauth' }),
    });
    if (error instanceof OAuth2RequestError) {
      throw new AppError('OAUTH_EXCHANGE_FAILED', `${label} rejected the sign-in (${error.code})`);
    }
    if (error instanceof ArcticFetchError || error instanceof DeadlineExceededError) {
      throw new AppError('DEPENDENCY_UNAVAILABLE', `${label} is temporarily unavailable`);
    }
    throw new AppError('PROVIDER_ERROR', `${label} returned an invalid response`);
  }
}

async function getJson(label: string, url: string, accessToken: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        // GitHub's API refuses requests without one.
        'user-agent': 'edgeauth',
      },
    });
  } catch {
    throw new AppError('DEPENDENCY_UNAVAILABLE', `${label} is temporarily unavailable`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new AppError('PROVIDER_ERROR', `${label} answered ${response.status}`);
  }
  try {
    return await response.json();
  } catch {
    throw new AppError('PROVIDER_ERROR', `${label} returned invalid JSON`);
  }
}

const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

function google(config: OAuthConfig): OAuthProvider | null {
  if (!config.GOOGLE_CLIENT_ID || !config.GOOGLE_CLIENT_SECRET) return null;
  const client = new OAuth2Client(
    config.GOOGLE_CLIENT_ID,
    config.GOOGLE_CLIENT_SECRET,
    config.GOOGLE_REDIRECT_URI ?? `${config.APP_URL}/auth/social/callback/google`,
  );
  return {
    name: 'google',
    label: 'Google',
    usesPkce: true,
    authorizationUrl({ state, codeVerifier, nonce }) {
      const url = client.createAuthorizationURLWithPKCE(
        config.GOOGLE_AUTH_URL,
        state,
        CodeChallengeMethod.S256,
        codeVerifier,
        ['openid', 'email', 'profile'],
      );
      url.searchParams.set('nonce', nonce);
      return url;
    },
    signIn: (code, { codeVerifier, nonce }) =>
      talkTo('Google', config.OAUTH_PROVIDER_TIMEOUT_MS, async () => {
        const tokens = await client.validateAuthorizationCode(config.GOOGLE_TOKEN_URL, code, codeVerifier);
        // The ID token came straight from the token endpoint over TLS; its nonce ties it to this browser.
        const claims = record(decodeIdToken(tokens.idToken()));
        if (claims.nonce !== nonce)
          throw new AppError('OAUTH_EXCHANGE_FAILED', 'Google sign-in nonce mismatch');
        const info = record(await getJson('Google', config.GOOGLE_USERINFO_URL, tokens.accessToken()));
        if (typeof info.sub !== 'string' || info.sub !== claims.sub) {
          throw new AppError('PROVIDER_ERROR', 'Google returned an inconsistent profile');
        }
        const verified = info.email_verified === true || info.email_verified === 'true';
        return {
          providerUserId: info.sub,
          email: typeof info.email === 'string' && verified ? info.email : null,
          emailVerified: verified,
          usernameHint: String(
            info.name ?? info.given_name ?? String(info.email ?? '').split('@')[0] ?? 'user',
          ),
        };
      }),
  };
}

function github(config: OAuthConfig): OAuthProvider | null {
  if (!config.GITHUB_CLIENT_ID || !config.GITHUB_CLIENT_SECRET) return null;
  const client = new OAuth2Client(
    config.GITHUB_CLIENT_ID,
    config.GITHUB_CLIENT_SECRET,
    config.GITHUB_REDIRECT_URI ?? `${config.APP_URL}/auth/social/callback/github`,
  );
  return {
    name: 'github',
    label: 'GitHub',
    usesPkce: false,
    authorizationUrl: ({ state }) =>
      client.createAuthorizationURL(config.GITHUB_AUTHORIZE_URL, state, ['user:email']),
    signIn: (code) =>
      talkTo('GitHub', config.OAUTH_PROVIDER_TIMEOUT_MS, async () => {
        const tokens = await client.validateAuthorizationCode(config.GITHUB_TOKEN_URL, code, null);
        // GitHub reports a bad code with HTTP 200 and an "error" field.
        const error = record(tokens.data).error;
        if (typeof error === 'string')
          throw new AppError('OAUTH_EXCHANGE_FAILED', `GitHub rejected the sign-in (${error})`);
        const accessToken = tokens.accessToken();
        const [user, emails] = await Promise.all([
          getJson('GitHub', config.GITHUB_USER_API, accessToken),
          getJson('GitHub', config.GITHUB_EMAILS, accessToken),
        ]);
        const profile = record(user);
        if (typeof profile.id !== 'number' && typeof profile.id !== 'string') {
          throw new AppError('PROVIDER_ERROR', 'GitHub returned an invalid profile');
        }
        // Only the primary address, and only if GitHub verified it: never a guessed or unverified one.
        const primary = (Array.isArray(emails) ? emails : []).map(record).find((e) => e.primary === true);
        const verified = primary?.verified === true && typeof primary.email === 'string';
        return {
          providerUserId: String(profile.id),
          email: verified ? (primary.email as string) : null,
          emailVerified: verified,
          usernameHint: String(profile.login ?? 'user'),
        };
      }),
  };
}

export interface OAuthProviders {
  /** The configured provider; 503 FEATURE_NOT_CONFIGURED when its client id or secret is unset. */
  get(name: ProviderName): OAuthProvider;
}

export function createOAuthProviders(config: OAuthConfig): OAuthProviders {
  const configured = { google: google(config), github: github(config) };
  return {
    get(name) {
      const provider = configured[name];
      if (!provider) {
        throw new AppError(
          'FEATURE_NOT_CONFIGURED',
          `${name === 'google' ? 'Google' : 'GitHub'} sign-in is not configured`,
        );
      }
      return provider;
    },
  };
}
